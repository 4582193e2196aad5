"""Pricing: what arcs left out of a program would do to its optimum, at the flows' duals.

Column generation solves a national matching on a restricted set of arcs and prices the rest
here, stage by stage, against the node potentials of the restricted flows
(:func:`arc_prices`). :func:`price` either certifies that no plan using an outside arc can
beat the restricted optimum, or names the arcs that must join first. Any other question of
the form "what would this arc be worth" (a candidate home's arcs, say) is priced the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs
import numpy as np

from placering.exceptions import SolverError
from placering.matching.duals import ReducedCosts, apply_face, optimal_face, reduced_costs
from placering.matching.flow import FlowStage, flow_stage
from placering.matching.state import Costs, State, component, hold, initial_state
from placering.program import BinaryProgram

__all__ = ["Outside", "Pricing", "arc_prices", "price"]


@attrs.frozen(eq=False)
class Outside:
    """Arcs left out of a restricted program, to be priced against its flows: each one's unit
    and home, ``cost(k, arcs)``, the per-child cost of stage ``k`` on those arcs, and
    ``rank(arcs)``, which of equally priced arcs to take in first (lowest first)."""

    unit: np.ndarray
    home: np.ndarray
    cost: Callable[[int, np.ndarray], np.ndarray]
    rank: Callable[[np.ndarray], np.ndarray] | None = None


@attrs.frozen(eq=False)
class Pricing:
    """What :func:`price` found.

    ``wanted`` holds the outside arcs (indices into :class:`Outside`) the restricted program
    must take in before its optimum can be trusted; when it is empty and ``certified`` is true,
    the restricted lexicographic optimum is that of the whole program. ``first_bound`` is a
    lower bound on the first stage over the whole program (Lagrangian, from the first flow's
    home prices), valid whatever else happened.
    """

    wanted: np.ndarray
    certified: bool
    first_bound: int | None
    stage: int = 0  # the stage pricing ended at
    #: Outside arcs on every stage's optimal face whose unit the last restricted flow splits
    #: (see :func:`_alternatives`): not needed for the LP, but a split sibling group given
    #: more homes at the same reduced cost leaves the restricted program less integrality gap,
    #: and a gap makes the final pricing want every arc within it (millions on national).
    alternatives: np.ndarray = attrs.field(factory=lambda: np.zeros(0, dtype=np.int64))
    #: The flow bound of each stage priced, each on the optimal face of those before it; when
    #: pricing certified the restricted LP, these are the whole program's lexicographic LP bounds.
    lower: tuple[int, ...] = ()


def _least_by_unit(best: np.ndarray, units: np.ndarray, values: np.ndarray) -> None:
    """``best[u] = min(best[u], values of u)`` for ``units`` sorted ascending (one segment each),
    as ``np.minimum.at`` is slow on millions of arcs."""
    if not len(units):
        return
    if (np.diff(units) < 0).any():
        np.minimum.at(best, units, values)
        return
    starts = np.flatnonzero(np.r_[True, units[1:] != units[:-1]])
    least = np.minimum.reduceat(values, starts)
    best[units[starts]] = np.minimum(best[units[starts]], least)


def _first_bound(
    state: State, stage: FlowStage, rc: ReducedCosts, outside: Outside, outside_cost: np.ndarray
) -> int | None:
    """Weak duality for the first stage's transportation LP over every arc: with home prices
    ``beta >= 0``, each unit pays at least the cheapest of its ways (an arc's cost plus the
    home's price, or staying unplaced), and the homes give back their places times the price."""
    arrays = state.arrays
    if rc.home_pi.dtype == object or len(stage.free_units) != len(arrays.unit_size):
        return None
    beta = np.maximum(0, rc.sink_pi - rc.home_pi)
    best = np.where(state.unplaced_open, stage.coeff.unplaced, np.iinfo(np.int64).max)
    _least_by_unit(best, arrays.arc_unit, stage.coeff.arc + beta[arrays.arc_home])
    _least_by_unit(best, outside.unit, outside_cost + beta[outside.home])
    if (best == np.iinfo(np.int64).max).any():
        return None
    return int((best * arrays.unit_size).sum()) - int((beta * arrays.home_free).sum())


def _plan_value(state: State, coeff: Costs, plan: np.ndarray) -> int:
    """A stage's value for ``plan`` (per unit, its arc, or -1 for unplaced)."""
    sizes = state.arrays.unit_size
    placed = plan >= 0
    return int((coeff.arc[plan[placed]] * sizes[placed]).sum()) + int((coeff.unplaced[~placed] * sizes[~placed]).sum())


def _excess(state: State, stage: FlowStage, rc: ReducedCosts, plan: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A plan's value above the stage's flow bound, split into shares per unit and per home.

    With the flow's node potentials ``pi`` (sink ``s``), any plan's value is the bound plus,
    per free unit, its size times the reduced cost of its place less the reduced cost of the
    flow's places for it, plus, per home, ``(pi_h - pi_s)`` times its load less the flow's.
    Every share is >= 0: the flow sends each unit only along its least reduced costs, and
    leaves a home with ``pi_h > pi_s`` empty and one with ``pi_h < pi_s`` full.
    """
    arrays, coeff, flow = state.arrays, stage.coeff, stage.flow
    size, free, n_arcs = arrays.unit_size, stage.free_units, state.n_arcs
    for u, var in enumerate(state.forced):
        if var is not None and plan[u] != (var if var < n_arcs else -1):
            raise SolverError("The plan to price leaves the optimal face of the stages before.")
    chosen = plan[free]
    placed = chosen >= 0
    arc = chosen[placed]
    if not (
        np.asarray(state.active, dtype=bool)[arc].all()
        and (arrays.arc_unit[arc] == free[placed]).all()
        and np.asarray(state.unplaced_open, dtype=bool)[free[~placed]].all()
    ):
        raise SolverError("The plan to price leaves the optimal face of the stages before.")

    def on_arcs(arcs: np.ndarray) -> np.ndarray:  # reduced cost per child
        return coeff.arc[arcs] + rc.unit_pi[arrays.arc_unit[arcs]] - rc.home_pi[arrays.arc_home[arcs]]

    def unplaced(units: np.ndarray) -> np.ndarray:
        return coeff.unplaced[units] + rc.unit_pi[units] - rc.sink_pi

    per_child = np.zeros(len(free), dtype=rc.unit_pi.dtype)
    per_child[placed] = on_arcs(arc)
    per_child[~placed] = unplaced(free[~placed])
    units = np.zeros(len(size), dtype=rc.unit_pi.dtype)
    units[free] = per_child * size[free]
    # Less what the flow's own places cost in reduced costs.
    np.subtract.at(units, arrays.arc_unit[stage.flow_arcs], on_arcs(stage.flow_arcs) * flow.arc_flow)
    np.subtract.at(units, free, unplaced(free) * flow.unplaced_flow)
    load = np.bincount(arrays.arc_home[arc], weights=size[free[placed]], minlength=len(arrays.home_free))
    homes = rc.homes * (load.astype(np.int64) - flow.home_flow)
    if np.asarray(units < 0, dtype=bool).any() or np.asarray(homes < 0, dtype=bool).any():
        raise SolverError("A plan's excess over a flow bound came out negative.")
    return units, homes


def _thresholds(
    state: State,
    stage: FlowStage,
    rc: ReducedCosts,
    plan: np.ndarray,
    arcs_of: Sequence[Sequence[int]],
    into: Sequence[Sequence[int]],
    units: np.ndarray,
    homes: np.ndarray,
    excess: int,
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """For the outside arcs from ``units`` to ``homes``, the plan's excess over the stage's
    flow bound (:func:`_excess`) in the independent parts of the program each arc touches;
    and, to hold, the plan's place for every unit of a part with an excess.

    In the restricted program the parts are independent, so the plan (its lexicographic
    optimum) is optimal in each, and every plan that touches no outside arc of a part has at
    least the part's excess there. A plan using outside arcs thus beats this one only if the
    reduced costs of those arcs add up to less than the excesses of the parts they touch.
    """
    unit_excess, home_excess = _excess(state, stage, rc, plan)
    if int(unit_excess.sum()) + int(home_excess.sum()) != excess:
        raise SolverError("A plan's shares of its excess over a flow bound do not add up.")
    arrays, n_arcs = state.arrays, state.n_arcs
    n_units, n_homes = len(arrays.unit_size), len(arrays.home_free)
    active = np.asarray(state.active, dtype=bool)
    free = np.fromiter((v is None for v in state.forced), dtype=bool, count=n_units)
    # Every share above 0 lies in a part: a home's share comes from free units' active arcs.
    live = active & free[arrays.arc_unit]
    seeds = set(np.flatnonzero(np.asarray(unit_excess > 0, dtype=bool)).tolist())
    seeds |= set(arrays.arc_unit[live & np.asarray(home_excess > 0, dtype=bool)[arrays.arc_home]].tolist())
    part_of_unit = np.full(n_units, -1, dtype=np.int64)
    n_parts = 0
    for u in sorted(seeds):
        if part_of_unit[u] < 0:
            part_of_unit[list(component(state, u, arcs_of, into))] = n_parts
            n_parts += 1
    part_of_home = np.full(n_homes, -1, dtype=np.int64)
    labelled = live & (part_of_unit[arrays.arc_unit] >= 0)
    part_of_home[arrays.arc_home[labelled]] = part_of_unit[arrays.arc_unit[labelled]]
    gap = np.zeros(n_parts + 1, dtype=unit_excess.dtype)  # the last entry: no part
    np.add.at(gap, part_of_unit, unit_excess)
    np.add.at(gap, part_of_home, home_excess)
    if gap[-1] != 0:
        raise SolverError("A plan's excess over a flow bound lies outside every part.")
    pu, ph = part_of_unit[units], part_of_home[homes]
    threshold = gap[pu] + np.where(ph == pu, 0, gap[ph])
    held = [
        (u, int(plan[u]) if plan[u] >= 0 else n_arcs + u)
        for u in np.flatnonzero((part_of_unit >= 0) & np.asarray(gap[part_of_unit] > 0, dtype=bool)).tolist()
    ]
    return threshold, held


def _best_per_unit(
    idx: np.ndarray, chosen: np.ndarray, reduced: np.ndarray, outside: Outside, per_unit: int
) -> np.ndarray:
    """Of the outside arcs ``idx[chosen]`` (priced ``reduced``, aligned with ``idx``), each
    unit's ``per_unit`` lowest priced; among equals (the first stages price whole kinds alike)
    the arcs best for the later terms, so that units spread over nearby homes."""
    units = outside.unit[idx[chosen]]
    tie = outside.rank(idx[chosen]) if outside.rank is not None else np.zeros(chosen.size, dtype=np.int64)
    order = np.lexsort((tie, reduced[chosen], units))
    ranked = units[order]
    first = np.searchsorted(ranked, ranked, side="left")
    return idx[chosen[order[np.arange(len(order)) - first < per_unit]]]


def price(
    costs: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    n_arcs: int,
    arc_unit: Sequence[int],
    arc_home: Sequence[int],
    unit_size: Sequence[int],
    home_free: Sequence[int],
    outside: Outside,
    plan: np.ndarray | None = None,
    per_unit: int = 8,
) -> Pricing:
    """Price the arcs left out of a restricted program (column generation).

    ``costs`` gives each stage's cost per child on the program's arcs and per child left
    unplaced, per unit. Stage by stage, the lexicographic LP of the restricted program is solved
    on the optimal face of the stages before it, exactly as :func:`lexicographic_minimum` does,
    but with nothing forced that an outside arc could still change (``State.latent``). The
    flow's node potentials price every outside arc that is still alive, as ``rc * size``:

    - a negative price means the restricted LP is not the whole LP: the ``per_unit`` most
      negative arcs of each unit are wanted;
    - without ``plan`` (the LP phase) the arcs priced 0 lie on the optimal face and go on to
      the next stage, so the restricted LP is certified to be the whole LP at every stage;
    - with ``plan``, the restricted program's lexicographic optimum (per unit, the index of its
      arc, or -1 for unplaced), its excess over a stage's flow bound is split into
      non-negative shares per unit and home (:func:`_excess`) and summed per independent part
      of the program. A plan using outside arcs leaves every part it does not touch at least
      that part's excess above the bound, so it can only do better if the arcs it uses are
      priced below the excesses of the parts they touch (:func:`_thresholds`): those arcs are
      wanted. With none wanted, the parts with an excess keep the plan's places in later
      stages and the others go on along their optimal face.

    With no arc wanted, every plan using an outside arc is beaten by the restricted optimum,
    stage by stage, so that optimum is the whole program's.
    """
    # Pricing needs only flows, never CP-SAT, so the state carries no program.
    program = BinaryProgram(n_vars=n_arcs + len(unit_size), exactly_one=(), capacity=())
    state, arcs_of, into = initial_state(program, n_arcs, arc_unit, arc_home, unit_size, home_free)
    walk = _Walk(state=state, arcs_of=arcs_of, into=into, outside=outside, per_unit=per_unit)
    for k, (arc_cost, unplaced_cost) in enumerate(costs):
        coeff = Costs(arc=np.asarray(arc_cost, dtype=np.int64), unplaced=np.asarray(unplaced_cost, dtype=np.int64))
        wanted = walk.stage(k, coeff, plan, last=k + 1 == len(costs))
        if wanted is not None:
            return walk.pricing(wanted, certified=False, stage=k)
    return walk.pricing(np.zeros(0, dtype=np.int64), certified=True, stage=len(costs) - 1)


def arc_prices(
    rc: ReducedCosts, unit_size: np.ndarray, units: np.ndarray, homes: np.ndarray, cost: np.ndarray
) -> np.ndarray:
    """What arcs from ``units`` to ``homes`` with per-child ``cost`` would change a stage's
    optimum by, per unit placed, at the flow's node potentials: ``rc * size``. An arc priced
    below 0 would lower the LP; one priced above the stage's gap is used by no better plan."""
    return (cost + rc.unit_pi[units] - rc.home_pi[homes]) * unit_size[units]


@attrs.define
class _Walk:
    """Pricing's walk down the stages: the outside arcs still alive and the bounds so far."""

    state: State
    arcs_of: Sequence[Sequence[int]]
    into: Sequence[Sequence[int]]
    outside: Outside
    per_unit: int
    alive: np.ndarray = attrs.field(init=False)
    first_bound: int | None = None
    lower: list[int] = attrs.field(factory=list)
    alternatives: np.ndarray = attrs.field(factory=lambda: np.zeros(0, dtype=np.int64))

    def __attrs_post_init__(self) -> None:
        self.alive = np.ones(len(self.outside.unit), dtype=bool)

    def pricing(self, wanted: np.ndarray, *, certified: bool, stage: int) -> Pricing:
        return Pricing(
            wanted=wanted,
            certified=certified,
            first_bound=self.first_bound,
            lower=tuple(self.lower),
            stage=stage,
            alternatives=self.alternatives if certified else np.zeros(0, dtype=np.int64),
        )

    def stage(self, k: int, coeff: Costs, plan: np.ndarray | None, *, last: bool) -> np.ndarray | None:
        """Price the alive outside arcs at stage ``k``: the arcs wanted, or ``None`` when none
        is, after which the state moves on to the stage's optimal face."""
        state, outside = self.state, self.outside
        n_units = len(state.arrays.unit_size)
        state.latent = np.bincount(outside.unit[self.alive], minlength=n_units)
        stage = flow_stage(state, coeff, self.arcs_of)
        if stage is None:
            return np.zeros(0, dtype=np.int64)
        rc = reduced_costs(state, stage)
        idx = np.flatnonzero(self.alive)
        cost = outside.cost(k, idx)
        units, homes = outside.unit[idx], outside.home[idx]
        reduced = arc_prices(rc, state.arrays.unit_size, units, homes, cost)
        if k == 0:  # every outside arc is still alive
            self.first_bound = _first_bound(state, stage, rc, outside, cost)
        self.lower.append(stage.lower)
        negative = np.flatnonzero(np.asarray(reduced < 0, dtype=bool))
        if negative.size:
            return _best_per_unit(idx, negative, reduced, outside, self.per_unit)
        held: list[tuple[int, int]] = []
        if plan is not None:
            value = _plan_value(state, coeff, plan)
            if value < stage.lower:
                raise SolverError(f"A stage optimum {value} lies below its flow bound {stage.lower}.")
            if value > stage.lower:
                threshold, held = _thresholds(
                    state, stage, rc, plan, self.arcs_of, self.into, units, homes, value - stage.lower
                )
                # In the last stage only a strictly better plan matters, and values are integers;
                # before it, a tie may still win a later stage.
                below = reduced < threshold if last else (reduced <= threshold) & (threshold > 0)
                if below.any():
                    # Often a few of them close the gap (a split sibling group finds a home
                    # as cheap elsewhere), where all of them would swell the program (on
                    # national, 350 000 arcs): the best few per unit, then price again.
                    return _best_per_unit(idx, np.flatnonzero(below), reduced, outside, self.per_unit)
        self.alive[idx[np.asarray(reduced > 0, dtype=bool)]] = False
        if last:
            if plan is None and stage.split:
                on_face = idx[np.asarray(reduced == 0, dtype=bool)]
                self.alternatives = _alternatives(stage.split, on_face, outside, self.per_unit)
            return None
        if held:
            stage, rc = self._hold(held, coeff, value)
        self._onto_face(rc)
        return None

    def _hold(self, held: list[tuple[int, int]], coeff: Costs, value: int) -> tuple[FlowStage, ReducedCosts]:
        """The parts with an excess keep the plan's places: every plan that ties with it leaves
        them alone, and in them it is the lexicographic optimum already."""
        state = self.state
        for u, var in held:
            hold(state, u, var, self.arcs_of)
        stage = flow_stage(state, coeff, self.arcs_of)
        if stage is None or stage.lower != value:
            raise SolverError("The parts of a plan do not add up to its stage value.")
        return stage, reduced_costs(state, stage)

    def _onto_face(self, rc: ReducedCosts) -> None:
        state = self.state
        face = optimal_face(state, rc, 0)
        apply_face(state, face, self.arcs_of, self.into)
        # A unit forced onto an arc, or a home every optimum leaves empty, takes no outside arc.
        forced = np.fromiter((v is not None for v in state.forced), dtype=bool, count=len(state.forced))
        empty = np.zeros(len(state.arrays.home_free), dtype=bool)
        empty[face.empty] = True
        self.alive &= ~forced[self.outside.unit] & ~empty[self.outside.home]


def _alternatives(split: Sequence[int], on_face: np.ndarray, outside: Outside, per_unit: int) -> np.ndarray:
    """Of the outside arcs on every stage's optimal face, the ``per_unit`` best for the last
    terms of each unit the last flow splits. Only a few: more arcs join the parts of the
    earlier stages into larger ones, where the dive finds its plan less often."""
    mine = np.zeros(int(outside.unit.max(initial=0)) + 1, dtype=bool)
    mine[[u for u in split if u < len(mine)]] = True
    chosen = on_face[mine[outside.unit[on_face]]]
    if not chosen.size:
        return chosen
    tie = outside.rank(chosen) if outside.rank is not None else np.zeros(chosen.size, dtype=np.int64)
    units = outside.unit[chosen]
    ranked = chosen[np.lexsort((tie, units))]
    first = np.searchsorted(outside.unit[ranked], outside.unit[ranked], side="left")
    return np.sort(ranked[np.arange(len(ranked)) - first < per_unit])
