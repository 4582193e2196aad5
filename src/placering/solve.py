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

    exactly_one: list[list[int]] = [[] for _ in units]
    into: list[list[int]] = [[] for _ in homes]
    for a, (u, j) in enumerate(zip(arc_unit, arc_home, strict=True)):
        exactly_one[u].append(a)
        into[j].append(a)
    for u in range(len(units)):
        exactly_one[u].append(n_arcs + u)
    capacity = []
    for j, arcs in enumerate(into):
        sizes = [units[arc_unit[a]].size for a in arcs]
        if sum(sizes) > free_places[j]:
            capacity.append((LinearTerm(vars=tuple(arcs), coeffs=tuple(sizes)), free_places[j]))

    # One pass over the arcs fills every per-child term: counts by kind, cost and km.
    per_arc: dict[str, tuple[list[int], list[int]]] = {name: ([], []) for name in ("hvb", "consultant", "cost", "km")}
    origin = [scenario.children[unit.members[0]].municipality for unit in units]
    for a, (u, j) in enumerate(zip(arc_unit, arc_home, strict=True)):
        size, home = units[u].size, homes[j]
        for name, c in (
            ("hvb", size if home.kind == "hvb" else 0),
            ("consultant", size if home.kind == "consultant" else 0),
            ("cost", size * cost_units[j]),
            ("km", size * region.km_units(origin[u], home.municipality)),
        ):
            if c:
                per_arc[name][0].append(a)
                per_arc[name][1].append(c)
    terms = {
        "unplaced": LinearTerm(
            vars=tuple(n_arcs + u for u in range(len(units))), coeffs=tuple(unit.size for unit in units)
        ),
        **{name: LinearTerm(vars=tuple(vs), coeffs=tuple(cs)) for name, (vs, cs) in per_arc.items()},
    }
    # The range of a term bounds its value over every feasible plan: what each unit adds at most.
    ranges: dict[str, int] = {}
    for name, term in terms.items():
        most = [0] * len(units)
        for v, c in zip(term.vars, term.coeffs, strict=True):
            u = v - n_arcs if v >= n_arcs else arc_unit[v]
            most[u] = max(most[u], c)
        ranges[name] = sum(most)

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
    total: dict[int, int] = {}
    for name, weight in stage:
        term = model.terms[name]
        for v, c in zip(term.vars, term.coeffs, strict=True):
            total[v] = total.get(v, 0) + weight * c
    items = sorted((v, c) for v, c in total.items() if c)
    return LinearTerm(vars=tuple(v for v, _ in items), coeffs=tuple(c for _, c in items))


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
