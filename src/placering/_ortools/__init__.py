"""The solver layer: the only code in placering that imports OR-Tools.

It wraps three engines: CP-SAT (:mod:`.engines`), the min-cost flow (:mod:`.engines`) and SCIP
through the MIP wrapper (:mod:`.mip`). They load on first use, so that reading, validating and
refusing input, and a sweep's worker starting up, never pay for importing OR-Tools.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from placering._ortools.engines import FlowResult, StageModel, StageResult, min_cost_flow, ortools_version
    from placering._ortools.lp import LinearResult, linear_minimum
    from placering._ortools.mip import AssignmentResult, assignment_minimum
    from placering._ortools.stage_mip import StageMIP

__all__ = [
    "AssignmentResult",
    "FlowResult",
    "LinearResult",
    "StageMIP",
    "StageModel",
    "StageResult",
    "assignment_minimum",
    "linear_minimum",
    "min_cost_flow",
    "ortools_version",
]

_MODULE_OF = {
    "AssignmentResult": "mip",
    "FlowResult": "engines",
    "StageMIP": "stage_mip",
    "StageModel": "engines",
    "StageResult": "engines",
    "LinearResult": "lp",
    "linear_minimum": "lp",
    "assignment_minimum": "mip",
    "min_cost_flow": "engines",
    "ortools_version": "engines",
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value
