"""An anytime plan: the flow relaxation rounded to a whole plan, before any exact search.

A stage's flow places most units whole; the few sibling groups it splits are what the exact
methods of :mod:`.split` and :mod:`.mip` spend their time on. Under a time limit those may not
finish, and a plan must still come back that is as good as cheap methods allow: the flow's
whole units where it put them, and each split group whole in the home that holds most of it
if it has room, else in the cheapest home with room, else unplaced. Its value lies close to the
flow's bound whenever few groups are split, which is what the solver statistics record.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from placering.matching.flow import FlowStage
from placering.matching.state import State

__all__ = ["rounded"]


def rounded(state: State, stage: FlowStage, arcs_of: Sequence[Sequence[int]]) -> list[int]:
    """The arc and unplaced values of a whole plan near ``stage``'s flow (see the module's
    docstring); units forced by earlier stages keep their places. Always a plan of the
    program: it keeps every home within its places and puts every unit in one place."""
    arrays, n_arcs = state.arrays, state.n_arcs
    size, cost = arrays.unit_size, stage.coeff.arc
    base = np.asarray(stage.base, dtype=np.int64)
    placed = np.flatnonzero(base[:n_arcs])
    load = np.bincount(arrays.arc_home[placed], weights=size[arrays.arc_unit[placed]], minlength=len(arrays.home_free))
    room = arrays.home_free - load.astype(np.int64)
    active = np.asarray(state.active, dtype=bool)
    # Each split unit's share of the flow, largest first, read once rather than per unit.
    carried = stage.flow.arc_flow > 0
    share_arcs, shares = stage.flow_arcs[carried], stage.flow.arc_flow[carried]
    order = np.lexsort((-shares, arrays.arc_unit[share_arcs]))
    by_unit: dict[int, list[int]] = {}
    for a in share_arcs[order].tolist():
        by_unit.setdefault(int(arrays.arc_unit[a]), []).append(a)
    for u in sorted(stage.split, key=lambda v: (-int(size[v]), v)):
        cheapest = sorted((a for a in arcs_of[u] if active[a]), key=lambda a: (int(cost[a]), a))
        home = next((a for a in (*by_unit.get(u, ()), *cheapest) if room[arrays.arc_home[a]] >= size[u]), None)
        if home is None:
            base[n_arcs + u] = 1
        else:
            base[home] = 1
            room[arrays.arc_home[home]] -= size[u]
    return base.tolist()
