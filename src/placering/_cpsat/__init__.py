"""The solver layer: the only code in placering that imports OR-Tools."""

from placering._cpsat.engines import (
    FlowResult,
    StageModel,
    StageResult,
    min_cost_flow,
    ortools_version,
)
from placering._cpsat.mip import AssignmentResult, assignment_minimum

__all__ = [
    "AssignmentResult",
    "FlowResult",
    "StageModel",
    "StageResult",
    "assignment_minimum",
    "min_cost_flow",
    "ortools_version",
]
