"""A 0-1 program in plain data: what the solver layer is asked to minimise.

The matching is written as one of these by :mod:`placering.matching.model`; the solver layer
(:mod:`placering._ortools`) turns it into a CP-SAT model. Keeping it plain lets the matching
logic stay free of OR-Tools and lets tests inspect the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from placering.result import StageStats

__all__ = ["BinaryProgram", "LexResult", "LinearTerm"]


@attrs.frozen(kw_only=True)
class LinearTerm:
    """``sum(coeffs[i] * x[vars[i]])``."""

    vars: tuple[int, ...]
    coeffs: tuple[int, ...]

    def evaluate(self, values: Sequence[int]) -> int:
        """The term's value at ``values`` (indexed by variable)."""
        return sum(c * values[v] for v, c in zip(self.vars, self.coeffs, strict=True))


@attrs.frozen(kw_only=True)
class BinaryProgram:
    """Binary variables ``x[0..n_vars)`` under these constraint families.

    - ``exactly_one``: each list of variables has exactly one at 1;
    - ``capacity``: ``sum(coeffs * x[vars]) <= bound`` with non-negative coefficients;
    - ``implications``: ``x[a] <= x[b]`` for each pair ``(a, b)``;
    - ``covers``: ``x[z] <= sum(x[ys])`` for each pair ``(z, ys)``.
    """

    n_vars: int
    exactly_one: tuple[tuple[int, ...], ...]
    capacity: tuple[tuple[LinearTerm, int], ...]
    implications: tuple[tuple[int, int], ...] = ()
    covers: tuple[tuple[int, tuple[int, ...]], ...] = ()


@attrs.frozen(kw_only=True)
class LexResult:
    """The outcome of a lexicographic minimisation over stages.

    ``values`` is the best solution found (always complete). ``proven`` counts the stages
    whose minimum was proven; ``bound`` is the certified lower bound of the first stage that
    was not (``None`` when every stage was proven). ``stage_stats`` says how each stage
    reached was settled; ``engine`` names the solvers.
    """

    values: tuple[int, ...]
    proven: int
    stage_values: tuple[int, ...]
    bound: int | None
    engine: str
    stage_stats: tuple[StageStats, ...] = ()
    #: ``(perf_counter, stage, value, bound)`` whenever the best plan improved or a stage was proven.
    progress: tuple[tuple[float, int, int, int], ...] = ()
