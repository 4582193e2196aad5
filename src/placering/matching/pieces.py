"""The pieces of a part: what is left of it, independent, after fixing by reduced costs.

A part of the matching (:func:`placering.matching.split.by_part`) is a set of units that
compete for homes over the arcs its stage keeps. Fixing by reduced costs against a plan of
value ``bound + gap`` leaves only the arcs priced within ``gap``, and the part often falls
apart again: on the demo's marginal table, a 290-unit part into pieces of about 175, 60 and
45 units. With the flow's potentials, a plan's excess over the flow is a sum of reduced costs
(each at least 0) over arcs, units and homes, and a piece owns its own (it shares no home with
the rest), so each piece has its own excess and any better plan of it uses only arcs priced
within that, which may split it further. The flow keeps a piece without a split unit whole
and optimal, so only the pieces holding one need a MIP, each smaller than the part.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from placering.exceptions import SolverError
from placering.matching.duals import ReducedCosts, apply_face, optimal_face
from placering.matching.state import State, component

__all__ = ["components_holding", "pieces"]


def pieces(
    state: State,
    rc: ReducedCosts,
    split: set[int],
    gap: int,
    excess: Callable[[set[int]], int],
    arcs_of: Sequence[Sequence[int]],
    into: Sequence[Sequence[int]],
) -> list[set[int]]:
    """The independent pieces of ``state`` that hold a unit of ``split``, narrowing each to the
    arcs priced within ``excess(piece)`` (a plan's value over the piece's units minus the
    flow's) where that is below the ``gap`` ``state`` is fixed for."""
    found: list[set[int]] = []
    todo = [(piece, gap) for piece in components_holding(state, split, arcs_of, into)]
    while todo:
        piece, fixed_for = todo.pop()
        own = excess(piece)
        if own < 0:
            raise SolverError(f"A plan lies {-own} below the flow on a piece of the matching.")
        if own < fixed_for:
            within = np.zeros(len(state.forced), dtype=bool)
            within[list(piece)] = True
            apply_face(state, optimal_face(state, rc, own, within), arcs_of, into)
            todo.extend((smaller, own) for smaller in components_holding(state, split & piece, arcs_of, into))
        else:
            found.append(piece)
    return sorted(found, key=lambda piece: (len(piece), min(piece)))


def components_holding(
    state: State, split: set[int], arcs_of: Sequence[Sequence[int]], into: Sequence[Sequence[int]]
) -> list[set[int]]:
    """The components of ``state``'s free units (units that compete for a home, directly or
    through others) that hold a unit of ``split``."""
    found: list[set[int]] = []
    covered: set[int] = set()
    for u in sorted(split):
        if u not in covered and state.forced[u] is None:
            piece = component(state, u, arcs_of, into)
            covered |= piece
            found.append(piece)
    return found
