"""The recruitment plan's optimum (design.md section 9): how many homes of each profile each
member recruits, under a budget, so that the policy's lexicographic objective over the totals
summed across the demand years is least.

One 0-1 program over all demand years, solved stage by stage as a plan is:

- ``z[q, k]`` says that the ``k``-th home of candidate ``q`` (a member and a profile) is
  recruited, with ``z[q, k + 1] <= z[q, k]`` (the homes are alike, so only their number
  counts) and ``sum(cost[q] * z[q, k]) <= budget``, counted in whole öre;
- each year is the matching of :mod:`placering.matching.model` over today's homes and one
  *candidate home* per ``q``, whose places are ``capacity[q] * sum_k z[q, k]`` in that year.
  That is exact while every sibling group that could live there is larger than half its
  places (a ``siblings`` home of 3 takes at most one group of 2 or 3, and singles fill any
  place): the group count is bounded by the number of homes and the children by the places,
  and any such filling splits into homes (first fit, groups first, see :func:`_into_homes`).
  Where a smaller group could share a home, the year gets one home per ``k`` instead, each
  with ``capacity[q] * z[q, k]`` places;
- the objective's terms are summed over the years and minimised in stages, each stage's
  optimum kept as a bound for the next (:func:`placering.matching.model.stages_of` merges
  terms while the weights stay exact); last, among equal optima, the least money spent.

Because a recruited home exists in every year and each year uses it on its own, this is the
contract's problem itself, not a relaxation: its optimum is the lexicographic optimum, and a
stage's bound under a time limit is certified. For a recruitment found but not proven, each
year is then solved again with it (a plain :func:`placering.solve`), which can only improve
the totals reported.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Mapping, Sequence

import attrs
import numpy as np

from placering import _fields as f
from placering.cooperation.coalition import check_members, default_members
from placering.exceptions import InvalidInputError
from placering.homes import Home
from placering.matching.model import Arcs, MatchingModel, all_arcs, build_matching
from placering.params import SolveParams
from placering.program import BinaryProgram, LinearTerm
from placering.recruitment.decision import Recruitment, oere, recruited_id
from placering.recruitment.demand import check_years
from placering.recruitment.profiles import Profile
from placering.result import TOTAL_OF_TERM, Plan, Totals, totals_of
from placering.scenario import Scenario

__all__ = ["DEFAULT_MAX_PER_MUNICIPALITY", "Optimum", "optimal_recruitment"]

log = logging.getLogger(__name__)

#: The most homes of one profile one municipality recruits, unless said otherwise.
DEFAULT_MAX_PER_MUNICIPALITY = 5

#: Above this many arcs over all years, CP-SAT is given the short program (measured: the whole
#: program of 20 demo years, 740 000 variables, gave no solution nor bound in 80 s, while 20
#: years of 120 children, 51 000 variables, were proven in 160-190 s).
FULL_ARCS = 200_000

#: Arcs a unit keeps in the short program, into today's homes and into the candidates' each.
SHORT_ARCS = 4

#: The most homes of one profile one municipality may be asked to recruit.
MAX_PER_MUNICIPALITY = 100


@attrs.frozen(kw_only=True)
class Optimum:
    """The best recruitment found and what it gives on the training years.

    ``status`` is ``optimal`` only when the lexicographic optimum over the summed totals is
    proven, else ``feasible`` with ``bounds``: a certified lower bound on each summed term not
    proven (the names of :attr:`Plan.bounds`), valid for every recruitment the budget allows.
    ``plans[k]`` is year ``k``'s plan with the recruited homes (its scenario is
    ``recruitment.apply(years[k], profiles)``); ``base[k]`` year ``k``'s plan without them.
    ``totals`` sums the ``plans``' totals.
    """

    status: str
    recruitment: Recruitment
    spent: float
    totals: Totals
    bounds: Mapping[str, float]
    plans: tuple[Plan, ...]
    base: tuple[Plan, ...]
    seconds: float


@attrs.frozen
class _Candidate:
    """Member ``municipality`` may recruit up to ``most`` homes of ``profile``."""

    municipality: str
    profile: Profile
    most: int

    def home(self, k: int) -> Home:
        return self.profile.home(self.municipality, recruited_id(self.municipality, self.profile.name, k))


@attrs.frozen
class _Year:
    """One demand year in the program: its matching over today's homes and the candidates'
    homes, where its variables start, and which of its homes belong to which candidate."""

    scenario: Scenario  # the year with the candidates' homes appended
    model: MatchingModel
    offset: int
    #: ``homes_of[i]``: the indices (in ``scenario.homes``) of candidate ``i``'s homes: one
    #: shared home, or one per ``k`` (``shared[i]`` says which).
    homes_of: tuple[tuple[int, ...], ...]
    shared: tuple[bool, ...]


def _shares_exactly(arcs: Arcs, home: int, capacity: int) -> bool:
    """Whether one home with the places of several stands for them exactly: every group that
    may use it is larger than half a home, so no two groups ever share one."""
    units = arcs.unit[arcs.home == home]
    sizes = arcs.unit_size[units]
    return bool(np.all((sizes == 1) | (2 * sizes > capacity)))


def _short_list(arcs: Arcs, today: int, base_home: np.ndarray, most: int) -> np.ndarray:
    """Each unit's arc in today's plan and its ``most`` best arcs into today's homes and into
    the candidates' (by hvb, consultant, cost, then km): the arcs of the short program."""
    t = arcs.per_child
    order = np.lexsort((t["km"], t["cost"], t["consultant"], t["hvb"], arcs.unit))
    keep = arcs.home == base_home[arcs.unit]
    new = arcs.home >= today
    for chosen in (~new, new):
        arcs_of = order[chosen[order]]
        units = arcs.unit[arcs_of]
        rank = np.arange(len(arcs_of)) - np.searchsorted(units, units)
        keep[arcs_of[rank < most]] = True
    return keep


def _year(
    year: Scenario,
    candidates: Sequence[_Candidate],
    offset: int,
    scales: Mapping[str, int],
    short: tuple[Plan, int] | None = None,
) -> _Year:
    n_today = len(year.homes)
    shared_try = attrs.evolve(year, homes=[*year.homes, *(c.home(1) for c in candidates)])
    arcs = all_arcs(shared_try)
    shared = tuple(_shares_exactly(arcs, n_today + i, c.profile.capacity) for i, c in enumerate(candidates))
    homes: list[Home] = list(year.homes)
    homes_of: list[tuple[int, ...]] = []
    for c, one in zip(candidates, shared, strict=True):
        start = len(homes)
        homes.extend([c.home(1)] if one else [c.home(k) for k in range(1, c.most + 1)])
        homes_of.append(tuple(range(start, len(homes))))
    scenario = shared_try if all(shared) else attrs.evolve(year, homes=homes)
    if not all(shared):
        arcs = all_arcs(scenario)
    arcs = _common_scales(arcs, scales)
    # A candidate's places are rows of their own (places times homes recruited), so the
    # matching gets no row for them: more free places than all its children together.
    room = len(year.children) + 1
    free = list(arcs.free_places)
    for own in homes_of:
        for j in own:
            free[j] = room
    keep = None
    if short is not None:
        plan, most = short
        index = {h.id: j for j, h in enumerate(scenario.homes)}
        home_of = plan.home_of()
        base_home = np.asarray(
            [index.get(home_of.get(scenario.children[u.members[0]].id, ""), -1) for u in arcs.units], dtype=np.int64
        )
        keep = _short_list(arcs, len(year.homes), base_home, most)
    model = build_matching(scenario, arcs=attrs.evolve(arcs, free_places=tuple(free)), keep=keep)
    return _Year(scenario=scenario, model=model, offset=offset, homes_of=tuple(homes_of), shared=shared)


def _common_scales(arcs: Arcs, scales: Mapping[str, int]) -> Arcs:
    """The arcs with km and costs in the years' common units (each scale a power of ten)."""
    per_child = dict(arcs.per_child)
    ranges = dict(arcs.ranges)
    for name, scale in arcs.scales.items():
        factor = scales[name] // scale
        if factor != 1:
            per_child[name] = per_child[name].astype(np.int64) * factor
            ranges[name] *= factor
    return attrs.evolve(arcs, per_child=per_child, scales=dict(scales), ranges=ranges)


@attrs.define
class _Program:
    """The whole program: the years' matchings side by side, then the ``z[q, k]``."""

    years: list[_Year]
    candidates: Sequence[_Candidate]
    n_vars: int = 0
    z: list[list[int]] = attrs.field(factory=list)
    rows: list[tuple[LinearTerm, int, int]] = attrs.field(factory=list)

    def binary(self) -> BinaryProgram:
        exactly_one: list[tuple[int, ...]] = []
        capacity: list[tuple[LinearTerm, int]] = []
        implications: list[tuple[int, int]] = []
        covers: list[tuple[int, tuple[int, ...]]] = []
        for y in self.years:
            p, o = y.model.program, y.offset
            exactly_one.extend(tuple(v + o for v in lits) for lits in p.exactly_one)
            capacity.extend((_shift(term, o), bound) for term, bound in p.capacity)
            implications.extend((a + o, b + o) for a, b in p.implications)
            covers.extend((z + o, tuple(v + o for v in ys)) for z, ys in p.covers)
        for zs in self.z:
            implications.extend(zip(zs[1:], zs[:-1], strict=True))  # z[q, k+1] <= z[q, k]
        return BinaryProgram(
            n_vars=self.n_vars, exactly_one=tuple(exactly_one), capacity=tuple(capacity),
            implications=tuple(implications), covers=tuple(covers),
        )


def _shift(term: LinearTerm, offset: int) -> LinearTerm:
    return LinearTerm(vars=tuple(v + offset for v in term.vars), coeffs=term.coeffs)


def _build(
    years: Sequence[Scenario],
    candidates: Sequence[_Candidate],
    budget_oere: int,
    short: tuple[Sequence[Plan], int] | None = None,
) -> _Program:
    """The program over ``years``; with ``short`` (today's plans and a number of arcs), the
    short program: each unit only today's arc and its best few (:func:`_short_list`)."""
    scales = {"cost": max(y.cost_scale for y in years), "km": max(y.region.km_scale for y in years)}
    program = _Program(years=[], candidates=candidates)
    for k, year in enumerate(years):
        built = _year(year, candidates, program.n_vars, scales, None if short is None else (short[0][k], short[1]))
        program.years.append(built)
        program.n_vars += built.model.program.n_vars
    for c in candidates:
        program.z.append(list(range(program.n_vars, program.n_vars + c.most)))
        program.n_vars += c.most
    for y in program.years:
        _places(program, y)
    every_z = [v for zs in program.z for v in zs]
    costs = [oere(c.profile.recruitment_cost) for c in candidates for _ in range(c.most)]
    program.rows.append((LinearTerm(vars=tuple(every_z), coeffs=tuple(costs)), 0, budget_oere))
    return program


def _places(program: _Program, y: _Year) -> None:
    """The rows that give each candidate home of year ``y`` the places recruited."""
    m = y.model
    arcs_into: dict[int, list[int]] = {}
    for a, j in enumerate(m.arc_home):
        arcs_into.setdefault(j, []).append(a)
    for c, own, zs, shared in zip(program.candidates, y.homes_of, program.z, y.shared, strict=True):
        cap = c.profile.capacity
        if shared:
            into = arcs_into.get(own[0], [])
            size = [m.units[m.arc_unit[a]].size for a in into]
            # sum(size * x) <= capacity * (homes recruited)
            program.rows.append(_row(into, size, y.offset, zs, -cap))
            groups = [a for a, s in zip(into, size, strict=True) if s > 1]
            if groups:  # a group a home: no two fit in one
                program.rows.append(_row(groups, [1] * len(groups), y.offset, zs, -1))
            continue
        for j, z in zip(own, zs, strict=True):
            into = arcs_into.get(j, [])
            program.rows.append(_row(into, [m.units[m.arc_unit[a]].size for a in into], y.offset, [z], -cap))


def _row(
    arcs: Sequence[int], coeffs: Sequence[int], offset: int, zs: Sequence[int], per_z: int
) -> tuple[LinearTerm, int, int]:
    """``sum(coeffs * x[arcs]) + per_z * sum(z) <= 0``."""
    term = LinearTerm(vars=(*(a + offset for a in arcs), *zs), coeffs=(*coeffs, *([per_z] * len(zs))))
    return term, -(2**62), 0


def _objective(program: _Program, name: str) -> LinearTerm:
    total: dict[int, int] = {}
    for y in program.years:
        term = y.model.terms[name]
        for v, c in zip(term.vars, term.coeffs, strict=True):
            total[v + y.offset] = total.get(v + y.offset, 0) + c
    used = sorted(v for v, c in total.items() if c)
    return LinearTerm(vars=tuple(used), coeffs=tuple(total[v] for v in used))


#: A stage's weighted objective stays below this: SCIP compares in doubles with tolerances, so
#: terms are merged only while a stage's values stay small enough to be told apart exactly.
MIP_STAGE_LIMIT = 2**31


def _stages(ranges: Mapping[str, int], names: Sequence[str]) -> list[list[tuple[str, int]]]:
    """Consecutive terms merged into weighted stages while each weight exceeds the range of
    everything after it and a stage's values stay below :data:`MIP_STAGE_LIMIT`."""
    stages: list[list[tuple[str, int]]] = []
    current: list[tuple[str, int]] = []
    top = 0
    for name in names:
        span = ranges[name]
        grown = top * (span + 1) + span
        if current and grown >= MIP_STAGE_LIMIT:
            stages.append(current)
            current, grown = [], span
        current = [(t, w * (span + 1)) for t, w in current] + [(name, 1)]
        top = grown
    if current:
        stages.append(current)
    return stages


def _stage_term(terms: Mapping[str, LinearTerm], stage: Sequence[tuple[str, int]]) -> LinearTerm:
    total: dict[int, int] = {}
    for name, weight in stage:
        term = terms[name]
        for v, c in zip(term.vars, term.coeffs, strict=True):
            total[v] = total.get(v, 0) + weight * c
    used = sorted(v for v, c in total.items() if c)
    return LinearTerm(vars=tuple(used), coeffs=tuple(total[v] for v in used))


# --- inputs -----------------------------------------------------------------------------------


def _check(budget: float, max_per_municipality: int, profiles: Sequence[Profile]) -> None:
    if not f.is_number(budget) or not 0 <= budget <= 1e12:
        raise InvalidInputError(f"budget must be a number of kr 0-1e12, got {budget!r}", entity="recruitment",
                                field="budget")
    if isinstance(max_per_municipality, bool) or not isinstance(max_per_municipality, int) or not (
        0 <= max_per_municipality <= MAX_PER_MUNICIPALITY
    ):
        raise InvalidInputError(
            f"max_per_municipality must be an integer 0-{MAX_PER_MUNICIPALITY}, got {max_per_municipality!r}",
            entity="recruitment", field="max_per_municipality",
        )
    names = [p.name for p in profiles]
    if not all(isinstance(p, Profile) for p in profiles):
        raise TypeError("profiles must be Profile objects (read a file with placering.recruitment.read_profiles)")
    if len(set(names)) != len(names):
        raise InvalidInputError("profile names must be unique", entity="recruitment", field="profiles")


def _candidates(
    members: Sequence[str], profiles: Sequence[Profile], budget_oere: int, most: int
) -> list[_Candidate]:
    out = []
    for m in members:
        for p in profiles:
            cost = oere(p.recruitment_cost)
            k = most if cost == 0 else min(most, budget_oere // cost)
            if k > 0 and p.capacity > 0:
                out.append(_Candidate(m, p, k))
    return out


# --- the solve ------------------------------------------------------------------------------------


def optimal_recruitment(
    years: Sequence[Scenario],
    profiles: Sequence[Profile],
    budget: float,
    *,
    members: Iterable[str] | None = None,
    max_per_municipality: int = DEFAULT_MAX_PER_MUNICIPALITY,
    params: SolveParams | None = None,
) -> Optimum:
    """The recruitment of design.md section 9 over ``years`` (checked alike by
    :func:`placering.recruitment.demand.check_years`); ``members`` default as in section 8,
    of the first year. Among equally good recruitments, the one that spends least.

    ``params.time_limit`` bounds the whole search; the years' plain solves come on top.
    """
    from placering.solve import solve

    start = time.perf_counter()
    years = check_years(years)
    profiles = tuple(profiles)
    _check(budget, max_per_municipality, profiles)
    first = years[0]
    try:
        chosen = check_members(first, default_members(first) if members is None else members)
    except InvalidInputError as error:
        raise error.located(entity="recruitment") from None
    params = params or SolveParams()
    base = tuple(solve(y, params.replace(time_limit=None), explain=False) for y in years)
    budget_oere = oere(budget)
    candidates = _candidates(chosen, profiles, budget_oere, max_per_municipality)
    deadline = None if params.time_limit is None else start + params.time_limit
    short = _arcs_in_all(years, candidates) > FULL_ARCS
    program = _build(years, candidates, budget_oere, (base, SHORT_ARCS) if short else None)
    candidates, program = _useful(years, candidates, program, budget_oere, (base, SHORT_ARCS) if short else None)
    counts, proven, stage_bounds = _search(program, base, params, deadline)
    if short:
        # The short program's optimum is a good recruitment, not a proven one; its bounds hold
        # for the short program only, so only the kept children's share is certified.
        log.info("recruitment: %d arcs, more than %d: the short program's best, unproven", FULL_ARCS, FULL_ARCS)
        proven, stage_bounds = False, attrs.evolve(stage_bounds, proven=0, bound=0)
    recruitment = Recruitment.of(
        {(c.municipality, c.profile.name): n for c, n in zip(candidates, counts, strict=True) if n},
        chosen, profiles,
    )
    plans = _plans(program, years, profiles, recruitment, proven, stage_bounds.values, params)
    totals = _sum_totals([p.totals for p in plans])
    status = "optimal" if proven else "feasible"
    bounds = {} if proven else _bounds(program, years, plans, stage_bounds)
    seconds = time.perf_counter() - start
    log.info("recruitment over %d years: %s in %.1f s", len(years), status, seconds)
    return Optimum(
        status=status, recruitment=recruitment, spent=recruitment.spent(profiles), totals=totals,
        bounds=bounds, plans=plans, base=base, seconds=round(seconds, 4),
    )


def _arcs_in_all(years: Sequence[Scenario], candidates: Sequence[_Candidate]) -> int:
    """The arcs of the whole program: every year's, into today's homes and one per candidate."""
    return sum(len(all_arcs(attrs.evolve(y, homes=[*y.homes, *(c.home(1) for c in candidates)]))) for y in years)


def _useful(
    years: Sequence[Scenario],
    candidates: list[_Candidate],
    program: _Program,
    budget_oere: int,
    short: tuple[Sequence[Plan], int] | None,
) -> tuple[list[_Candidate], _Program]:
    """Drop the candidates no child of any year may use: recruiting them changes no plan and
    costs money, so no least-spending optimum holds them."""
    used = [False] * len(candidates)
    for y in program.years:
        reached = set(y.model.arc_home)
        for i, own in enumerate(y.homes_of):
            used[i] = used[i] or any(j in reached for j in own)
    if all(used):
        return candidates, program
    kept = [c for c, u in zip(candidates, used, strict=True) if u]
    return kept, _build(years, kept, budget_oere, short)


@attrs.frozen
class _Stages:
    """What the stages proved: ``values`` the best solution, ``stages`` the weighted stages,
    ``proven`` how many were, ``bound`` the first unproven stage's certified bound."""

    values: tuple[int, ...]
    stages: list[list[tuple[str, int]]]
    proven: int
    bound: int | None


def _hint(program: _Program, base: Sequence[Plan]) -> list[int]:
    """Today's plans as a solution of the program: nothing recruited."""
    values = [0] * program.n_vars
    for y, plan in zip(program.years, base, strict=True):
        home_of = plan.home_of()
        m, index = y.model, {h.id: j for j, h in enumerate(y.scenario.homes)}
        placed = set()
        for a, (u, j) in enumerate(zip(m.arc_unit, m.arc_home, strict=True)):
            first = y.scenario.children[m.units[u].members[0]].id
            if index.get(home_of.get(first, ""), -1) == j:
                values[y.offset + a] = 1
                placed.add(u)
        for u in range(len(m.units)):
            if u not in placed:
                values[y.offset + m.n_arcs + u] = 1
    return values


def _search(
    program: _Program, base: Sequence[Plan], params: SolveParams, deadline: float | None
) -> tuple[list[int], bool, _Stages]:
    from placering import _ortools

    objective = program.years[0].scenario.policy.effective_objective()
    terms = {name: _objective(program, name) for name in objective}
    ranges = {name: sum(y.model.ranges[name] for y in program.years) for name in objective}
    # The money spent, last, in units of the costs' greatest common divisor: with costs alike
    # (the shipped profiles' 100 000 kr) it counts homes and merges into the last stage.
    costs = [oere(c.profile.recruitment_cost) for c in program.candidates for _ in range(c.most)]
    unit = math.gcd(*costs) or 1
    terms["spent"] = LinearTerm(vars=tuple(v for zs in program.z for v in zs), coeffs=tuple(c // unit for c in costs))
    ranges["spent"] = sum(terms["spent"].coeffs)
    stages = _stages(ranges, (*objective, "spent"))
    cp = _ortools.StageMIP(program.binary(), program.rows)
    values = tuple(_hint(program, base))
    proven, bound = 0, None
    began = time.perf_counter()
    log.info("recruitment program: %d variables, %d candidates", program.n_vars, len(program.candidates))
    for stage in stages:
        stage_term = _stage_term(terms, stage)
        left = None if deadline is None else deadline - time.perf_counter()
        result = cp.minimise(stage_term, hint=values, time_limit=left, seed=params.seed, log=params.log)
        log.info("recruitment stage %d: %s %s (bound %s) after %.1f s", proven, "proven" if result.proven else "open",
                 result.objective, result.bound, time.perf_counter() - began)
        if result.values is not None:
            values = result.values
        if not result.proven:
            bound = result.bound
            break
        cp.restrict(stage_term, 0, result.objective or 0)
        proven += 1
    counts = [sum(values[v] for v in zs) for zs in program.z]
    # The least spending is a choice among optima, not a term: the optimum is proven once every
    # term is, whether or not the spending was.
    last = _stage_term(terms, stages[-1]).evaluate(values) if bound is not None else 0
    done = _proven_terms(stages, proven, bound, last)
    return counts, done, _Stages(values=values, stages=stages, proven=proven, bound=bound)


def _proven_terms(stages: list[list[tuple[str, int]]], proven: int, bound: int | None, value: int) -> bool:
    """Whether every objective term is proven: all stages, or all but a last one whose bound
    leaves only the spending open (its terms before ``spent`` meet their bounds)."""
    if proven == len(stages):
        return True
    if proven < len(stages) - 1 or bound is None:
        return False
    for name, weight in stages[-1]:
        if name == "spent":
            return True
        if bound // weight < value // weight:
            return False
        bound, value = bound - weight * (value // weight), value - weight * (value // weight)
    return True


# --- the years' plans ------------------------------------------------------------------------


def _into_homes(units: Sequence[Sequence[int]], capacity: int, homes: int) -> list[int]:
    """Which of ``homes`` alike homes (0, 1, ...) each unit goes to: first fit, largest first.
    It always fits where the program allows it: at most one group a home, places enough."""
    room = [capacity] * homes
    where = [0] * len(units)
    for u in sorted(range(len(units)), key=lambda u: -len(units[u])):
        k = next(k for k in range(homes) if room[k] >= len(units[u]))
        room[k] -= len(units[u])
        where[u] = k
    return where


def _home_of(
    y: _Year, candidates: Sequence[_Candidate], counts: Sequence[int], values: Sequence[int]
) -> dict[str, str]:
    """Each placed child's home in year ``y`` of the solution ``values``, recruited homes named."""
    scenario, m = y.scenario, y.model
    home_of = {c.id: c.current_home for c in scenario.children if scenario.is_kept(c) and c.current_home}
    shared_home = {own[0]: i for i, own in enumerate(y.homes_of) if y.shared[i]}
    sharing: dict[int, list[tuple[int, ...]]] = {}
    for a, (u, j) in enumerate(zip(m.arc_unit, m.arc_home, strict=True)):
        if not values[y.offset + a]:
            continue
        members = m.units[u].members
        if j in shared_home:
            sharing.setdefault(shared_home[j], []).append(members)
            continue
        for c in members:
            home_of[scenario.children[c].id] = scenario.homes[j].id
    for i, units in sharing.items():
        owner = candidates[i]
        for members, k in zip(units, _into_homes(units, owner.profile.capacity, counts[i]), strict=True):
            for child in members:
                home_of[scenario.children[child].id] = recruited_id(owner.municipality, owner.profile.name, k + 1)
    return home_of


def _plans(
    program: _Program,
    years: Sequence[Scenario],
    profiles: Sequence[Profile],
    recruitment: Recruitment,
    proven: bool,
    values: Sequence[int],
    params: SolveParams,
) -> tuple[Plan, ...]:
    from placering.solve import solve

    counts = [recruitment.count(c.municipality, c.profile.name) for c in program.candidates]
    plans = []
    for y, year in zip(program.years, years, strict=True):
        scenario = recruitment.apply(year, profiles)
        if proven:
            plans.append(Plan.from_home_of(scenario, _home_of(y, program.candidates, counts, values)))
        else:
            # Unproven: each year's best plan with these homes is at least as good as the search's.
            plans.append(solve(scenario, params.replace(time_limit=None), explain=False))
    return tuple(plans)


def _sum_totals(totals: Sequence[Totals]) -> Totals:
    return Totals(
        unplaced=sum(t.unplaced for t in totals),
        hvb=sum(t.hvb for t in totals),
        consultant=sum(t.consultant for t in totals),
        split_siblings=sum(t.split_siblings for t in totals),
        cost_per_day=math.fsum(t.cost_per_day for t in totals),
        km=math.fsum(t.km for t in totals),
    )


def _bounds(
    program: _Program, years: Sequence[Scenario], plans: Sequence[Plan], found: _Stages
) -> dict[str, float]:
    """Certified lower bounds on the summed terms not proven, as :func:`placering.solve` gives
    a plan's: the leading term of the first unproven stage is at least ``bound // weight``."""
    kept = _sum_totals([
        totals_of(y, {c.id: c.current_home for c in y.children if y.is_kept(c) and c.current_home}) for y in years
    ])
    totals = _sum_totals([p.totals for p in plans])
    scales = program.years[0].model.scales
    bounds: dict[str, float] = {}
    remaining = found.bound or 0
    open_terms = False
    for stage in found.stages[found.proven :]:
        for name, weight in stage:
            if name == "spent":
                continue
            scale = scales.get(name, 1)
            constant = 0 if name == "unplaced" else kept.term(name)
            if open_terms:
                bounds[TOTAL_OF_TERM[name]] = constant
                continue
            least = remaining // weight
            reached = round((totals.term(name) - constant) * scale)
            if least >= reached:
                remaining -= weight * reached
                continue
            bounds[TOTAL_OF_TERM[name]] = constant + least / scale
            open_terms = True
        open_terms = True
    return bounds
