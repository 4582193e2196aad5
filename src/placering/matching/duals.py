"""Duals of a stage's flow and the reduced-cost fixing they allow between stages.

Node potentials of the optimal flow give every arc's reduced cost ``rc``. With the stage
optimum ``z`` and ``gap = z - bound``: an arc with ``rc * size > gap`` is used by no plan of
value ``<= z``, and one with ``-rc * size > gap`` by all of them, so such arcs are fixed;
likewise homes proven empty or full. When ``gap == 0`` these fixings are complementary
slackness and describe the optimal face exactly, so the next stage needs no other
constraint; when ``gap > 0`` the stage is also kept as a bound ``term <= z``. Every fixing is
implied by optimality, so a lexicographic optimum found under them is exact.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import attrs
import numpy as np

from placering.exceptions import SolverError
from placering.matching.flow import FlowStage
from placering.matching.state import State

__all__ = ["Face", "ReducedCosts", "apply_face", "optimal_face", "potentials", "potentials_exact", "reduced_costs"]


def potentials(n_nodes: int, arcs: list[tuple[int, int, int]]) -> list[int]:
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
        return potentials_exact(n_nodes, arcs)
    return potentials_of(n_nodes, tail, head, cost).tolist()


def potentials_of(n_nodes: int, tail: np.ndarray, head: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """:func:`potentials` on arrays; int64 throughout unless a path sum could overflow it."""
    if len(cost) and int(np.abs(cost).max()) * (n_nodes + 1) >= 2**62:
        arcs = list(zip(tail.tolist(), head.tolist(), cost.tolist(), strict=True))
        return np.array(potentials_exact(n_nodes, arcs), dtype=object)
    dist = np.zeros(n_nodes, dtype=np.int64)
    for _ in range(n_nodes + 1):
        relaxed = dist.copy()
        np.minimum.at(relaxed, head, dist[tail] + cost)
        if np.array_equal(relaxed, dist):
            return dist
        dist = relaxed
    raise SolverError("The flow's residual graph has a negative cycle, so the flow is not optimal.")


def potentials_exact(n_nodes: int, arcs: list[tuple[int, int, int]]) -> list[int]:
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
class ReducedCosts:
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


def reduced_costs(state: State, stage: FlowStage) -> ReducedCosts:
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
    pi = potentials_of(sink + 1, tail, head, cost.astype(np.int64))
    return ReducedCosts(
        arc_ids=stage.flow_arcs,
        arcs=(c + pi[x] - pi[y]) * cap,
        unplaced_units=free[open_],
        unplaced=((cu + pi[i] - pi[sink]) * arrays.unit_size[free])[open_],
        homes=pi[n_free + homes] - pi[sink],
        unit_pi=np.where(local >= 0, pi[np.maximum(local, 0)], 0),
        home_pi=pi[n_free + homes],
        sink_pi=pi[sink],
    )


@attrs.frozen
class Face:
    """Fixings implied by the reduced costs for plans within ``gap`` of the flow bound."""

    arcs_off: list[int]
    forced: list[tuple[int, int]]
    unplaced_off: list[int]
    empty: list[int]
    full: list[int]


def optimal_face(state: State, rc: ReducedCosts, gap: int, within: np.ndarray | None = None) -> Face:
    """What every plan of value ``<= bound + gap`` must look like (see this module's docstring).

    With ``within`` (bool per unit), only what concerns those units and the homes their arcs
    reach: a piece of the matching that shares no home with the rest (see
    :mod:`placering.matching.pieces`) needs only its own plan's excess as ``gap``.
    """
    def above(values: np.ndarray) -> np.ndarray:  # boolean even for Python-int (object) arrays
        return np.asarray(values > gap, dtype=bool)

    unit_of = state.arrays.arc_unit
    arc_in = np.ones(len(rc.arc_ids), dtype=bool) if within is None else within[unit_of[rc.arc_ids]]
    unplaced_in = np.ones(len(rc.unplaced_units), dtype=bool) if within is None else within[rc.unplaced_units]
    full = np.asarray(state.full, dtype=bool)
    homes_in = ~full
    if within is not None:
        reached = np.zeros(len(full), dtype=bool)
        # Through arcs still open only: a home the piece no longer reaches may be another's.
        reached[state.arrays.arc_home[rc.arc_ids[arc_in & np.asarray(state.active, dtype=bool)[rc.arc_ids]]]] = True
        homes_in &= reached
    forced: list[tuple[int, int]] = []
    taken: set[int] = set()
    for a in rc.arc_ids[arc_in & above(-rc.arcs)].tolist():
        u = int(unit_of[a])
        if u not in taken:
            taken.add(u)
            forced.append((u, a))
    for u in rc.unplaced_units[unplaced_in & above(-rc.unplaced)].tolist():
        if u not in taken:
            taken.add(u)
            forced.append((u, state.n_arcs + u))
    return Face(
        arcs_off=rc.arc_ids[arc_in & above(rc.arcs)].tolist(),
        forced=forced,
        unplaced_off=rc.unplaced_units[unplaced_in & above(rc.unplaced)].tolist(),
        empty=np.flatnonzero(homes_in & above(rc.homes)).tolist(),
        full=np.flatnonzero(homes_in & above(-rc.homes)).tolist(),
    )


def _face_fixes(
    state: State, face: Face, arcs_of: Sequence[Sequence[int]], into: Sequence[Sequence[int]]
) -> tuple[list[tuple[int, int]], list[int]]:
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


def apply_face(state: State, face: Face, arcs_of: Sequence[Sequence[int]], into: Sequence[Sequence[int]]) -> None:
    """Fix in ``state`` what ``face`` proves, and force the units left with one way to go."""
    fixes, full = _face_fixes(state, face, arcs_of, into)
    for u, var in face.forced:
        state.forced[u] = var
    for var, value in fixes:
        # Each variable is told to a CP-SAT model once: a 0 only while it is still open.
        open_ = state.active if var < state.n_arcs else state.unplaced_open
        at = var if var < state.n_arcs else var - state.n_arcs
        if value == 0 and open_[at]:
            open_[at] = False
            state.fix(var, 0)
        elif value == 1:
            state.fix(var, 1)
    for h in full:
        state.set_full(h, into[h])
    _force_last_ways(state, arcs_of)


def _force_last_ways(state: State, arcs_of: Sequence[Sequence[int]]) -> None:
    """A unit left with one way to go is forced there: the flows after this get smaller."""
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
