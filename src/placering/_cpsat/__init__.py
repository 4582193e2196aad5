"""The solver layer: the only code in placering that imports OR-Tools."""

from placering._cpsat.engines import FlowResult, StageModel, StageResult, min_cost_flow, ortools_version

__all__ = ["FlowResult", "StageModel", "StageResult", "min_cost_flow", "ortools_version"]
