"""Settling one independent part of the matching by a MIP per stage (SCIP, in OR-Tools).

Where the flows' searches over split sibling groups do not close (a part too large for them,
or a branch and bound out of budget), SCIP's cutting planes close in one root node the gaps
where a depth-first search over flows is exponential. Each stage's flow still comes first:
its bound is the target, a whole flow needs no MIP, and its reduced costs narrow the next
stage's model to the plans within the stage's gap. Every plan SCIP returns is checked in
integers before it is used.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import attrs
import numpy as np

from placering import _ortools
from placering.exceptions import SolverError
from placering.matching.duals import ReducedCosts, apply_face, optimal_face, reduced_costs
from placering.matching.flow import FlowStage, flow_stage, split_in
from placering.matching.pieces import pieces
from placering.matching.state import Costs, State, copy_state

__all__ = ["by_mip"]


def by_mip(
    state: State,
    coeffs: Sequence[Costs],
    arcs_of: Sequence[Sequence[int]],
    into: Sequence[Sequence[int]],
    units: set[int],
    *,
    deadline: float | None,
    seed: int,
    log: bool,
    weights: Sequence[tuple[int, ...]] | None = None,
    hint: Sequence[int] | None = None,
) -> list[int] | None:
    """The lexicographic optimum of ``units`` (a part of the matching that nothing else competes
    with) over the stages ``coeffs``, by a MIP per stage (:func:`_ortools.assignment_minimum`).

    Each stage's flow still comes first: its bound is the target, a whole flow needs no MIP, and
    its reduced costs narrow the next stage's model to the plans within the stage's gap (to its
    optimal face when the MIP meets the bound). A stage with a gap also stays as a row keeping
    it at its optimum. A ``hint`` that is a plan of the part is the MIP's start; at the flow's
    bound it settles the stage, and above it its value bounds the MIP, which then keeps only
    the arcs priced within its excess. ``weights`` gives each stage's term weights where it
    merges several (see :func:`_ortools.assignment_minimum`). Returns the arc and unplaced
    values of ``units`` (others 0), or ``None`` when a MIP is not proven before ``deadline``.
    """
    if (left := _left(deadline)) is not None and left <= 0:
        return None
    part = _Part.of(state, units, arcs_of, hint)
    for coeff, weight in zip(coeffs, weights or [(1,)] * len(coeffs), strict=True):
        stage = flow_stage(part.node, coeff, arcs_of)
        if stage is None:
            return None
        flow_value = _part_value(part.node, stage, coeff, part.mine)
        rc = reduced_costs(part.node, stage)
        value = _stage_optimum(
            part, stage, coeff, weight, rc, flow_value, arcs_of, into, deadline=deadline, seed=seed, log=log
        )
        if value is None:
            return None
        gap = value - flow_value
        if gap < 0:
            raise SolverError(f"A part's optimum {value} lies below its flow bound {flow_value}.")
        apply_face(part.node, optimal_face(part.node, rc, gap), arcs_of, into)
        if gap > 0:
            part.caps.append((coeff, value))
    return part.plan()


def _stage_optimum(
    part: _Part,
    stage: FlowStage,
    coeff: Costs,
    weights: tuple[int, ...],
    rc: ReducedCosts,
    flow_value: int,
    arcs_of: Sequence[Sequence[int]],
    into: Sequence[Sequence[int]],
    *,
    deadline: float | None,
    seed: int,
    log: bool,
) -> int | None:
    """The part's optimum in one stage, leaving its plan in ``part.choice``; ``None`` when the
    MIP is not proven in time. Where fixing by reduced costs leaves the part in independent
    pieces, each piece gets its own MIP (:meth:`_Part.by_pieces`)."""
    node = part.node
    if not split_in(stage, part.units) and all(
        _part_value(node, stage, kept, part.mine) <= limit for kept, limit in part.caps
    ):
        # The flow keeps the part whole and within every earlier optimum: no MIP needed.
        part.choice = part.flow_choice(stage, -1)
        return flow_value
    upper = part.value_of(node, coeff, part.choice)
    if upper is not None and upper <= flow_value:
        if upper < flow_value:
            raise SolverError(f"A plan of a part has value {upper}, below its flow bound {flow_value}.")
        return upper  # the hint (column generation's last plan) meets the part's bound
    left = _left(deadline)
    if left is not None and left <= 0:
        return None
    if part.choice is None:
        # The flow's whole units where it put them, its split ones left open: the MIP solver
        # then completes the plan in a small sub-problem first.
        part.choice = part.flow_choice(stage, -2)

    def by_pieces(on: State, gap: int | None, *, exists: bool) -> _Settled:
        return part.by_pieces(
            on, stage, rc, gap, coeff, weights, arcs_of, into, deadline, exists=exists, seed=seed, log=log
        )

    # A plan at the flow's bound lies on its optimal face, which has far fewer arcs than the
    # node: look there first, and search the node only if the face has no plan.
    face = copy_state(node)
    apply_face(face, optimal_face(face, rc, 0), arcs_of, into)
    settled = by_pieces(face, 0, exists=False)
    if settled.objective is not None and settled.objective != flow_value:
        raise SolverError(f"A plan on a part's optimal face has value {settled.objective}, not {flow_value}.")
    if settled.infeasible:
        wide, gap = node, None
        if upper is not None:
            # Reduced-cost fixing against the hint: a plan using an arc priced above the hint's
            # excess over the bound is worse than the hint, so only arcs within it stay (on
            # national's second round, the cost stage took 222 s instead of 343 s; km's excess
            # is too wide against its prices to cut much).
            wide, gap = copy_state(node), upper - flow_value
            apply_face(wide, optimal_face(wide, rc, gap), arcs_of, into)
        settled = by_pieces(wide, gap, exists=True)
    if settled.plan is None or settled.objective is None:
        return None
    part.choice = settled.plan
    return settled.objective


@attrs.frozen
class _Settled:
    """A part's (or piece's) proven optimum and its plan as arcs (-1 unplaced), both ``None``
    when not proven; ``infeasible`` when no plan exists where the MIP looked."""

    objective: int | None
    plan: np.ndarray | None
    infeasible: bool


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - time.perf_counter()


@attrs.define
class _Part:
    """One part of the matching while a MIP settles it: its units, their places, the rows
    that keep earlier stages at their optima (``caps``) and the plan so far (``choice``: per
    unit of the part its arc, -1 unplaced, -2 not known)."""

    node: State
    units: set[int]
    mine: np.ndarray  # bool per unit: in the part
    part: np.ndarray  # the part's units, ascending
    local: np.ndarray  # per unit, its index in ``part`` (-1 outside)
    places: np.ndarray  # per home, the places units outside the part leave
    caps: list[tuple[Costs, int]] = attrs.field(factory=list)
    choice: np.ndarray | None = None

    @classmethod
    def of(cls, state: State, units: set[int], arcs_of: Sequence[Sequence[int]], hint: Sequence[int] | None) -> _Part:
        node = copy_state(state)
        arrays, n_arcs = state.arrays, state.n_arcs
        n_units = len(arrays.unit_size)
        mine = np.zeros(n_units, dtype=bool)
        mine[list(units)] = True
        # Units outside the part that are held already use places in its homes.
        held = np.array([u for u in range(n_units) if not mine[u] and node.forced[u] is not None], dtype=np.int64)
        held_vars = np.array([node.forced[u] for u in held.tolist()], dtype=np.int64)
        on_arc = held_vars < n_arcs
        places = arrays.home_free - np.bincount(
            arrays.arc_home[held_vars[on_arc]], weights=arrays.unit_size[held[on_arc]], minlength=len(arrays.home_free)
        ).astype(np.int64)
        part = np.flatnonzero(mine)
        local = np.full(n_units, -1, dtype=np.int64)
        local[part] = np.arange(len(part))
        choice: np.ndarray | None = None
        if hint is not None:
            choice = np.full(len(part), -1, dtype=np.int64)
            for u in part.tolist():
                choice[local[u]] = next((a for a in arcs_of[u] if hint[a]), -1 if hint[n_arcs + u] else -2)
        return cls(node=node, units=units, mine=mine, part=part, local=local, places=places, choice=choice)

    def value_of(self, on: State, coeff: Costs, chosen: np.ndarray | None) -> int | None:
        """``chosen``'s value over the part, if it is a plan of the part in ``on`` that the MIP
        would accept (each unit on an active arc or open unplaced, no home over its places, a
        full home the part reaches exactly full, every cap kept); else ``None``."""
        if chosen is None or np.asarray(chosen < -1, dtype=bool).any():
            return None
        arrays, part = on.arrays, self.part
        placed = chosen >= 0
        arcs, sizes = chosen[placed], arrays.unit_size[part]
        active = np.asarray(on.active, dtype=bool)
        if not (active[arcs].all() and np.asarray(on.unplaced_open, dtype=bool)[part[~placed]].all()):
            return None
        load = np.bincount(arrays.arc_home[arcs], weights=sizes[placed], minlength=len(self.places)).astype(np.int64)
        reached = np.zeros(len(self.places), dtype=bool)
        reached[arrays.arc_home[active & self.mine[arrays.arc_unit]]] = True
        if (load > self.places).any() or (load != self.places)[reached & np.asarray(on.full, dtype=bool)].any():
            return None

        def value(costs: Costs) -> int:
            return int((costs.arc[arcs] * sizes[placed]).sum()) + int(
                (costs.unplaced[part[~placed]] * sizes[~placed]).sum()
            )

        if any(value(kept) > limit for kept, limit in self.caps):
            return None
        return value(coeff)

    def flow_choice(self, stage: FlowStage, fill: int) -> np.ndarray:
        """The arcs of the units the flow keeps whole, ``fill`` for the others."""
        arrays, n_arcs = self.node.arrays, self.node.n_arcs
        chosen = np.full(len(self.part), fill, dtype=np.int64)
        on = np.flatnonzero(np.asarray(stage.base[:n_arcs], dtype=bool) & self.mine[arrays.arc_unit])
        chosen[self.local[arrays.arc_unit[on]]] = on
        return chosen

    def by_pieces(
        self,
        on: State,
        stage: FlowStage,
        rc: ReducedCosts,
        gap: int | None,
        coeff: Costs,
        weights: tuple[int, ...],
        arcs_of: Sequence[Sequence[int]],
        into: Sequence[Sequence[int]],
        deadline: float | None,
        *,
        exists: bool,
        seed: int,
        log: bool,
    ) -> _Settled:
        """The part's optimum on ``on`` (fixed for plans within ``gap`` of the flow), a MIP per
        independent piece that holds a split unit (:func:`placering.matching.pieces.pieces`),
        the flow's plan elsewhere. A cap on an earlier stage ties the pieces together, so with
        caps, or no ``gap`` known, the part is one MIP."""
        if self.caps or gap is None:
            return self.settle(on, coeff, weights, _left(deadline), exists=exists, seed=seed, log=log)
        choice = self.choice

        def excess(piece: set[int]) -> int:
            if gap == 0 or choice is None:
                return gap  # no narrowing: a plan at the bound, or none to narrow against
            mine = np.zeros(len(self.mine), dtype=bool)
            mine[list(piece)] = True
            units = np.flatnonzero(mine)
            kept = choice[self.local[units]]
            per_child = np.where(kept >= 0, coeff.arc[np.maximum(kept, 0)], coeff.unplaced[units])
            return int((per_child * on.arrays.unit_size[units]).sum()) - _part_value(on, stage, coeff, mine)

        split = split_in(stage, self.units)
        found = pieces(on, rc, set(split), gap, excess, arcs_of, into)
        free = sum(1 for u in self.part.tolist() if on.forced[u] is None)
        if len(found) == 1 and len(found[0]) == free:
            return self.settle(on, coeff, weights, _left(deadline), exists=exists, seed=seed, log=log)
        chosen = self.flow_choice(stage, -1)
        chosen[self.local[split]] = -2  # each in a piece, so each set below
        for piece in found:
            sub = _Part.of(on, piece, arcs_of, None)
            if choice is not None:
                sub.choice = choice[self.local[sub.part]]
            on.tally.pieces += 1
            settled = sub.settle(on, coeff, weights, _left(deadline), exists=exists, seed=seed, log=log)
            if settled.plan is None:
                return settled
            chosen[self.local[sub.part]] = settled.plan
        value = self.value_of(on, coeff, chosen)
        if value is None:
            raise SolverError("The plans of a part's pieces do not make a plan of the part.")
        return _Settled(objective=value, plan=chosen, infeasible=False)

    def settle(
        self,
        on: State,
        coeff: Costs,
        weights: tuple[int, ...],
        left: float | None,
        *,
        exists: bool,
        seed: int,
        log: bool,
    ) -> _Settled:
        """The MIP on ``on``'s arcs of the part."""
        arrays, part, n_arcs = on.arrays, self.part, on.n_arcs
        arcs = np.flatnonzero(on.active & self.mine[arrays.arc_unit])
        position = np.full(n_arcs, -2, dtype=np.int64)  # -2: an arc the model no longer has
        position[arcs] = np.arange(len(arcs))
        unplaced_open = np.asarray(on.unplaced_open, dtype=bool)[part]
        tally = on.tally
        tally.mips += 1
        if len(arcs) + int(unplaced_open.sum()) > tally.mip_vars:
            tally.mip_vars = len(arcs) + int(unplaced_open.sum())
            tally.mip_rows = len(part) + len(np.unique(arrays.arc_home[arcs])) + len(self.caps)
        hint = None
        if self.choice is not None:
            hint = np.where(self.choice >= 0, position[np.maximum(self.choice, 0)], self.choice)
        result = _ortools.assignment_minimum(
            unit_size=arrays.unit_size[part],
            arc_unit=self.local[arrays.arc_unit[arcs]],
            arc_home=arrays.arc_home[arcs],
            arc_cost=coeff.arc[arcs],
            unplaced_cost=coeff.unplaced[part],
            unplaced_open=unplaced_open,
            home_capacity=self.places,
            home_full=np.asarray(on.full, dtype=bool),
            caps=[(kept.arc[arcs], kept.unplaced[part], limit) for kept, limit in self.caps],
            weights=weights,
            hint=hint,
            time_limit=left,
            seed=seed,
            log=log,
            surely_feasible=exists,
        )
        if not result.proven or result.choice is None:
            return _Settled(objective=None, plan=None, infeasible=result.infeasible)
        return _Settled(
            objective=result.objective,
            plan=np.where(result.choice >= 0, arcs[np.maximum(result.choice, 0)], -1),
            infeasible=False,
        )

    def plan(self) -> list[int]:
        """The arc and unplaced values of the part's plan (0 for every other unit)."""
        assert self.choice is not None
        n_arcs = self.node.n_arcs
        found = [0] * (n_arcs + len(self.node.arrays.unit_size))
        for u, var in zip(self.part.tolist(), self.choice.tolist(), strict=True):
            found[var if var >= 0 else n_arcs + u] = 1
        return found


def _part_value(state: State, stage: FlowStage, coeff: Costs, mine: np.ndarray) -> int:
    """The stage's flow value over the units marked in ``mine`` (forced ones included)."""
    arrays = state.arrays
    on = mine[arrays.arc_unit[stage.flow_arcs]]
    value = int((stage.flow.arc_flow[on] * coeff.arc[stage.flow_arcs[on]]).sum())
    free = stage.free_units[mine[stage.free_units]]
    value += int((stage.flow.unplaced_flow[mine[stage.free_units]] * coeff.unplaced[free]).sum())
    for u in np.flatnonzero(mine).tolist():
        var = state.forced[u]
        if var is not None:
            size = int(arrays.unit_size[u])
            value += size * int(coeff.arc[var] if var < state.n_arcs else coeff.unplaced[u])
    return value
