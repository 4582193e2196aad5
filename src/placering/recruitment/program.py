"""The recruitment plan as one 0-1 program over all demand years (design.md section 9).

- ``z[q, k]`` says that the ``k``-th home of candidate ``q`` (a member and a profile) is
  recruited, with ``z[q, k + 1] <= z[q, k]`` (the homes are alike, so only their number
  counts) and ``sum(cost[q] * z[q, k]) <= budget``, counted in whole öre;
- each year is the matching of :mod:`placering.matching.model` over today's homes and one
  *candidate home* per ``q``, whose places are ``capacity[q] * sum_k z[q, k]`` in that year.
  That is exact while every sibling group that could live there is larger than half its
  places (a ``siblings`` home of 3 takes at most one group of 2 or 3, and singles fill any
  place): the group count is bounded by the number of homes and the children by the places,
  and any such filling splits into homes (first fit, groups first). Where a smaller group
  could share a home, or two siblings placed one by one could both live there (under
  ``siblings="prefer"`` one home or two decides whether the group is split), the year gets
  one home per ``k`` instead, each with ``capacity[q] * z[q, k]`` places.

A year's arcs (:class:`YearArcs`) are computed once; a program takes a mask of them per year
(all of them, or the short list of :func:`short_list`, grown by pricing), so that a solution
can move between programs by its :class:`Keys`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import attrs
import numpy as np

from placering.homes import Home
from placering.matching.model import Arcs, MatchingModel, all_arcs, build_matching
from placering.program import BinaryProgram, LinearTerm
from placering.recruitment.decision import oere, recruited_id
from placering.recruitment.profiles import Profile
from placering.result import Plan
from placering.scenario import Scenario

__all__ = [
    "Candidate",
    "Keys",
    "Program",
    "YearArcs",
    "build",
    "candidates_of",
    "short_list",
    "stage_term",
    "stages",
    "year_arcs",
]

#: A stage's weighted objective stays below this: SCIP compares in doubles with tolerances, so
#: terms are merged only while a stage's values stay small enough to be told apart exactly.
MIP_STAGE_LIMIT = 2**31

_NO_LOW = -(2**62)


@attrs.frozen
class Candidate:
    """Member ``municipality`` may recruit up to ``most`` homes of ``profile``."""

    municipality: str
    profile: Profile
    most: int

    def home(self, k: int) -> Home:
        return self.profile.home(self.municipality, recruited_id(self.municipality, self.profile.name, k))

    @property
    def cost(self) -> int:
        """What one home costs, in öre."""
        return oere(self.profile.recruitment_cost)


def candidates_of(members: Sequence[str], profiles: Sequence[Profile], budget_oere: int, most: int) -> list[Candidate]:
    """Every member and profile with a place to give and at least one home affordable."""
    out = []
    for m in members:
        for p in profiles:
            cost = oere(p.recruitment_cost)
            k = most if cost == 0 else min(most, budget_oere // cost)
            if k > 0 and p.capacity > 0:
                out.append(Candidate(m, p, k))
    return out


@attrs.frozen(eq=False)
class YearArcs:
    """A demand year with the candidates' homes: every arc, the homes of each candidate (one
    shared home, or one per ``k``, as ``shared`` says) and the kept children's homes."""

    scenario: Scenario
    arcs: Arcs
    homes_of: tuple[tuple[int, ...], ...]
    shared: tuple[bool, ...]
    today: int  # homes before the candidates'


def _shares_exactly(arcs: Arcs, home: int, capacity: int, group_of_unit: np.ndarray) -> bool:
    """Whether one home with the places of several stands for them exactly: every group that
    may use it whole is larger than half a home, so no two groups ever share one, and no two
    siblings placed one by one (``siblings="prefer"``) may both use it, since the split count
    tells one home from several."""
    units = arcs.unit[arcs.home == home]
    sizes = arcs.unit_size[units]
    groups = group_of_unit[units]
    groups = groups[groups >= 0]
    return bool(np.all((sizes == 1) | (2 * sizes > capacity))) and len(np.unique(groups)) == len(groups)


def _group_of_unit(year: Scenario, arcs: Arcs) -> np.ndarray:
    """Each unit's sibling group (a number) when the unit is one child of a larger group, else -1."""
    if year.policy.siblings != "prefer":
        return np.full(len(arcs.units), -1, dtype=np.int64)
    number: dict[str, int] = {}
    out = np.full(len(arcs.units), -1, dtype=np.int64)
    for u, unit in enumerate(arcs.units):
        group = year.children[unit.members[0]].sibling_group
        if unit.size == 1 and group is not None and len(year.sibling_groups[group]) > 1:
            out[u] = number.setdefault(group, len(number))
    return out


def year_arcs(year: Scenario, candidates: Sequence[Candidate], scales: Mapping[str, int]) -> YearArcs:
    today = len(year.homes)
    shared_try = attrs.evolve(year, homes=[*year.homes, *(c.home(1) for c in candidates)])
    arcs = all_arcs(shared_try)
    group_of_unit = _group_of_unit(year, arcs)
    shared = tuple(
        _shares_exactly(arcs, today + i, c.profile.capacity, group_of_unit) for i, c in enumerate(candidates)
    )
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
    free = list(arcs.free_places)
    for own in homes_of:
        for j in own:
            free[j] = len(year.children) + 1
    arcs = attrs.evolve(arcs, free_places=tuple(free))
    return YearArcs(scenario=scenario, arcs=arcs, homes_of=tuple(homes_of), shared=shared, today=today)


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


def base_home(ya: YearArcs, plan: Plan) -> np.ndarray:
    """Each unit's home in today's plan (an index into the year's homes), -1 if unplaced."""
    index = {h.id: j for j, h in enumerate(ya.scenario.homes)}
    home_of = plan.home_of()
    children = ya.scenario.children
    return np.asarray(
        [index.get(home_of.get(children[u.members[0]].id, ""), -1) for u in ya.arcs.units], dtype=np.int64
    )


def short_list(ya: YearArcs, today_home: np.ndarray, most: int) -> np.ndarray:
    """Each unit's arc in today's plan and its ``most`` best arcs into today's homes and into
    the candidates' (by hvb, consultant, cost, then km): the arcs of the short program."""
    arcs = ya.arcs
    t = arcs.per_child
    order = np.lexsort((t["km"], t["cost"], t["consultant"], t["hvb"], arcs.unit))
    keep = arcs.home == today_home[arcs.unit]
    new = arcs.home >= ya.today
    for chosen in (~new, new):
        arcs_of = order[chosen[order]]
        units = arcs.unit[arcs_of]
        rank = np.arange(len(arcs_of)) - np.searchsorted(units, units)
        keep[arcs_of[rank < most]] = True
    return keep


@attrs.frozen(eq=False)
class Year:
    """One demand year in a program: its matching over the arcs ``chosen`` (indices into the
    year's arcs), where its variables start, and where its rows are."""

    arcs: YearArcs
    chosen: np.ndarray
    model: MatchingModel
    offset: int


@attrs.frozen
class Keys:
    """A solution told apart from any program: each year's arc per unit (an index into the
    year's arcs, -1 unplaced) and the homes recruited per candidate."""

    arc_of_unit: tuple[np.ndarray, ...]
    counts: tuple[int, ...]


@attrs.define
class Program:
    """The whole program: the years' matchings side by side, then the ``z[q, k]``; ``rows``
    the candidates' places, then the budget. Rows are numbered as :meth:`binary` and
    :class:`placering._ortools.StageMIP` add them: every exactly-one, every capacity row,
    implications, covers, then ``rows``."""

    years: list[Year]
    candidates: Sequence[Candidate]
    n_vars: int = 0
    z: list[list[int]] = attrs.field(factory=list)
    rows: list[tuple[LinearTerm, int, int]] = attrs.field(factory=list)
    #: per row of ``rows`` that gives a candidate home places: (year, home) of it
    place_of_row: dict[int, tuple[int, int]] = attrs.field(factory=dict)
    #: per row of ``rows`` that counts groups in a shared candidate home: (year, home)
    groups_of_row: dict[int, tuple[int, int]] = attrs.field(factory=dict)

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

    def keys(self, values: Sequence[int]) -> Keys:
        arc_of_unit = []
        for y in self.years:
            m = y.model
            arc = np.full(len(m.units), -1, dtype=np.int64)
            on = np.flatnonzero(np.asarray(values[y.offset : y.offset + m.n_arcs], dtype=np.int64))
            arc[np.asarray(m.arc_unit, dtype=np.int64)[on]] = y.chosen[on]
            arc_of_unit.append(arc)
        return Keys(arc_of_unit=tuple(arc_of_unit), counts=tuple(sum(values[v] for v in zs) for zs in self.z))

    def values(self, keys: Keys) -> list[int] | None:
        """The solution ``keys`` in this program, or ``None`` when it uses an arc left out."""
        values = [0] * self.n_vars
        for y, arc in zip(self.years, keys.arc_of_unit, strict=True):
            position = np.full(len(y.arcs.arcs), -1, dtype=np.int64)
            position[y.chosen] = np.arange(len(y.chosen))
            placed = arc >= 0
            at = position[arc[placed]]
            if np.any(at < 0):
                return None
            for a in at.tolist():
                values[y.offset + a] = 1
            for u in np.flatnonzero(~placed).tolist():
                values[y.offset + y.model.n_arcs + u] = 1
        for zs, n in zip(self.z, keys.counts, strict=True):
            for v in zs[:n]:
                values[v] = 1
        return values


def _shift(term: LinearTerm, offset: int) -> LinearTerm:
    return LinearTerm(vars=tuple(v + offset for v in term.vars), coeffs=term.coeffs)


def build(
    years: Sequence[YearArcs], keep: Sequence[np.ndarray | None], candidates: Sequence[Candidate], budget_oere: int
) -> Program:
    """The program over the arcs each ``keep`` mask chooses of each year (``None``: all)."""
    program = Program(years=[], candidates=candidates)
    for ya, mask in zip(years, keep, strict=True):
        chosen = np.arange(len(ya.arcs)) if mask is None else np.flatnonzero(mask)
        model = build_matching(ya.scenario, arcs=ya.arcs, keep=mask)
        program.years.append(Year(arcs=ya, chosen=chosen, model=model, offset=program.n_vars))
        program.n_vars += model.program.n_vars
    for c in candidates:
        program.z.append(list(range(program.n_vars, program.n_vars + c.most)))
        program.n_vars += c.most
    for k, y in enumerate(program.years):
        _places(program, k, y)
    every_z = [v for zs in program.z for v in zs]
    costs = [c.cost for c in candidates for _ in range(c.most)]
    program.rows.append((LinearTerm(vars=tuple(every_z), coeffs=tuple(costs)), 0, budget_oere))
    return program


def _places(program: Program, k: int, y: Year) -> None:
    """The rows that give each candidate home of year ``y`` the places recruited."""
    m = y.model
    arcs_into: dict[int, list[int]] = {}
    for a, j in enumerate(m.arc_home):
        arcs_into.setdefault(j, []).append(a)
    for c, own, zs, shared in zip(program.candidates, y.arcs.homes_of, program.z, y.arcs.shared, strict=True):
        cap = c.profile.capacity
        if shared:
            into = arcs_into.get(own[0], [])
            size = [m.units[m.arc_unit[a]].size for a in into]
            # sum(size * x) <= capacity * (homes recruited)
            program.place_of_row[len(program.rows)] = (k, own[0])
            program.rows.append(_row(into, size, y.offset, zs, -cap))
            # A group a home: no two fit in one. Always written, so that pricing finds it.
            groups = [a for a, s in zip(into, size, strict=True) if s > 1]
            program.groups_of_row[len(program.rows)] = (k, own[0])
            program.rows.append(_row(groups, [1] * len(groups), y.offset, zs, -1))
            continue
        for j, z in zip(own, zs, strict=True):
            into = arcs_into.get(j, [])
            program.place_of_row[len(program.rows)] = (k, j)
            program.rows.append(_row(into, [m.units[m.arc_unit[a]].size for a in into], y.offset, [z], -cap))


def _row(
    arcs: Sequence[int], coeffs: Sequence[int], offset: int, zs: Sequence[int], per_z: int
) -> tuple[LinearTerm, int, int]:
    """``sum(coeffs * x[arcs]) + per_z * sum(z) <= 0``."""
    term = LinearTerm(vars=(*(a + offset for a in arcs), *zs), coeffs=(*coeffs, *([per_z] * len(zs))))
    return term, _NO_LOW, 0


def objective_terms(program: Program, names: Sequence[str]) -> dict[str, LinearTerm]:
    """Each objective term summed over the years, and ``spent`` in units of the costs' greatest
    common divisor (with costs alike, as the shipped profiles', it counts homes)."""
    terms = {}
    for name in names:
        total: dict[int, int] = {}
        for y in program.years:
            term = y.model.terms[name]
            for v, c in zip(term.vars, term.coeffs, strict=True):
                total[v + y.offset] = total.get(v + y.offset, 0) + c
        used = sorted(v for v, c in total.items() if c)
        terms[name] = LinearTerm(vars=tuple(used), coeffs=tuple(total[v] for v in used))
    costs = [c.cost for c in program.candidates for _ in range(c.most)]
    unit = math.gcd(*costs) or 1
    terms["spent"] = LinearTerm(vars=tuple(v for zs in program.z for v in zs), coeffs=tuple(c // unit for c in costs))
    return terms


def spent_unit(candidates: Sequence[Candidate]) -> int:
    return math.gcd(*(c.cost for c in candidates)) or 1


def stages(ranges: Mapping[str, int], names: Sequence[str]) -> list[list[tuple[str, int]]]:
    """Consecutive terms merged into weighted stages while each weight exceeds the range of
    everything after it and a stage's values stay below :data:`MIP_STAGE_LIMIT`."""
    out: list[list[tuple[str, int]]] = []
    current: list[tuple[str, int]] = []
    top = 0
    for name in names:
        span = ranges[name]
        grown = top * (span + 1) + span
        if current and grown >= MIP_STAGE_LIMIT:
            out.append(current)
            current, grown = [], span
        current = [(t, w * (span + 1)) for t, w in current] + [(name, 1)]
        top = grown
    if current:
        out.append(current)
    return out


def stage_term(terms: Mapping[str, LinearTerm], stage: Sequence[tuple[str, int]]) -> LinearTerm:
    total: dict[int, int] = {}
    for name, weight in stage:
        term = terms[name]
        for v, c in zip(term.vars, term.coeffs, strict=True):
            total[v] = total.get(v, 0) + weight * c
    used = sorted(v for v, c in total.items() if c)
    return LinearTerm(vars=tuple(used), coeffs=tuple(total[v] for v in used))
