"""An anytime plan: the flow relaxation rounded to a whole plan, before any exact search.

A stage's flow places most units whole; the few sibling groups it splits are what the exact
methods of :mod:`.split` and :mod:`.mip` spend their time on. Under a time limit those may not
finish, and a plan must still come back that is as good as cheap methods allow: the flow's
whole units where it put them, and each split group whole in the home that holds most of it
if it has room, else in the cheapest home with room. With ``eject``, a group that finds no
room anywhere may take the home holding most of it by moving single children out of it to
other homes with room (their cheapest), rather than stay unplaced; only failing that does it
stay unplaced. Its value lies close to the flow's bound whenever few groups are split, which
is what the solver statistics record.

:func:`reflowed` repairs better, at the price of one more flow: it only decides where the
sibling groups go (each split group whole in the home holding most of it that has room for
it among the groups, the groups the flow keeps whole where it put them) and leaves every single
child to a flow. Single children are always whole in a flow, so that flow is a plan, and the
best one for those groups: a child displaced by a group may move on along a chain of others,
where an ejection moves each child once, to a home with room.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import attrs
import numpy as np

from placering.matching.duals import apply_face, optimal_face, reduced_costs
from placering.matching.flow import FlowStage, flow_stage
from placering.matching.state import Costs, State, copy_state, hold

__all__ = ["reflowed", "rounded"]


def rounded(state: State, stage: FlowStage, arcs_of: Sequence[Sequence[int]], *, eject: bool = False) -> list[int]:
    """The arc and unplaced values of a whole plan near ``stage``'s flow (see the module's
    docstring); units forced by earlier stages keep their places. Always a plan of the
    program: it keeps every home within its places and puts every unit in one place."""
    plan = _Rounding.of(state, stage, arcs_of)
    for u in sorted(stage.split, key=lambda v: (-int(plan.size[v]), v)):
        if not plan.place(u) and not (eject and plan.eject_for(u)):
            plan.base[state.n_arcs + u] = 1
    return plan.base.tolist()


def reflowed(
    state: State,
    stage: FlowStage,
    arcs_of: Sequence[Sequence[int]],
    into: Sequence[Sequence[int]],
    later: Sequence[Costs],
    *,
    deadline: float | None = None,
) -> list[int] | None:
    """The arc and unplaced values of a whole plan near ``stage``'s flow with the sibling groups
    placed and the single children flowed (see the module's docstring); ``None`` when no
    group is split, or the flow with the groups held has no solution (a home proven full that
    the single children cannot fill).

    With the per-flow costs of the ``later`` stages (``into``: each home's arcs), the single
    children are placed lexicographically best for them too, flow by flow on each optimal face:
    a plan that runs out of time in this stage is still good on cost and km. Past ``deadline``
    (a ``time.perf_counter()`` value) the later stages are left as they are.
    """
    if not stage.split:
        return None
    arrays, n_arcs = state.arrays, state.n_arcs
    size = arrays.unit_size
    base = np.asarray(stage.base, dtype=np.int64)
    free = np.zeros(len(size), dtype=bool)
    free[stage.free_units] = True
    group = free & (size > 1)
    # The groups the flow keeps whole stay where it put them (a home or "unplaced").
    placed = np.flatnonzero(base[:n_arcs])
    placed = placed[group[arrays.arc_unit[placed]]]
    where = dict(zip(arrays.arc_unit[placed].tolist(), placed.tolist(), strict=True))
    where.update((u, n_arcs + u) for u in np.flatnonzero(group & (base[n_arcs:] == 1)).tolist())
    # Room for the split groups among the groups only: single children make way in the flow.
    room = arrays.home_free - stage.load
    np.subtract.at(room, arrays.arc_home[placed], size[arrays.arc_unit[placed]])
    rounding = _Rounding.of(state, stage, arcs_of)
    for u in sorted(stage.split, key=lambda v: (-int(size[v]), v)):
        choices = (*rounding.by_share.get(u, ()), *rounding.cheapest(u))
        var = next((a for a in choices if room[rounding.home(a)] >= size[u]), n_arcs + u)
        if var < n_arcs:
            room[rounding.home(var)] -= size[u]
        where[u] = var
    trial = copy_state(state)
    for u, var in where.items():
        hold(trial, u, var, arcs_of)
    flowed = flow_stage(trial, stage.coeff, arcs_of)
    if flowed is None or flowed.split:
        return None
    for coeff in later:
        if deadline is not None and time.perf_counter() > deadline:
            break
        apply_face(trial, optimal_face(trial, reduced_costs(trial, flowed), 0), arcs_of, into)
        after = flow_stage(trial, coeff, arcs_of)
        if after is None or after.split:
            break
        flowed = after
    return flowed.base


@attrs.define
class _Rounding:
    """The plan being rounded: its values, each home's room, and the single children placed
    whole in each home (the ones an ejection may move)."""

    state: State
    arcs_of: Sequence[Sequence[int]]
    base: np.ndarray
    room: np.ndarray
    size: np.ndarray
    cost: np.ndarray
    active: np.ndarray
    by_share: dict[int, list[int]]  # per split unit, its flow arcs, largest share first
    singles: dict[int, list[int]]  # per home, the arcs of free single children placed there

    @classmethod
    def of(cls, state: State, stage: FlowStage, arcs_of: Sequence[Sequence[int]]) -> _Rounding:
        arrays, n_arcs = state.arrays, state.n_arcs
        size = arrays.unit_size
        base = np.asarray(stage.base, dtype=np.int64)
        placed = np.flatnonzero(base[:n_arcs])
        homes = len(arrays.home_free)
        load = np.bincount(arrays.arc_home[placed], weights=size[arrays.arc_unit[placed]], minlength=homes)
        # Each split unit's share of the flow, largest first, read once rather than per unit.
        carried = stage.flow.arc_flow > 0
        share_arcs, shares = stage.flow_arcs[carried], stage.flow.arc_flow[carried]
        order = np.lexsort((-shares, arrays.arc_unit[share_arcs]))
        by_share: dict[int, list[int]] = {}
        for a in share_arcs[order].tolist():
            by_share.setdefault(int(arrays.arc_unit[a]), []).append(a)
        singles: dict[int, list[int]] = {}
        for a in placed.tolist():
            u = int(arrays.arc_unit[a])
            if size[u] == 1 and state.forced[u] is None:
                singles.setdefault(int(arrays.arc_home[a]), []).append(a)
        return cls(
            state=state,
            arcs_of=arcs_of,
            base=base,
            room=arrays.home_free - load.astype(np.int64),
            size=size,
            cost=stage.coeff.arc,
            active=np.asarray(state.active, dtype=bool),
            by_share=by_share,
            singles=singles,
        )

    def home(self, a: int) -> int:
        return int(self.state.arrays.arc_home[a])

    def cheapest(self, u: int) -> list[int]:
        return sorted((a for a in self.arcs_of[u] if self.active[a]), key=lambda a: (int(self.cost[a]), a))

    def put(self, u: int, a: int) -> None:
        self.base[a] = 1
        self.room[self.home(a)] -= self.size[u]

    def place(self, u: int) -> bool:
        """Unit ``u`` whole where most of it is, else in its cheapest home with room."""
        for a in (*self.by_share.get(u, ()), *self.cheapest(u)):
            if self.room[self.home(a)] >= self.size[u]:
                self.put(u, a)
                return True
        return False

    def eject_for(self, u: int) -> bool:
        """Unit ``u`` whole in a home it partly used, by moving single children out of it to
        other homes with room; ``False`` (nothing changed) when no home can be freed so."""
        for a in self.by_share.get(u, ()):
            h = self.home(a)
            short = int(self.size[u] - self.room[h])
            moves = self._moves(h, short)
            if moves is None:
                continue
            for old, new in moves:
                v = int(self.state.arrays.arc_unit[old])
                self.base[old] = 0
                self.room[h] += 1
                self.singles[h].remove(old)
                self.put(v, new)
                self.singles.setdefault(self.home(new), []).append(new)
            self.put(u, a)
            return True
        return False

    def _moves(self, h: int, short: int) -> list[tuple[int, int]] | None:
        """``short`` single children of home ``h`` and, for each, an arc to another home with
        room (their cheapest); ``None`` when there are not enough."""
        moves: list[tuple[int, int]] = []
        taken: dict[int, int] = {}  # places the moves so far use in each home
        for old in self.singles.get(h, ()):
            if len(moves) == short:
                break
            v = int(self.state.arrays.arc_unit[old])
            new = next(
                (b for b in self.cheapest(v) if (g := self.home(b)) != h and self.room[g] - taken.get(g, 0) >= 1),
                None,
            )
            if new is not None:
                moves.append((old, new))
                taken[self.home(new)] = taken.get(self.home(new), 0) + 1
        return moves if len(moves) == short else None
