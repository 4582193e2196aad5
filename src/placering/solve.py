"""Optimal matching: :func:`solve` turns a scenario into a proven lexicographic optimum.

The formulation, over *units* (a child, or under ``siblings="together"`` a whole sibling
group that must share one home):

- ``x[u, h]`` for each home ``h`` that rules 1-6 allow for every member of ``u`` and that has
  room for all of them; ``n[u]`` when ``u`` stays unplaced;
- (1) every unit takes exactly one of its ``x[u, h]`` or ``n[u]``;
- (2) ``sum(size[u] * x[u, h]) <= free places of h`` (capacity minus kept children);
- under ``"prefer"``, ``y[g, h]`` marks that group ``g`` has a child in ``h`` and ``z[g]``
  that it has any: ``x[c, h] -> y[g, h] -> any member in h``, ``z[g] -> any y[g, h]``, and
  ``split_siblings = sum(y) - sum(z)``;
- children kept in their current home (rule 9) are constants, not variables.

The objective terms are integer (km and costs are scaled to whole units, see
:func:`placering.region.decimal_scale`). Consecutive terms are merged into one weighted
stage while the weighted sum provably keeps their order (each weight exceeds the range of
everything after it) and stays below ``2**40``; the stages are then minimised one after the
other, each under the proven optima of the earlier ones.
"""

from __future__ import annotations

import time
from collections import Counter

import attrs
import numpy as np

from placering.eligibility import eligible_homes
from placering.params import SolveParams
from placering.pipeline import lexicographic_minimum
from placering.program import BinaryProgram, LexResult, LinearTerm
from placering.region import decimal_scale
from placering.result import (
    TOTAL_OF_TERM,
    Plan,
    SolverStats,
    totals_of,
)
from placering.scenario import Scenario

__all__ = ["MatchingModel", "build_matching", "solve"]

#: Largest value a merged stage's weighted objective may reach. CP-SAT is exact in int64,
#: but its LP works in doubles; 2**40 leaves ample headroom below 2**53.
STAGE_LIMIT = 2**40


@attrs.frozen(kw_only=True)
class Unit:
    """Children that are placed as one: a single child or a sibling group kept together."""

    members: tuple[int, ...]
    homes: tuple[int, ...]

    @property
    def size(self) -> int:
        return len(self.members)


@attrs.frozen(kw_only=True)
class MatchingModel:
    """The matching of one scenario as a 0-1 program with one integer vector per term."""

    units: tuple[Unit, ...]
    arc_unit: tuple[int, ...]
    arc_home: tuple[int, ...]
    program: BinaryProgram
    terms: dict[str, LinearTerm]
    ranges: dict[str, int]
    free_places: tuple[int, ...]
    scales: dict[str, int]

    @property
    def n_arcs(self) -> int:
        return len(self.arc_unit)


def _units(scenario: Scenario, eligible: list[tuple[int, ...]]) -> list[Unit]:
    index = {c.id: i for i, c in enumerate(scenario.children)}
    free = [i for i, c in enumerate(scenario.children) if not scenario.is_kept(c)]
    if scenario.policy.siblings != "together":
        return [Unit(members=(i,), homes=eligible[i]) for i in free]
    units: list[Unit] = []
    seen: set[str] = set()
    groups = scenario.sibling_groups
    for i in free:
        group = scenario.children[i].sibling_group
        if group is None:
            units.append(Unit(members=(i,), homes=eligible[i]))
        elif group not in seen:
            seen.add(group)
            members = tuple(index[c.id] for c in groups[group])
            shared = set(eligible[members[0]]).intersection(*(eligible[m] for m in members[1:]))
            units.append(Unit(members=members, homes=tuple(sorted(shared))))
    return units


def build_matching(scenario: Scenario) -> MatchingModel:
    """The 0-1 program of the matching, with the integer vector of every objective term."""
    homes = scenario.homes
    region = scenario.region
    kept = Counter(c.current_home for c in scenario.children if scenario.is_kept(c))
    free_places = [h.capacity - kept[h.id] for h in homes]
    cost_scale = decimal_scale(scenario.cost_of(h) for h in homes)
    cost_units = [round(scenario.cost_of(h) * cost_scale) for h in homes]
    units = _units(scenario, eligible_homes(scenario))

    arc_unit: list[int] = []
    arc_home: list[int] = []
    for u, unit in enumerate(units):
        for j in unit.homes:
            if free_places[j] >= unit.size:
                arc_unit.append(u)
                arc_home.append(j)
    n_arcs = len(arc_unit)
    n_vars = n_arcs + len(units)

    # The rest is numpy: county and national models have 10^5-10^7 arcs.
    au = np.asarray(arc_unit, dtype=np.int64)
    ah = np.asarray(arc_home, dtype=np.int64)
    size = np.asarray([unit.size for unit in units], dtype=np.int64)
    free = np.asarray(free_places, dtype=np.int64)
    arc_ids = np.arange(n_arcs, dtype=np.int64)
    # Arcs are listed unit by unit, so each unit's arcs are one slice; its "unplaced" var last.
    starts = np.searchsorted(au, np.arange(len(units) + 1)).tolist()
    ids = arc_ids.tolist()
    exactly_one = [(*ids[starts[u] : starts[u + 1]], n_arcs + u) for u in range(len(units))]
    by_home = np.argsort(ah, kind="stable")
    home_starts = np.searchsorted(ah[by_home], np.arange(len(homes) + 1)).tolist()
    demand = np.bincount(ah, weights=size[au], minlength=len(homes))
    capacity = []
    for j in np.flatnonzero(demand > free).tolist():
        arcs = by_home[home_starts[j] : home_starts[j + 1]]
        capacity.append((LinearTerm(vars=tuple(arcs.tolist()), coeffs=tuple(size[au[arcs]].tolist())), free_places[j]))

    # Every per-child term at once: counts by kind, cost and km, each times the unit's size.
    kind = np.asarray([h.kind for h in homes])
    codes = {code: i for i, code in enumerate(region.codes)}
    km_units = np.asarray([[region.km_units(a, b) for b in region.codes] for a in region.codes], dtype=np.int64)
    origin = np.asarray([codes[scenario.children[unit.members[0]].municipality] for unit in units], dtype=np.int64)
    at = np.asarray([codes[h.municipality] for h in homes], dtype=np.int64)
    per_arc = {
        "hvb": size[au] * (kind[ah] == "hvb"),
        "consultant": size[au] * (kind[ah] == "consultant"),
        "cost": size[au] * np.asarray(cost_units, dtype=np.int64)[ah],
        "km": size[au] * km_units[origin[au], at[ah]] if n_arcs else np.zeros(0, dtype=np.int64),
    }

    def sparse(coeffs: np.ndarray) -> LinearTerm:
        used = np.flatnonzero(coeffs)
        return LinearTerm(vars=tuple(used.tolist()), coeffs=tuple(coeffs[used].tolist()))

    terms = {
        "unplaced": LinearTerm(vars=tuple(range(n_arcs, n_vars)), coeffs=tuple(size.tolist())),
        **{name: sparse(coeffs) for name, coeffs in per_arc.items()},
    }
    # The range of a term bounds its value over every feasible plan: what each unit adds at most.
    ranges = {"unplaced": int(size.sum())}
    for name, coeffs in per_arc.items():
        most = np.zeros(len(units), dtype=np.int64)
        np.maximum.at(most, au, coeffs)
        ranges[name] = int(most.sum())

    implications: list[tuple[int, int]] = []
    covers: list[tuple[int, tuple[int, ...]]] = []
    split_vars: list[int] = []
    split_coeffs: list[int] = []
    split_range = 0
    if scenario.policy.siblings == "prefer":
        unit_of = {unit.members[0]: u for u, unit in enumerate(units)}
        index = {c.id: i for i, c in enumerate(scenario.children)}
        arcs_of_unit: list[list[int]] = [[] for _ in units]
        for a, u in enumerate(arc_unit):
            arcs_of_unit[u].append(a)
        for members in scenario.sibling_groups.values():
            member_units = [unit_of[index[c.id]] for c in members if index[c.id] in unit_of]
            if len(member_units) < 2:
                continue
            split_range += len(member_units) - 1
            by_home: dict[int, list[int]] = {}
            for u in member_units:
                for a in arcs_of_unit[u]:
                    by_home.setdefault(arc_home[a], []).append(a)
            ys = []
            for arcs in by_home.values():
                y = n_vars
                n_vars += 1
                ys.append(y)
                implications.extend((a, y) for a in arcs)
                covers.append((y, tuple(arcs)))
                split_vars.append(y)
                split_coeffs.append(1)
            z = n_vars
            n_vars += 1
            covers.append((z, tuple(ys)))
            split_vars.append(z)
            split_coeffs.append(-1)
    terms["split_siblings"] = LinearTerm(vars=tuple(split_vars), coeffs=tuple(split_coeffs))
    ranges["split_siblings"] = split_range

    program = BinaryProgram(
        n_vars=n_vars,
        exactly_one=tuple(tuple(lits) for lits in exactly_one),
        capacity=tuple(capacity),
        implications=tuple(implications),
        covers=tuple(covers),
    )
    return MatchingModel(
        units=tuple(units),
        arc_unit=tuple(arc_unit),
        arc_home=tuple(arc_home),
        program=program,
        terms=terms,
        ranges=ranges,
        free_places=tuple(free_places),
        scales={"cost": cost_scale, "km": region.km_scale},
    )


def stages_of(model: MatchingModel, objective: tuple[str, ...]) -> list[list[tuple[str, int]]]:
    """Group consecutive terms into weighted stages that keep the lexicographic order exactly.

    Within a stage ``sum(w_t * t)``, each weight exceeds the largest value the terms after it
    can reach together, so comparing the sums compares the terms in order.
    """
    stages: list[list[tuple[str, int]]] = []
    current: list[tuple[str, int]] = []
    top = 0  # the largest value the current stage's weighted sum can take
    for name in objective:
        span = model.ranges[name]
        grown = top * (span + 1) + span
        if current and grown > STAGE_LIMIT:
            stages.append(current)
            current, top, grown = [], 0, span
        current = [(t, w * (span + 1)) for t, w in current] + [(name, 1)]
        top = grown
    if current:
        stages.append(current)
    return stages


def _stage_term(model: MatchingModel, stage: list[tuple[str, int]]) -> LinearTerm:
    # Summed in numpy: weights and coefficients stay below STAGE_LIMIT, far inside int64.
    total = np.zeros(model.program.n_vars, dtype=np.int64)
    for name, weight in stage:
        term = model.terms[name]
        np.add.at(total, np.asarray(term.vars, dtype=np.int64), weight * np.asarray(term.coeffs, dtype=np.int64))
    used = np.flatnonzero(total)
    return LinearTerm(vars=tuple(used.tolist()), coeffs=tuple(total[used].tolist()))


def _bounds(
    scenario: Scenario,
    model: MatchingModel,
    stages: list[list[tuple[str, int]]],
    result: LexResult,
    home_of: dict[str, str],
) -> dict[str, float]:
    """Certified lower bounds on the terms a time-limited solve did not prove.

    Within the first unproven stage, ``sum(w_t * t) >= bound``: the leading term is at least
    ``bound // w``, and when the plan reaches that, the term is proven and the rest of the
    bound carries over to the next term (among plans that keep the proven terms). Terms after
    the first unproven one are bounded only by what the kept children contribute.
    """
    if result.proven == len(stages):
        return {}
    kept = totals_of(scenario, {c: h for c, h in home_of.items() if scenario.is_kept(scenario.child(c))})
    bounds: dict[str, float] = {}
    remaining = result.bound or 0
    open_terms = False
    for stage in stages[result.proven :]:
        for name, weight in stage:
            scale = model.scales.get(name, 1)
            base = 0 if name == "unplaced" else kept.term(name)  # kept children are placed
            if open_terms:
                bounds[TOTAL_OF_TERM[name]] = base
                continue
            reached = model.terms[name].evaluate(result.values)
            least = remaining // weight
            if least >= reached:  # the plan meets the bound: this term is proven
                remaining -= weight * reached
                continue
            bounds[TOTAL_OF_TERM[name]] = base + least / scale
            open_terms = True
        open_terms = True  # a later stage was never reached
    return bounds


def solve(
    scenario: Scenario,
    params: SolveParams | None = None,
    *,
    time_limit: float | None = None,
    seed: int | None = None,
    workers: int | None = None,
    explain: bool = True,
) -> Plan:
    """Place the children of ``scenario`` in the lexicographically best way its policy allows.

    Keyword arguments override the matching fields of ``params``. The plan's status is
    ``optimal`` only when every objective term was proven minimal; under a time limit it may be
    ``feasible``, with ``bounds`` giving a certified lower bound for the terms not proven.
    Unless ``explain`` is false, every child in an HVB or consultant home and every unplaced
    child gets an explanation.
    """
    params = (params or SolveParams()).replace(time_limit=time_limit, seed=seed, workers=workers)
    start = time.perf_counter()
    model = build_matching(scenario)
    built = time.perf_counter()
    objective = scenario.policy.effective_objective()
    stages = stages_of(model, objective)
    remaining = None if params.time_limit is None else max(0.0, params.time_limit - (time.perf_counter() - start))
    result = lexicographic_minimum(
        model.program,
        [_stage_term(model, stage) for stage in stages],
        n_arcs=model.n_arcs,
        arc_unit=model.arc_unit,
        arc_home=model.arc_home,
        unit_size=[unit.size for unit in model.units],
        home_free=model.free_places,
        time_limit=remaining,
        seed=params.seed,
        workers=params.workers,
        log=params.log,
        strategy=params.strategy,
        cpsat=params.cpsat,
    )

    home_of: dict[str, str] = {}
    for child in scenario.children:
        if scenario.is_kept(child):
            assert child.current_home is not None
            home_of[child.id] = child.current_home
    for a, (u, j) in enumerate(zip(model.arc_unit, model.arc_home, strict=True)):
        if result.values[a]:
            for m in model.units[u].members:
                home_of[scenario.children[m].id] = scenario.homes[j].id
    bounds = _bounds(scenario, model, stages, result, home_of)
    plan = attrs.evolve(
        Plan.from_home_of(scenario, home_of, status="optimal" if result.proven == len(stages) else "feasible"),
        bounds=bounds,
    )
    if explain:
        from placering.explain import explain_plan

        plan = explain_plan(scenario, plan)
    return attrs.evolve(
        plan,
        solver=SolverStats(
            wall_s=round(time.perf_counter() - start, 4),
            build_s=round(built - start, 4),
            solve_s=round(result.wall_s, 4),
            seed=params.seed,
            workers=params.workers,
            stages=len(stages),
            units=len(model.units),
            arcs=model.n_arcs,
            engine=result.engine,
        ),
    )
