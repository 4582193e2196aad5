"""Solver parameters: time limit, seed and worker count."""

from __future__ import annotations

from typing import Any

import attrs

from placering import _fields as f

__all__ = ["SolveParams"]


@attrs.frozen(kw_only=True)
class SolveParams:
    """How to solve: ``time_limit`` in seconds (``None``: until proven), ``seed``, ``workers``.

    ``strategy`` ``"flow"`` (the default) starts every stage from the min-cost flow relaxation
    and calls CP-SAT only where the flow and its branch and bound cannot settle a stage;
    ``"cp-sat"`` gives every stage to CP-SAT (slower; kept as an independent exact path).
    The same scenario, seed and a single worker give the same plan. With more workers CP-SAT
    searches in parallel; the totals of a proven plan are still the same, the assignment
    behind them may differ.
    """

    __entity__ = "parameters"

    time_limit: float | None = attrs.field(default=None, validator=f.non_negative_number(optional=True))
    seed: int = attrs.field(default=0, validator=f.int_between(0, 2**31 - 1))
    workers: int = attrs.field(default=1, validator=f.int_between(1, 64))
    log: bool = attrs.field(default=False, validator=f.boolean())
    strategy: str = attrs.field(default="flow", validator=f.one_of(("flow", "cp-sat")))

    def replace(self, **changes: Any) -> SolveParams:
        """A copy with the given fields changed, leaving ``None`` values out."""
        return attrs.evolve(self, **{k: v for k, v in changes.items() if v is not None})
