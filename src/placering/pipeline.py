"""Flow-first exact lexicographic minimisation of the matching program.

The LP relaxation of the matching is a transportation problem (units send their size to
homes or to "unplaced"), so each stage starts with a min-cost flow, 50-100x faster than an
exact solve (shared/performance.md). Per stage:

1. The flow gives a lower bound. If it places every unit whole (and keeps the bounds of any
   earlier stage that had a gap), it *is* the stage optimum.
2. If it splits a sibling group, a depth-first *dive* fixes split groups one at a time to
   homes on the flow's optimal face and re-solves; a whole plan at the bound is optimal.
3. If the dive fails, the stage has an integrality gap. A lexicographic branch and bound over
   flows settles it and every later stage together (:func:`_lex_branch_and_bound`): a node's
   bound is the vector of LP optima, each stage's flow taken on the optimal face of the ones
   before, so no aggregate stage constraint is ever needed.
4. When that search exceeds its budget, or the matching (or an independent part of it) is too
   large for it, a MIP solver with cutting planes (SCIP, bundled with OR-Tools) settles the
   part stage by stage (:func:`_by_mip`), each stage narrowed by the reduced costs of the last.
   Only when that is not proven in time does CP-SAT take the stage, on the model narrowed so
   far, hinted with the best plan known, and told the flow bound.

Between stages, node potentials of the optimal flow give every arc's reduced cost ``rc``.
With the stage optimum ``z`` and ``gap = z - bound``: an arc with ``rc * size > gap`` is used
by no plan of value ``<= z``, and one with ``-rc * size > gap`` by all of them, so such arcs are
fixed; likewise homes proven empty or full. When ``gap == 0`` these fixings are complementary
slackness and describe the optimal face exactly, so the next stage needs no other constraint;
when ``gap > 0`` the stage is also kept as a bound ``term <= z``.

Every fixing is implied by optimality, so the result is the exact lexicographic optimum;
under a time limit the best plan found is returned with a certified bound on the first stage
not proven (the larger of the flow bound and CP-SAT's).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence

import attrs
import numpy as np

from placering._cpsat import (
    AssignmentResult,
    FlowResult,
    StageModel,
    StageResult,
    assignment_minimum,
    min_cost_flow,
    ortools_version,
)
from placering.exceptions import SolverError
from placering.program import BinaryProgram, LexResult, LinearTerm

__all__ = ["STRATEGIES", "Outside", "Pricing", "lexicographic_minimum", "price"]

#: ``flow``: flow bounds, dives, branch and bound, CP-SAT last; ``cp-sat``: CP-SAT per stage.
STRATEGIES = ("flow", "cp-sat")

#: Flow solves the branch and bound may spend on one stage before CP-SAT takes over.
BRANCH_BUDGET = 2000
#: The same for one part of the matching when a MIP can take over there: a part the flows'
#: branch and bound has not closed in this many flows is quicker for the MIP (county-xl).
PART_BRANCH_BUDGET = 300
#: Parts with more units than this go straight from the dive to the MIP: each of their flows
#: is slow, and a depth-first search over their many split groups rarely closes (national).
MIP_FIRST = 1000

#: Flow solves the greedy first incumbent of the branch and bound may spend.
GREEDY_BUDGET = 200


@attrs.define
class _State:
    """What the stages so far have proven about every optimal plan."""

    program: BinaryProgram
    n_arcs: int
    arc_unit: Sequence[int]
    arc_home: Sequence[int]
    unit_size: Sequence[int]
    home_free: Sequence[int]
    active: np.ndarray  # bool per arc: not fixed to 0
    unplaced_open: np.ndarray  # bool per unit
    forced: list[int | None]
    full: np.ndarray  # bool per home: proven full
    arrays: _Arrays
    fixes: list[tuple[int, int]] = attrs.field(factory=list)
    bounds: list[tuple[LinearTerm, int]] = attrs.field(factory=list)
    full_rows: list[int] = attrs.field(factory=list)
    cp: StageModel | None = None
    #: Per unit, arcs outside the program that may still take it (see :func:`price`): a unit
    #: with one way left in the program is then not forced, as it has others outside.
    latent: np.ndarray | None = None

    def fix(self, var: int, value: int) -> None:
        self.fixes.append((var, value))
        if self.cp is not None:
            self.cp.fix(var, value)

    def bound(self, term: LinearTerm, value: int) -> None:
        self.bounds.append((term, value))
        if self.cp is not None:
            self.cp.restrict(term, -(2**62), value)

    def set_full(self, home: int, arcs_into: Sequence[int]) -> None:
        self.full[home] = True
        self.full_rows.append(home)
        if self.cp is not None:
            self._full_row(self.cp, home, arcs_into)

    def _full_row(self, cp: StageModel, home: int, arcs_into: Sequence[int]) -> None:
        term = LinearTerm(
            vars=tuple(arcs_into), coeffs=tuple(self.unit_size[self.arc_unit[a]] for a in arcs_into)
        )
        cp.restrict(term, self.home_free[home], self.home_free[home])

    def model(self, into: Sequence[Sequence[int]]) -> StageModel:
        if self.cp is None:
            cp = StageModel(self.program)
            for var, value in self.fixes:
                cp.fix(var, value)
            for term, value in self.bounds:
                cp.restrict(term, -(2**62), value)
            for home in self.full_rows:
                self._full_row(cp, home, into[home])
            self.cp = cp
        return self.cp


def _complete(program: BinaryProgram, n_base: int, base: Sequence[int]) -> list[int]:
    """Extend arc and unplaced values with the smallest consistent sibling marks."""
    values = list(base) + [0] * (program.n_vars - n_base)
    for var, members in program.covers:  # marks are listed after the variables they cover
        values[var] = 1 if any(values[m] for m in members) else 0
    return values


@attrs.frozen
class _Costs:
    """A stage's cost per unit of flow on each arc and on each unit's "unplaced" arc."""

    arc: np.ndarray
    unplaced: np.ndarray


@attrs.frozen
class _Arrays:
    """The program's fixed structure as numpy arrays, for the vectorised flow steps."""

    arc_unit: np.ndarray
    arc_home: np.ndarray
    unit_size: np.ndarray
    home_free: np.ndarray


def _per_flow(
    term: LinearTerm, n_arcs: int, arc_unit: Sequence[int], unit_size: Sequence[int]
) -> _Costs:
    """A flow unit is one child, so an arc's cost per unit of flow is its coefficient / size.

    Every term is a sum over children, so the division is exact.
    """
    variables = np.asarray(term.vars, dtype=np.int64)
    coeffs = np.asarray(term.coeffs, dtype=np.int64)
    sizes = np.asarray(unit_size, dtype=np.int64)
    on_arc = variables < n_arcs
    units = variables - n_arcs
    units[on_arc] = np.asarray(arc_unit, dtype=np.int64)[variables[on_arc]]
    size = sizes[units]
    if (bad := np.flatnonzero(coeffs % size)).size:
        v, c, k = int(variables[bad[0]]), int(coeffs[bad[0]]), int(size[bad[0]])
        raise SolverError(f"Coefficient {c} of variable {v} is not a multiple of its unit's size {k}.")
    arc = np.zeros(n_arcs, dtype=np.int64)
    unplaced = np.zeros(len(sizes), dtype=np.int64)
    arc[variables[on_arc]] = coeffs[on_arc] // size[on_arc]
    unplaced[variables[~on_arc] - n_arcs] = coeffs[~on_arc] // size[~on_arc]
    return _Costs(arc=arc, unplaced=unplaced)


def _potentials(n_nodes: int, arcs: list[tuple[int, int, int]]) -> list[int]:
    """Shortest distances from a virtual root joined to every node at cost 0. On the residual
    graph of an optimal flow there is no negative cycle, and the distances are node potentials
    that make every residual arc's reduced cost >= 0.

    Bellman-Ford rounds over numpy arrays (paths in these graphs are short, so few rounds);
    the pure-Python queue version takes over when int64 could overflow.
    """
    if not arcs:
        return [0] * n_nodes
    tail = np.fromiter((a[0] for a in arcs), dtype=np.int64, count=len(arcs))
    head = np.fromiter((a[1] for a in arcs), dtype=np.int64, count=len(arcs))
    try:
        cost = np.fromiter((a[2] for a in arcs), dtype=np.int64, count=len(arcs))
    except OverflowError:
        return _potentials_exact(n_nodes, arcs)
    return _potentials_of(n_nodes, tail, head, cost).tolist()


def _potentials_of(n_nodes: int, tail: np.ndarray, head: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """:func:`_potentials` on arrays; int64 throughout unless a path sum could overflow it."""
    if len(cost) and int(np.abs(cost).max()) * (n_nodes + 1) >= 2**62:
        arcs = list(zip(tail.tolist(), head.tolist(), cost.tolist(), strict=True))
        return np.array(_potentials_exact(n_nodes, arcs), dtype=object)
    dist = np.zeros(n_nodes, dtype=np.int64)
    for _ in range(n_nodes + 1):
        relaxed = dist.copy()
        np.minimum.at(relaxed, head, dist[tail] + cost)
        if np.array_equal(relaxed, dist):
            return dist
        dist = relaxed
    raise SolverError("The flow's residual graph has a negative cycle, so the flow is not optimal.")


def _potentials_exact(n_nodes: int, arcs: list[tuple[int, int, int]]) -> list[int]:
    """Queue-based Bellman-Ford on Python integers."""
    out: list[list[tuple[int, int]]] = [[] for _ in range(n_nodes)]
    for x, y, c in arcs:
        out[x].append((y, c))
    dist = [0] * n_nodes
    queue = deque(range(n_nodes))
    queued = [True] * n_nodes
    budget = (n_nodes + 1) * (len(arcs) + 1)
    while queue:
        x = queue.popleft()
        queued[x] = False
        dx = dist[x]
        for y, c in out[x]:
            if dx + c < dist[y]:
                dist[y] = dx + c
                budget -= 1
                if budget < 0:
                    raise SolverError("The flow's residual graph has a negative cycle, so the flow is not optimal.")
                if not queued[y]:
                    queued[y] = True
                    queue.append(y)
    return dist


@attrs.frozen
class _ReducedCosts:
    """Reduced costs, scaled to whole units, of a stage's optimal flow: per flow arc (aligned
    with ``arc_ids``), per unit whose "unplaced" arc is open, and per home."""

    arc_ids: np.ndarray
    arcs: np.ndarray
    unplaced_units: np.ndarray
    unplaced: np.ndarray
    homes: np.ndarray
    unit_pi: np.ndarray  # node potential per unit (meaningful for the flow's free units)
    home_pi: np.ndarray  # node potential per home
    sink_pi: int  # node potential of the sink ("unplaced" arcs and homes' slack end there)


@attrs.frozen
class _Face:
    """Fixings implied by the reduced costs for plans within ``gap`` of the flow bound."""

    arcs_off: list[int]
    forced: list[tuple[int, int]]
    unplaced_off: list[int]
    empty: list[int]
    full: list[int]


def _reduced_costs(state: _State, stage: _FlowStage) -> _ReducedCosts:
    """Reduced costs from node potentials on the residual graph of the stage's flow."""
    arrays, flow, coeff = state.arrays, stage.flow, stage.coeff
    n_homes = len(arrays.home_free)
    free = stage.free_units
    n_free = len(free)
    sink = n_free + n_homes
    local = np.full(len(arrays.unit_size), -1, dtype=np.int64)
    local[free] = np.arange(n_free)
    units = arrays.arc_unit[stage.flow_arcs]
    x = local[units]
    y = n_free + arrays.arc_home[stage.flow_arcs]
    c = coeff.arc[stage.flow_arcs]
    cap = arrays.unit_size[units]
    f = flow.arc_flow
    open_ = np.asarray(state.unplaced_open, dtype=bool)[free]
    cu = coeff.unplaced[free]
    cap_u = np.where(open_, arrays.unit_size[free], 0)
    fu = flow.unplaced_flow
    i = np.arange(n_free)
    full = np.asarray(state.full, dtype=bool)
    cap_h = arrays.home_free - stage.load
    fh = flow.home_flow
    homes = np.arange(n_homes)
    slack = ~full  # a full home's places are a lower bound: no slack arc to the sink
    parts = [
        (x[f < cap], y[f < cap], c[f < cap]),
        (y[f > 0], x[f > 0], -c[f > 0]),
        (i[fu < cap_u], np.full(int((fu < cap_u).sum()), sink), cu[fu < cap_u]),
        (np.full(int((fu > 0).sum()), sink), i[fu > 0], -cu[fu > 0]),
        (n_free + homes[slack & (fh < cap_h)], np.full(int((slack & (fh < cap_h)).sum()), sink), None),
        (np.full(int((slack & (fh > 0)).sum()), sink), n_free + homes[slack & (fh > 0)], None),
    ]
    tail = np.concatenate([p[0] for p in parts]).astype(np.int64)
    head = np.concatenate([p[1] for p in parts]).astype(np.int64)
    cost = np.concatenate([p[2] if p[2] is not None else np.zeros(len(p[0]), dtype=np.int64) for p in parts])
    pi = _potentials_of(sink + 1, tail, head, cost.astype(np.int64))
    return _ReducedCosts(
        arc_ids=stage.flow_arcs,
        arcs=(c + pi[x] - pi[y]) * cap,
        unplaced_units=free[open_],
        unplaced=((cu + pi[i] - pi[sink]) * arrays.unit_size[free])[open_],
        homes=pi[n_free + homes] - pi[sink],
        unit_pi=np.where(local >= 0, pi[np.maximum(local, 0)], 0),
        home_pi=pi[n_free + homes],
        sink_pi=pi[sink],
    )


def _face(state: _State, rc: _ReducedCosts, gap: int) -> _Face:
    """What every plan of value ``<= bound + gap`` must look like (see the module docstring)."""
    def above(values: np.ndarray) -> np.ndarray:  # boolean even for Python-int (object) arrays
        return np.asarray(values > gap, dtype=bool)

    unit_of = state.arrays.arc_unit
    forced: list[tuple[int, int]] = []
    taken: set[int] = set()
    for a in rc.arc_ids[above(-rc.arcs)].tolist():
        u = int(unit_of[a])
        if u not in taken:
            taken.add(u)
            forced.append((u, a))
    for u in rc.unplaced_units[above(-rc.unplaced)].tolist():
        if u not in taken:
            taken.add(u)
            forced.append((u, state.n_arcs + u))
    full = np.asarray(state.full, dtype=bool)
    return _Face(
        arcs_off=rc.arc_ids[above(rc.arcs)].tolist(),
        forced=forced,
        unplaced_off=rc.unplaced_units[above(rc.unplaced)].tolist(),
        empty=np.flatnonzero(~full & above(rc.homes)).tolist(),
        full=np.flatnonzero(~full & above(-rc.homes)).tolist(),
    )


def _face_fixes(state: _State, face: _Face, arcs_of: Sequence[Sequence[int]], into: Sequence[Sequence[int]]) -> tuple[list[tuple[int, int]], list[int]]:
    """The face as variable fixings plus the homes that must be full."""
    fixes = [(a, 0) for a in face.arcs_off] + [(state.n_arcs + u, 0) for u in face.unplaced_off]
    for u, var in face.forced:
        fixes.append((var, 1))
        fixes.extend((a, 0) for a in arcs_of[u] if a != var and state.active[a])
        if var != state.n_arcs + u and state.unplaced_open[u]:
            fixes.append((state.n_arcs + u, 0))
    for h in face.empty:
        fixes.extend((a, 0) for a in into[h] if state.active[a] and state.forced[state.arc_unit[a]] is None)
    return fixes, face.full


def _apply(state: _State, face: _Face, arcs_of: Sequence[Sequence[int]], into: Sequence[Sequence[int]]) -> None:
    fixes, full = _face_fixes(state, face, arcs_of, into)
    for u, var in face.forced:
        state.forced[u] = var
    for var, value in fixes:
        if var < state.n_arcs:
            if value == 0 and state.active[var]:
                state.active[var] = False
                state.fix(var, 0)
            elif value == 1:
                state.fix(var, 1)
        else:
            u = var - state.n_arcs
            if value == 0 and state.unplaced_open[u]:
                state.unplaced_open[u] = False
                state.fix(var, 0)
            elif value == 1:
                state.fix(var, 1)
    for h in full:
        state.set_full(h, into[h])
    # A unit left with one way to go is forced there: the flows after this get smaller.
    ways_left = np.bincount(state.arrays.arc_unit[state.active], minlength=len(state.forced)) + state.unplaced_open
    if state.latent is not None:
        ways_left = ways_left + state.latent
    for u in np.flatnonzero(ways_left == 1).tolist():
        if state.forced[u] is not None:
            continue
        ways = [a for a in arcs_of[u] if state.active[a]]
        if state.unplaced_open[u]:
            ways.append(state.n_arcs + u)
        if len(ways) == 1:
            state.forced[u] = ways[0]
            state.fix(ways[0], 1)


@attrs.frozen
class _FlowStage:
    """A stage's flow relaxation on the current state: bound, flow and split units."""

    lower: int
    flow: FlowResult
    flow_arcs: np.ndarray  # the arcs in the flow, aligned with ``flow.arc_flow``
    free_units: np.ndarray  # the units in the flow, aligned with ``flow.unplaced_flow``
    load: np.ndarray  # children of forced units in each home
    coeff: _Costs
    base: list[int]  # arc and unplaced values of the units the flow keeps whole (and forced)
    split: list[int]  # units whose children the flow spreads over several homes

    def shares(self, state: _State, u: int) -> tuple[np.ndarray, np.ndarray]:
        """The flow arcs of unit ``u`` and the children each carries."""
        mine = state.arrays.arc_unit[self.flow_arcs] == u
        return self.flow_arcs[mine], self.flow.arc_flow[mine]


def _flow_stage(state: _State, coeff: _Costs, arcs_of: Sequence[Sequence[int]]) -> _FlowStage | None:
    """The flow relaxation of the stage with per-flow costs ``coeff`` (see :func:`_per_flow`)."""
    arrays, n_arcs = state.arrays, state.n_arcs
    size = arrays.unit_size
    n_units, n_homes = len(size), len(arrays.home_free)
    forced = np.fromiter((-1 if v is None else v for v in state.forced), dtype=np.int64, count=n_units)
    free = forced < 0
    free_units = np.flatnonzero(free)
    local = np.cumsum(free) - 1
    flow_arcs = np.flatnonzero(np.asarray(state.active, dtype=bool) & free[arrays.arc_unit])
    held = np.flatnonzero(~free)
    held_vars = forced[held]
    on_arc = held_vars < n_arcs
    load = np.bincount(
        arrays.arc_home[held_vars[on_arc]], weights=size[held[on_arc]], minlength=n_homes
    ).astype(np.int64)
    constant = int((coeff.arc[held_vars[on_arc]] * size[held[on_arc]]).sum()) + int(
        (coeff.unplaced[held[~on_arc]] * size[held[~on_arc]]).sum()
    )
    flow = min_cost_flow(
        unit_supply=size[free_units],
        arc_unit=local[arrays.arc_unit[flow_arcs]],
        arc_home=arrays.arc_home[flow_arcs],
        arc_cost=coeff.arc[flow_arcs],
        unplaced_cost=coeff.unplaced[free_units],
        unplaced_open=np.asarray(state.unplaced_open, dtype=bool)[free_units],
        home_capacity=arrays.home_free - load,
        home_full=np.asarray(state.full, dtype=bool),
    )
    if flow is None:
        return None
    base = np.zeros(n_arcs + n_units, dtype=np.int64)
    base[held_vars] = 1
    on_one_arc = flow.arc_flow == size[arrays.arc_unit[flow_arcs]]
    all_unplaced = flow.unplaced_flow == size[free_units]
    base[flow_arcs[on_one_arc]] = 1
    base[n_arcs + free_units[all_unplaced]] = 1
    whole = np.zeros(n_units, dtype=bool)
    whole[arrays.arc_unit[flow_arcs[on_one_arc]]] = True
    whole[free_units[all_unplaced]] = True
    return _FlowStage(
        lower=int(flow.cost) + constant,
        flow=flow,
        flow_arcs=flow_arcs,
        free_units=free_units,
        load=load,
        coeff=coeff,
        base=base.tolist(),
        split=free_units[~whole[free_units]].tolist(),
    )


def _copy(state: _State) -> _State:
    """A scratch copy that shares no lists and no CP-SAT model with ``state``."""
    return attrs.evolve(
        state,
        active=state.active.copy(),
        unplaced_open=state.unplaced_open.copy(),
        forced=list(state.forced),
        full=state.full.copy(),
        fixes=list(state.fixes),
        bounds=list(state.bounds),
        full_rows=list(state.full_rows),
        cp=None,
    )


def _fix_unit(state: _State, u: int, var: int, arcs_of: Sequence[Sequence[int]]) -> _State:
    trial = _copy(state)
    trial.forced[u] = var
    for a in arcs_of[u]:
        trial.active[a] = a == var
    trial.unplaced_open[u] = var == state.n_arcs + u
    return trial


def _options(
    state: _State, stage: _FlowStage, u: int, arcs_of: Sequence[Sequence[int]], *, all_homes: bool = True
) -> list[int]:
    """Where a split unit may go: the homes it already partly uses (largest share first), then
    (with ``all_homes``) its other open homes, then unplaced."""
    arcs, flows = stage.shares(state, u)
    carried = {int(a): int(f) for a, f in zip(arcs.tolist(), flows.tolist(), strict=True) if f}
    used = sorted(carried, key=lambda a: (-carried[a], a))
    rest = [a for a in arcs_of[u] if state.active[a] and a not in carried] if all_homes else []
    return used + rest + ([state.n_arcs + u] if state.unplaced_open[u] else [])


def _dive_exact(
    state: _State,
    coeff: _Costs,
    stage: _FlowStage,
    arcs_of: Sequence[Sequence[int]],
    into: Sequence[Sequence[int]],
    budget: int,
    focus: set[int] | None = None,
    deadline: float | None = None,
) -> list[int] | None:
    """Make the flow whole without leaving its optimal face: fix one split sibling group at a
    time to a home (depth first, largest group first) and re-solve the flow, backtracking when
    a fixing raises the flow's cost, until no group is split or ``budget`` flows are spent.

    A plan found has the flow's bound as its value, so it is optimal for the stage. With
    ``focus``, only those units need to end whole.
    """
    scratch = _copy(state)
    rc = _reduced_costs(state, stage)
    _apply(scratch, _face(scratch, rc, 0), arcs_of, into)
    start = _flow_stage(scratch, coeff, arcs_of)
    left = [budget]

    def search(node: _State, current: _FlowStage) -> list[int] | None:
        split = _split_in(current, focus)
        if not split:
            return current.base
        if deadline is not None and time.perf_counter() > deadline:
            left[0] = -1
            return None
        # Most split groups fit whole where most of them already are: try them all at once,
        # and when that leaves the face, the larger half of them, and so on, so that a large
        # matching needs a few flows per round rather than one per group.
        chunk = sorted(split, key=lambda v: (-state.unit_size[v], v))
        while len(chunk) > 1:
            batch = _copy(node)
            for v in chunk:
                _hold(batch, v, _options(node, current, v, arcs_of, all_homes=False)[0], arcs_of)
            left[0] -= 1
            attempt = _flow_stage(batch, coeff, arcs_of)
            if attempt is not None and attempt.lower == stage.lower:
                found = search(batch, attempt)
                if found is not None or left[0] < 0:
                    return found
                break
            chunk = chunk[: len(chunk) // 2]
        u = max(split, key=lambda v: (state.unit_size[v], -v))
        for var in _options(node, current, u, arcs_of):
            left[0] -= 1
            if left[0] < 0:
                return None
            trial = _fix_unit(node, u, var, arcs_of)
            attempt = _flow_stage(trial, coeff, arcs_of)
            if attempt is not None and attempt.lower == stage.lower:
                found = search(trial, attempt)
                if found is not None or left[0] < 0:
                    return found
        return None

    if start is None or start.lower != stage.lower:
        return None
    return search(scratch, start)


def _split_in(stage: _FlowStage, focus: set[int] | None) -> list[int]:
    return stage.split if focus is None else [u for u in stage.split if u in focus]


def _hold(state: _State, u: int, var: int, arcs_of: Sequence[Sequence[int]], *, record: bool = False) -> None:
    """Force unit ``u`` onto ``var`` in place; ``record`` also tells a CP-SAT model of the state."""
    state.forced[u] = var
    for a in arcs_of[u]:
        if a != var and state.active[a]:
            state.active[a] = False
            if record:
                state.fix(a, 0)
    if var != state.n_arcs + u and state.unplaced_open[u]:
        state.unplaced_open[u] = False
        if record:
            state.fix(state.n_arcs + u, 0)
    if record:
        state.fix(var, 1)


def _component(state: _State, start: int, arcs_of: Sequence[Sequence[int]], into: Sequence[Sequence[int]]) -> set[int]:
    """The free units that can compete for a home with unit ``start``, directly or via others."""
    units, homes = {start}, set()
    active = state.active.tolist()  # list lookups: this walks many arcs one by one
    queue = deque([start])
    while queue:
        u = queue.popleft()
        for a in arcs_of[u]:
            h = state.arc_home[a]
            if not active[a] or h in homes:
                continue
            homes.add(h)
            for b in into[h]:
                v = state.arc_unit[b]
                if v not in units and active[b] and state.forced[v] is None:
                    units.add(v)
                    queue.append(v)
    return units


def _by_part(
    state: _State,
    stage: _FlowStage,
    coeff: _Costs,
    coeffs: Sequence[_Costs] | None,
    arcs_of: Sequence[Sequence[int]],
    into: Sequence[Sequence[int]],
    *,
    dive: bool,
    deadline: float | None,
    mip: Callable[[_State, set[int], Sequence[int] | None], list[int] | None] | None = None,
    hinted: bool = False,
) -> tuple[list[int], list[tuple[int, int]]] | None:
    """Make the split sibling groups whole one independent part of the matching at a time.

    Units that can never compete for a home, not even through others, form independent parts,
    and the lexicographic optimum of their sum is the sum of their optima. Each part holding a
    split group is searched on its own, with every whole unit elsewhere held where the flow put
    it (they share no home with the part, so they add the same constant everywhere), so its
    flows are small: first a dive on the flow's optimal face; if that fails, the branch and
    bound over this stage and all later ones (``coeffs``), and if that runs out of budget (or
    the part is too large for it), ``mip`` (:func:`_by_mip`), given the branch and bound's best
    plan as a hint. Those two give the part's final places, returned as ``(unit, var)`` pairs
    to hold. Returns the stage's plan (arc and unplaced values) and those pairs, or ``None``
    when the whole matching is one part or a search gives up.

    ``hinted``: ``mip`` holds an incumbent optimal in the stages so far, so every part goes
    straight to it (it settles a part the incumbent is optimal in at once, and otherwise looks
    on the optimal face first, which is what the dive would do, only exactly).
    """
    parts: list[set[int]] = []
    covered: set[int] = set()
    for u in stage.split:
        if u not in covered:
            part = _component(state, u, arcs_of, into)
            covered |= part
            parts.append(part)
    if len(parts) == 1 and len(parts[0]) == len(stage.free_units):
        return None
    split = set(stage.split)
    n_arcs = state.n_arcs
    whole = [
        (u, next(v for v in (*arcs_of[u], n_arcs + u) if stage.base[v]))
        for u in stage.free_units.tolist()
        if u not in split
    ]
    base = list(stage.base)
    held: list[tuple[int, int]] = []
    for part in parts:
        sub = _copy(state)
        for u, var in whole:
            if u not in part:
                _hold(sub, u, var, arcs_of)
        local = _flow_stage(sub, coeff, arcs_of)
        if local is None or local.lower != stage.lower:
            return None
        if deadline is not None and time.perf_counter() > deadline:
            return None
        found = (
            _dive_exact(sub, coeff, local, arcs_of, into, budget=8 * len(split & part) + 40, focus=part, deadline=deadline)
            if dive and not hinted
            else None
        )
        final = found is None
        if found is None:
            if coeffs is None:
                return None
            # A flow on a large part is slow, and its branch and bound rarely closes there.
            budget = BRANCH_BUDGET if mip is None else 0 if len(part) > MIP_FIRST or hinted else PART_BRANCH_BUDGET
            guess, done = None, False
            if budget:
                guess, _, done = _lex_branch_and_bound(
                    sub, coeffs, arcs_of, into, budget=budget, deadline=deadline, focus=part
                )
            found = guess if done else mip(sub, part, guess) if mip is not None else None
            if found is None:
                return None
        _settle(base, part, found, arcs_of, n_arcs, held if final else None)
    return base, held


def _settle(
    base: list[int],
    units: set[int],
    found: Sequence[int],
    arcs_of: Sequence[Sequence[int]],
    n_arcs: int,
    held: list[tuple[int, int]] | None,
) -> None:
    """Copy the units' places from ``found`` into ``base``; ``held`` also collects them as final."""
    for u in units:
        var = next(v for v in (*arcs_of[u], n_arcs + u) if found[v])
        for v in (*arcs_of[u], n_arcs + u):
            base[v] = 0
        base[var] = 1
        if held is not None:
            held.append((u, var))


def _part_value(state: _State, stage: _FlowStage, coeff: _Costs, mine: np.ndarray) -> int:
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


def _by_mip(
    state: _State,
    coeffs: Sequence[_Costs],
    arcs_of: Sequence[Sequence[int]],
    into: Sequence[Sequence[int]],
    units: set[int],
    *,
    deadline: float | None,
    seed: int,
    log: bool,
    hint: Sequence[int] | None = None,
) -> list[int] | None:
    """The lexicographic optimum of ``units`` (a part of the matching that nothing else competes
    with) over the stages ``coeffs``, by a MIP per stage (:func:`assignment_minimum`).

    Each stage's flow still comes first: its bound is the target, a whole flow needs no MIP, and
    its reduced costs narrow the next stage's model to the plans within the stage's gap (to its
    optimal face when the MIP meets the bound). A stage with a gap also stays as a row keeping
    it at its optimum. A ``hint`` that is a plan of the part is the MIP's start; at the flow's
    bound it settles the stage, and above it its value bounds the MIP, which then keeps only
    the arcs priced within its excess. Returns the arc and unplaced values of ``units`` (others
    0), or ``None`` when a MIP is not proven before ``deadline``.
    """
    node = _copy(state)
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
    caps: list[tuple[_Costs, int]] = []
    choice: np.ndarray | None = None
    if hint is not None:
        choice = np.full(len(part), -1, dtype=np.int64)
        for u in part.tolist():
            choice[local[u]] = next((a for a in arcs_of[u] if hint[a]), -1 if hint[n_arcs + u] else -2)

    def value_of(on: _State, coeff: _Costs, chosen: np.ndarray | None) -> int | None:
        """``chosen``'s value over the part, if it is a plan of the part in ``on`` that the MIP
        would accept (each unit on an active arc or open unplaced, no home over its places, a
        full home the part reaches exactly full, every cap kept); else ``None``."""
        if chosen is None or np.asarray(chosen < -1, dtype=bool).any():
            return None
        placed = chosen >= 0
        arcs, sizes = chosen[placed], arrays.unit_size[part]
        if not (
            np.asarray(on.active, dtype=bool)[arcs].all()
            and np.asarray(on.unplaced_open, dtype=bool)[part[~placed]].all()
        ):
            return None
        load = np.bincount(arrays.arc_home[arcs], weights=sizes[placed], minlength=len(places)).astype(np.int64)
        reached = np.zeros(len(places), dtype=bool)
        reached[arrays.arc_home[np.asarray(on.active, dtype=bool) & mine[arrays.arc_unit]]] = True
        if (load > places).any() or (load != places)[reached & np.asarray(on.full, dtype=bool)].any():
            return None

        def value(costs: _Costs) -> int:
            return int((costs.arc[arcs] * sizes[placed]).sum()) + int((costs.unplaced[part[~placed]] * sizes[~placed]).sum())

        if any(value(kept) > limit for kept, limit in caps):
            return None
        return value(coeff)

    def flow_choice(stage: _FlowStage, fill: int) -> np.ndarray:
        """The arcs of the units the flow keeps whole, ``fill`` for the others."""
        chosen = np.full(len(part), fill, dtype=np.int64)
        on = np.flatnonzero(np.asarray(stage.base[:n_arcs], dtype=bool) & mine[arrays.arc_unit])
        chosen[local[arrays.arc_unit[on]]] = on
        return chosen

    def settle(on: _State, coeff: _Costs, left: float | None, *, exists: bool) -> tuple[AssignmentResult, np.ndarray | None]:
        """The MIP on ``on``'s arcs of the part, and its plan as arcs (-1 unplaced)."""
        arcs = np.flatnonzero(on.active & mine[arrays.arc_unit])
        position = np.full(n_arcs, -2, dtype=np.int64)  # -2: an arc the model no longer has
        position[arcs] = np.arange(len(arcs))
        result = assignment_minimum(
            unit_size=arrays.unit_size[part],
            arc_unit=local[arrays.arc_unit[arcs]],
            arc_home=arrays.arc_home[arcs],
            arc_cost=coeff.arc[arcs],
            unplaced_cost=coeff.unplaced[part],
            unplaced_open=np.asarray(on.unplaced_open, dtype=bool)[part],
            home_capacity=places,
            home_full=np.asarray(on.full, dtype=bool),
            caps=[(kept.arc[arcs], kept.unplaced[part], limit) for kept, limit in caps],
            hint=None if choice is None else np.where(choice >= 0, position[np.maximum(choice, 0)], choice),
            time_limit=left,
            seed=seed,
            log=log,
            surely_feasible=exists,
        )
        plan = None if result.choice is None else np.where(result.choice >= 0, arcs[np.maximum(result.choice, 0)], -1)
        return result, plan

    for coeff in coeffs:
        stage = _flow_stage(node, coeff, arcs_of)
        if stage is None:
            return None
        flow_value = _part_value(node, stage, coeff, mine)
        rc = _reduced_costs(node, stage)
        if not _split_in(stage, units) and all(
            _part_value(node, stage, kept, mine) <= limit for kept, limit in caps
        ):
            # The flow keeps the part whole and within every earlier optimum: no MIP needed.
            choice = flow_choice(stage, -1)
            value = flow_value
        elif (upper := value_of(node, coeff, choice)) is not None and upper <= flow_value:
            if upper < flow_value:
                raise SolverError(f"A plan of a part has value {upper}, below its flow bound {flow_value}.")
            value = upper  # the hint (column generation's last plan) meets the part's bound
        else:
            left = None if deadline is None else deadline - time.perf_counter()
            if left is not None and left <= 0:
                return None
            if choice is None:
                # The flow's whole units where it put them, its split ones left open: the MIP
                # solver then completes the plan in a small sub-problem first.
                choice = flow_choice(stage, -2)
            # A plan at the flow's bound lies on its optimal face, which has far fewer arcs than
            # the node: look there first, and search the node only if the face has no plan.
            face = _copy(node)
            _apply(face, _face(face, rc, 0), arcs_of, into)
            result, plan = settle(face, coeff, left, exists=False)
            if result.objective is not None and result.objective != flow_value:
                raise SolverError(f"A plan on a part's optimal face has value {result.objective}, not {flow_value}.")
            if result.infeasible:
                left = None if deadline is None else deadline - time.perf_counter()
                wide = node
                if upper is not None:
                    # Reduced-cost fixing against the hint: a plan using an arc priced above
                    # the hint's excess over the bound is worse than the hint, so only arcs
                    # within it stay (on national's second round, the cost stage took 222 s
                    # instead of 343 s; km's excess is too wide against its prices to cut much).
                    wide = _copy(node)
                    _apply(wide, _face(wide, rc, upper - flow_value), arcs_of, into)
                result, plan = settle(wide, coeff, left, exists=True)
            if not result.proven or plan is None or result.objective is None:
                return None
            choice, value = plan, result.objective
        gap = value - flow_value
        if gap < 0:
            raise SolverError(f"A part's optimum {value} lies below its flow bound {flow_value}.")
        _apply(node, _face(node, rc, gap), arcs_of, into)
        if gap > 0:
            caps.append((coeff, value))
    assert choice is not None
    found = [0] * (n_arcs + n_units)
    for u, var in zip(part.tolist(), choice.tolist(), strict=True):
        found[var if var >= 0 else n_arcs + u] = 1
    return found


class _OutOfBudget(Exception):
    pass


@attrs.frozen
class _Relaxation:
    """The lexicographic LP optimum of a node: one flow bound per stage, each stage's flow taken
    on the optimal face of the stages before it, and the reduced costs of every stage."""

    vector: tuple[int, ...]
    reduced: tuple[_ReducedCosts, ...]
    last: _FlowStage


def _relax(
    state: _State, coeffs: Sequence[_Costs], arcs_of: Sequence[Sequence[int]], into: Sequence[Sequence[int]]
) -> _Relaxation | None:
    node = _copy(state)
    vector: list[int] = []
    reduced: list[_ReducedCosts] = []
    stage: _FlowStage | None = None
    for i, coeff in enumerate(coeffs):
        stage = _flow_stage(node, coeff, arcs_of)
        if stage is None:
            return None
        vector.append(stage.lower)
        reduced.append(_reduced_costs(node, stage))
        if i + 1 < len(coeffs):
            _apply(node, _face(node, reduced[-1], 0), arcs_of, into)
    assert stage is not None
    return _Relaxation(vector=tuple(vector), reduced=tuple(reduced), last=stage)


def _lex_greedy(
    state: _State,
    coeffs: Sequence[_Costs],
    arcs_of: Sequence[Sequence[int]],
    into: Sequence[Sequence[int]],
    root: _Relaxation,
    budget: int,
    focus: set[int] | None = None,
    deadline: float | None = None,
) -> tuple[list[int], tuple[int, ...]] | None:
    """A whole plan near the flow, as a first incumbent: fix each split group to whichever of
    the homes it partly uses (or "unplaced") gives the smallest re-solved bound."""
    node, current = state, root
    while split := _split_in(current.last, focus):
        u = max(split, key=lambda v: (state.unit_size[v], -v))
        chosen: tuple[tuple[int, ...], _State, _Relaxation] | None = None
        for var in _options(node, current.last, u, arcs_of, all_homes=False):
            budget -= len(coeffs)
            if budget < 0 or (deadline is not None and time.perf_counter() > deadline):
                return None
            trial = _fix_unit(node, u, var, arcs_of)
            attempt = _relax(trial, coeffs, arcs_of, into)
            if attempt is not None and (chosen is None or attempt.vector < chosen[0]):
                chosen = (attempt.vector, trial, attempt)
        if chosen is None:
            return None
        _, node, current = chosen
    return current.last.base, current.vector


def _lex_branch_and_bound(
    state: _State,
    coeffs: Sequence[_Costs],
    arcs_of: Sequence[Sequence[int]],
    into: Sequence[Sequence[int]],
    *,
    budget: int,
    deadline: float | None,
    focus: set[int] | None = None,
) -> tuple[list[int] | None, tuple[int, ...] | None, bool]:
    """The lexicographic optimum over all stages by depth-first branch and bound on flows.

    A node's bound is its lexicographic LP optimum (:func:`_relax`), which no plan in the node
    beats: a plan with the first stage at its bound is LP-optimal there, so it lies on that
    stage's face, and so on. A node whose last flow keeps every sibling group whole is solved.
    Otherwise it branches on the largest split group: first into the home holding most of it,
    then with that home forbidden. Below an incumbent, the reduced costs of the stages it ties
    and of the first it beats fix the arcs no better plan can use. The first whole plan found
    inside-first is the dive; when its vector equals the root bound it ends the search at once.

    With ``focus``, only those units count: a plan is whole when they are, and only they are
    branched on. The caller makes sure nothing outside them can change between nodes (see
    :func:`_by_component`).

    Returns the best plan's arc and unplaced values, its vector, and whether the search
    finished within ``budget`` flow solves (then the plan is the proven optimum).
    """
    best_values: list[int] | None = None
    best_vector: tuple[int, ...] | None = None
    left = budget

    def visit(node: _State, relaxation: _Relaxation) -> None:
        nonlocal best_values, best_vector, left
        if best_vector is not None and relaxation.vector >= best_vector:
            return
        last = relaxation.last
        split = _split_in(last, focus)
        if not split:
            best_values, best_vector = last.base, relaxation.vector
            return
        if best_vector is not None:
            node = _copy(node)
            for i, rc in enumerate(relaxation.reduced):
                gap = best_vector[i] - relaxation.vector[i]
                _apply(node, _face(node, rc, gap), arcs_of, into)
                if gap > 0:
                    break
        u = max(split, key=lambda v: (state.unit_size[v], -v))
        arcs, flows = last.shares(state, u)
        carried = {int(a): int(f) for a, f in zip(arcs.tolist(), flows.tolist(), strict=True) if f and node.active[a]}
        top = max(carried, key=lambda a: (carried[a], -a), default=None)
        if top is None:
            return
        outside = _copy(node)
        outside.active[top] = False
        for child in (_fix_unit(node, u, top, arcs_of), outside):
            left -= len(coeffs)
            if left < 0 or (deadline is not None and time.perf_counter() > deadline):
                raise _OutOfBudget
            child_relaxation = _relax(child, coeffs, arcs_of, into)
            if child_relaxation is not None:
                visit(child, child_relaxation)

    root = _relax(state, coeffs, arcs_of, into)
    if root is None:
        return None, None, False
    greedy = _lex_greedy(state, coeffs, arcs_of, into, root, GREEDY_BUDGET, focus, deadline) if GREEDY_BUDGET else None
    if greedy is not None:
        best_values, best_vector = greedy
    try:
        visit(state, root)
    except _OutOfBudget:
        return best_values, best_vector, False
    return best_values, best_vector, best_values is not None


def _initial_state(
    program: BinaryProgram,
    n_arcs: int,
    arc_unit: Sequence[int],
    arc_home: Sequence[int],
    unit_size: Sequence[int],
    home_free: Sequence[int],
) -> tuple[_State, list[list[int]], list[list[int]]]:
    """A state with nothing fixed yet, and each unit's and each home's arcs."""
    n_units, n_homes = len(unit_size), len(home_free)
    into: list[list[int]] = [[] for _ in range(n_homes)]
    arcs_of: list[list[int]] = [[] for _ in range(n_units)]
    for a in range(n_arcs):
        into[arc_home[a]].append(a)
        arcs_of[arc_unit[a]].append(a)
    state = _State(
        program=program,
        n_arcs=n_arcs,
        arc_unit=arc_unit,
        arc_home=arc_home,
        unit_size=unit_size,
        home_free=home_free,
        active=np.ones(n_arcs, dtype=bool),
        unplaced_open=np.ones(n_units, dtype=bool),
        forced=[None] * n_units,
        full=np.zeros(n_homes, dtype=bool),
        arrays=_Arrays(
            arc_unit=np.asarray(arc_unit, dtype=np.int64),
            arc_home=np.asarray(arc_home, dtype=np.int64),
            unit_size=np.asarray(unit_size, dtype=np.int64),
            home_free=np.asarray(home_free, dtype=np.int64),
        ),
    )
    return state, arcs_of, into


def lexicographic_minimum(
    program: BinaryProgram,
    stages: Sequence[LinearTerm],
    *,
    n_arcs: int,
    arc_unit: Sequence[int],
    arc_home: Sequence[int],
    unit_size: Sequence[int],
    home_free: Sequence[int],
    time_limit: float | None = None,
    seed: int = 0,
    workers: int = 1,
    log: bool = False,
    strategy: str = "flow",
    dive: bool = True,
    cpsat: Mapping[str, object] | None = None,
    incumbent: Sequence[int] | None = None,
) -> LexResult:
    """Minimise ``stages[0]``, then ``stages[1]`` among its minimisers, and so on.

    ``dive=False`` skips the dive on the optimal face (tests use it to reach the branch and
    bound on small instances). ``cpsat`` goes to every CP-SAT call as raw ``SatParameters``.
    ``incumbent`` (the arc and unplaced values of a feasible plan) settles every stage, from
    the first on, where it meets the flow's bound: column generation passes its last
    restricted optimum, which still holds the LP's values in the stages pricing has not
    reopened.

    The program's first ``n_arcs`` variables are unit-to-home arcs, the next
    ``len(unit_size)`` the units' "unplaced" variables, and any further ones sibling marks.
    """
    start = time.perf_counter()
    deadline = None if time_limit is None else start + time_limit
    n_units = len(unit_size)
    n_base = n_arcs + n_units
    state, arcs_of, into = _initial_state(program, n_arcs, arc_unit, arc_home, unit_size, home_free)
    fallback = _complete(program, n_base, [0] * n_arcs + [1] * n_units)
    known = None if incumbent is None else _complete(program, n_base, incumbent)
    best: list[int] | None = known
    following = known is not None  # the incumbent is optimal in every stage so far
    stage_values: list[int] = []
    proven = 0
    bound: int | None = None
    how: list[str] = []

    def left() -> float | None:
        return None if deadline is None else deadline - time.perf_counter()

    def by_cpsat(on: _State, term: LinearTerm, hint: list[int] | None) -> StageResult:
        return on.model(into).minimise(
            term, hint=hint, time_limit=left(), seed=seed, workers=workers, log=log, cpsat=cpsat
        )

    for k, term in enumerate(stages):
        if (remaining := left()) is not None and remaining <= 0:
            bound = 0
            break
        values: list[int] | None = None
        flowable = strategy == "flow" and all(v < n_base for v in term.vars)
        coeff = _per_flow(term, n_arcs, arc_unit, unit_size) if flowable else None
        if coeff is None:
            stage = None
        else:
            stage = _flow_stage(state, coeff, arcs_of)
        lower = stage.lower if stage is not None else 0
        if stage is not None and known is not None and following and term.evaluate(known) == lower:
            # A plan optimal in every stage before, at a bound that holds for all such plans,
            # is optimal in this one too (the fixings so far may have kept a tied other plan).
            values, method = known, "incumbent"
        elif stage is not None:
            if not stage.split:
                candidate = _complete(program, n_base, stage.base)
                if all(t.evaluate(candidate) <= z for t, z in state.bounds):
                    values, method = candidate, "flow"
            elif not state.bounds:
                # The flow splits a sibling group: make it whole part by independent part (a dive
                # on the optimal face, else a branch and bound), or failing that all at once.
                later_flowable = all(v < n_base for later in stages[k:] for v in later.vars)
                coeffs = [_per_flow(later, n_arcs, arc_unit, unit_size) for later in stages[k:]] if later_flowable else None
                mips: list[set[int]] = []  # the unit sets the MIP was asked to settle

                def mip(
                    on: _State, units: set[int], hint: Sequence[int] | None, coeffs: list[_Costs] | None = coeffs,
                    mips: list[set[int]] = mips, so_far: Sequence[int] | None = known if following else None,
                ) -> list[int] | None:
                    assert coeffs is not None
                    mips.append(units)
                    # An incumbent optimal in the stages so far is a near-optimal start, and its
                    # value a bound to fix arcs against (:func:`_by_mip`).
                    return _by_mip(
                        on, coeffs, arcs_of, into, units, deadline=deadline, seed=seed, log=log,
                        hint=so_far if hint is None else hint,
                    )

                # On a column generation round's incumbent the searches would only repeat the MIP.
                hinted = known is not None and following and coeffs is not None
                parted = _by_part(
                    state, stage, coeff, coeffs, arcs_of, into, dive=dive, deadline=deadline, mip=mip, hinted=hinted
                )
                if parted is not None:
                    base, held = parted
                    for u, var in held:
                        _hold(state, u, var, arcs_of, record=True)
                    # The rest's flow gives the duals for the next stages; it may pick another
                    # optimal vertex, but its value must be the plan's: the parts held are
                    # constants in it, and the others lie at their flow bounds.
                    settled = _flow_stage(state, coeff, arcs_of) if held else stage
                    values = _complete(program, n_base, base)
                    if settled is None or settled.lower != term.evaluate(values):
                        raise SolverError("The parts' optima do not add up to the flow of the rest.")
                    stage, lower, method = settled, settled.lower, "flow by part" + (" and mip" if mips else "")
                else:
                    dived = (
                        _dive_exact(state, coeff, stage, arcs_of, into, budget=8 * len(stage.split) + 40, deadline=deadline)
                        if dive and not hinted
                        else None
                    )
                    if dived is not None:
                        values, method = _complete(program, n_base, dived), "flow dive"
                if values is None and coeffs is not None:
                    free = {u for u, var in enumerate(state.forced) if var is None}
                    found, done = None, False
                    if len(free) <= MIP_FIRST and not hinted:
                        found, _, done = _lex_branch_and_bound(
                            state, coeffs, arcs_of, into, budget=BRANCH_BUDGET, deadline=deadline
                        )
                    finished = "flow branch and bound"
                    if not done:
                        # Every unit, held ones too, so the MIP's plan is complete.
                        whole = mip(state, set(range(n_units)), found)
                        if whole is not None:
                            found, done, finished = whole, True, "mip"
                    if done and found is not None:
                        best = _complete(program, n_base, found)
                        for later in stages[k:]:
                            stage_values.append(later.evaluate(best))
                            how.append(finished)
                        proven = len(stages)
                        break
                    if found is not None:
                        best = _complete(program, n_base, found)
                        # The flow bound holds for every plan; telling CP-SAT saves it proving it.
                        state.model(into).restrict(term, lower, 2**62)
        if values is None:
            result = by_cpsat(state, term, best)
            method = "cp-sat"
            if result.values is not None:
                values = list(result.values)
            if not result.proven:
                if values is not None and (best is None or term.evaluate(values) <= term.evaluate(best)):
                    best = values
                bound = max(result.bound, lower)
                stage_values.append(term.evaluate(best if best is not None else fallback))
                break
        assert values is not None
        optimum = term.evaluate(values)
        following = following and known is not None and term.evaluate(known) == optimum
        how.append(method)
        if log:
            print(
                f"[pipeline] stage {proven} by {method}: bound {lower}, optimum {optimum}, "
                f"active arcs {int(state.active.sum())}, forced units {sum(f is not None for f in state.forced)}, "
                f"{time.perf_counter() - start:.2f}s"
            )
        best = values
        stage_values.append(optimum)
        proven += 1
        if stage is None:
            state.bound(term, optimum)
            continue
        gap = optimum - lower
        if gap < 0:
            raise SolverError(f"A stage optimum {optimum} lies below its flow bound {lower}.")
        rc = _reduced_costs(state, stage)
        _apply(state, _face(state, rc, gap), arcs_of, into)
        if gap > 0:
            state.bound(term, optimum)

    if best is None:
        best = fallback
    return LexResult(
        values=tuple(best),
        proven=proven,
        stage_values=tuple(stage_values),
        bound=bound,
        wall_s=time.perf_counter() - start,
        engine=f"min-cost flow, scip and cp-sat from or-tools {ortools_version()} (stages by {', '.join(how) or 'none'})",
    )


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
    state: _State, stage: _FlowStage, rc: _ReducedCosts, outside: Outside, outside_cost: np.ndarray
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


def _plan_value(state: _State, coeff: _Costs, plan: np.ndarray) -> int:
    """A stage's value for ``plan`` (per unit, its arc, or -1 for unplaced)."""
    sizes = state.arrays.unit_size
    placed = plan >= 0
    return int((coeff.arc[plan[placed]] * sizes[placed]).sum()) + int((coeff.unplaced[~placed] * sizes[~placed]).sum())


def _excess(state: _State, stage: _FlowStage, rc: _ReducedCosts, plan: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
    state: _State,
    stage: _FlowStage,
    rc: _ReducedCosts,
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
            part_of_unit[list(_component(state, u, arcs_of, into))] = n_parts
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


def _best_per_unit(idx: np.ndarray, chosen: np.ndarray, reduced: np.ndarray, outside: Outside, per_unit: int) -> np.ndarray:
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
    but with nothing forced that an outside arc could still change (``_State.latent``). The
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
    state, arcs_of, into = _initial_state(program, n_arcs, arc_unit, arc_home, unit_size, home_free)
    n_units = len(unit_size)
    sizes = state.arrays.unit_size
    alive = np.ones(len(outside.unit), dtype=bool)
    none = np.zeros(0, dtype=np.int64)
    first_bound: int | None = None
    lower: list[int] = []
    alternatives = none
    for k, (arc_cost, unplaced_cost) in enumerate(costs):
        state.latent = np.bincount(outside.unit[alive], minlength=n_units)
        coeff = _Costs(arc=np.asarray(arc_cost, dtype=np.int64), unplaced=np.asarray(unplaced_cost, dtype=np.int64))
        stage = _flow_stage(state, coeff, arcs_of)
        if stage is None:
            return Pricing(wanted=none, certified=False, first_bound=first_bound, lower=tuple(lower), stage=k)
        rc = _reduced_costs(state, stage)
        idx = np.flatnonzero(alive)
        cost = outside.cost(k, idx)
        units, homes = outside.unit[idx], outside.home[idx]
        reduced = (cost + rc.unit_pi[units] - rc.home_pi[homes]) * sizes[units]
        if k == 0:  # every outside arc is still alive
            first_bound = _first_bound(state, stage, rc, outside, cost)
        lower.append(stage.lower)
        negative = np.flatnonzero(np.asarray(reduced < 0, dtype=bool))
        if negative.size:
            wanted = _best_per_unit(idx, negative, reduced, outside, per_unit)
            return Pricing(wanted=wanted, certified=False, first_bound=first_bound, lower=tuple(lower), stage=k)
        last = k + 1 == len(costs)
        held: list[tuple[int, int]] = []
        if plan is not None:
            value = _plan_value(state, coeff, plan)
            if value < stage.lower:
                raise SolverError(f"A stage optimum {value} lies below its flow bound {stage.lower}.")
            if value > stage.lower:
                threshold, held = _thresholds(state, stage, rc, plan, arcs_of, into, units, homes, value - stage.lower)
                # In the last stage only a strictly better plan matters, and values are integers;
                # before it, a tie may still win a later stage.
                below = reduced < threshold if last else (reduced <= threshold) & (threshold > 0)
                if below.any():
                    # Often a few of them close the gap (a split sibling group finds a home
                    # as cheap elsewhere), where all of them would swell the program (on
                    # national, 350 000 arcs): the best few per unit, then price again.
                    wanted = _best_per_unit(idx, np.flatnonzero(below), reduced, outside, per_unit)
                    return Pricing(wanted=wanted, certified=False, first_bound=first_bound, lower=tuple(lower), stage=k)
        alive[idx[np.asarray(reduced > 0, dtype=bool)]] = False
        if last:
            if plan is None and stage.split:
                alternatives = _alternatives(stage.split, idx[np.asarray(reduced == 0, dtype=bool)], outside, per_unit)
            break
        if held:
            # The parts with an excess keep the plan's places: every plan that ties with it
            # leaves them alone, and in them it is the lexicographic optimum already.
            for u, var in held:
                _hold(state, u, var, arcs_of)
            stage = _flow_stage(state, coeff, arcs_of)
            if stage is None or stage.lower != value:
                raise SolverError("The parts of a plan do not add up to its stage value.")
            rc = _reduced_costs(state, stage)
        face = _face(state, rc, 0)
        _apply(state, face, arcs_of, into)
        # A unit forced onto an arc, or a home every optimum leaves empty, takes no outside arc.
        forced = np.fromiter((v is not None for v in state.forced), dtype=bool, count=n_units)
        empty = np.zeros(len(home_free), dtype=bool)
        empty[face.empty] = True
        alive &= ~forced[outside.unit] & ~empty[outside.home]
    return Pricing(
        wanted=none,
        certified=True,
        first_bound=first_bound,
        lower=tuple(lower),
        stage=len(costs) - 1,
        alternatives=alternatives,
    )


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
