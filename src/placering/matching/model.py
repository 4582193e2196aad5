"""The matching of a scenario as a 0-1 program over units and arcs.

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
everything after it) and stays below ``2**40`` (:func:`stages_of`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import attrs
import numpy as np

from placering.eligibility import arc_pairs
from placering.program import BinaryProgram, LinearTerm
from placering.scenario import Scenario

__all__ = [
    "ARC_TERMS",
    "Arcs",
    "MatchingModel",
    "Unit",
    "all_arcs",
    "build_matching",
    "stage_term",
    "stages_of",
    "term_ranges",
]


#: Largest value a merged stage's weighted objective may reach. CP-SAT is exact in int64,
#: but its LP works in doubles; 2**40 leaves ample headroom below 2**53.
STAGE_LIMIT = 2**40


@attrs.frozen(kw_only=True)
class Unit:
    """Children that are placed as one: a single child or a sibling group kept together."""

    members: tuple[int, ...]

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


#: The objective terms that are sums over placed children, with one value per child and arc.
ARC_TERMS = ("hvb", "consultant", "cost", "km")


@attrs.frozen(kw_only=True, eq=False)
class Arcs:
    """Every unit-to-home arc rules 1-6 and the free places allow, as numpy arrays sorted by
    unit, then home, with each arc's objective terms per child placed on it.

    A national scenario has about 10^7 of these, so nothing here is a Python object per arc.
    """

    units: tuple[Unit, ...]
    unit: np.ndarray
    home: np.ndarray
    per_child: Mapping[str, np.ndarray]
    unit_size: np.ndarray
    free_places: tuple[int, ...]
    scales: Mapping[str, int]
    ranges: Mapping[str, int]

    def __len__(self) -> int:
        return len(self.unit)

    def stage_cost(self, stage: Sequence[tuple[str, int]], arcs: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Per child placed on each of ``arcs``: the stage's weighted sum of its terms."""
        total = np.zeros(len(self.unit[arcs]), dtype=np.int64)
        for name, weight in stage:
            if name in ARC_TERMS:
                total += weight * self.per_child[name][arcs].astype(np.int64)
        return total


def _units(scenario: Scenario) -> list[Unit]:
    index = {c.id: i for i, c in enumerate(scenario.children)}
    free = [i for i, c in enumerate(scenario.children) if not scenario.is_kept(c)]
    if scenario.policy.siblings != "together":
        return [Unit(members=(i,)) for i in free]
    units: list[Unit] = []
    seen: set[str] = set()
    groups = scenario.sibling_groups
    for i in free:
        group = scenario.children[i].sibling_group
        if group is None:
            units.append(Unit(members=(i,)))
        elif group not in seen:
            seen.add(group)
            units.append(Unit(members=tuple(index[c.id] for c in groups[group])))
    return units


def all_arcs(scenario: Scenario) -> Arcs:
    """Every arc of the matching of ``scenario`` with its terms (see :class:`Arcs`)."""
    homes = scenario.homes
    region = scenario.region
    kept = Counter(c.current_home for c in scenario.children if scenario.is_kept(c))
    free_places = tuple(h.capacity - kept[h.id] for h in homes)
    cost_scale = scenario.cost_scale
    units = _units(scenario)
    n_homes = max(len(homes), 1)
    size = np.asarray([unit.size for unit in units], dtype=np.int64)
    unit_of = np.full(len(scenario.children), -1, dtype=np.int64)
    for u, unit in enumerate(units):
        unit_of[list(unit.members)] = u

    # A unit may use a home that allows every one of its members: count the members per
    # (unit, home) pair. Single children's pairs arrive sorted, and so do the groups' unique
    # keys, so the stable sort below only merges two sorted runs.
    child, home = arc_pairs(scenario)
    pair_unit = unit_of[child]
    mine = pair_unit >= 0
    key = pair_unit[mine] * n_homes + home[mine]
    del child, home, pair_unit
    grouped = size[key // n_homes] > 1
    group_keys, counts = np.unique(key[grouped], return_counts=True)
    key = np.sort(
        np.concatenate([key[~grouped], group_keys[counts == size[group_keys // n_homes]]]), kind="stable"
    )
    au, ah = key // n_homes, key % n_homes
    del key
    fits = np.asarray(free_places, dtype=np.int64)[ah] >= size[au] if len(ah) else np.zeros(0, dtype=bool)
    au, ah = au[fits], ah[fits]

    kind = np.asarray([h.kind for h in homes])
    codes = region.index
    km_units = region.km_units_matrix
    origin = np.asarray([codes[scenario.children[unit.members[0]].municipality] for unit in units], dtype=np.int64)
    at = np.asarray([codes[h.municipality] for h in homes], dtype=np.int64)
    cost_units = np.asarray(scenario.cost_units, dtype=np.int64)
    per_child = {
        "hvb": (kind == "hvb")[ah].astype(np.int8),
        "consultant": (kind == "consultant")[ah].astype(np.int8),
        "cost": cost_units[ah],
        "km": km_units[origin[au], at[ah]] if len(au) else np.zeros(0, dtype=np.int64),
    }
    return Arcs(
        units=tuple(units),
        unit=au,
        home=ah,
        per_child=per_child,
        unit_size=size,
        free_places=free_places,
        scales={"cost": cost_scale, "km": region.km_scale},
        ranges=term_ranges(len(units), au, size, per_child),
    )


def term_ranges(n_units: int, au: np.ndarray, size: np.ndarray, per_child: Mapping[str, np.ndarray]) -> dict[str, int]:
    """The range of each term over every plan of these arcs: what each unit adds at most."""
    ranges = {"unplaced": int(size.sum())}
    for name, values in per_child.items():
        most = np.zeros(n_units, dtype=np.int64)
        np.maximum.at(most, au, size[au] * values)
        ranges[name] = int(most.sum())
    return ranges


def build_matching(scenario: Scenario, *, arcs: Arcs | None = None, keep: np.ndarray | None = None) -> MatchingModel:
    """The 0-1 program of the matching, with the integer vector of every objective term.

    With ``keep`` (a boolean mask over ``arcs``), only those arcs enter the program; the
    ranges, and so the stages, stay those of all arcs, so that they hold for every plan.
    """
    arcs = all_arcs(scenario) if arcs is None else arcs
    units = arcs.units
    free_places = arcs.free_places
    chosen = np.arange(len(arcs)) if keep is None else np.flatnonzero(keep)
    au, ah = arcs.unit[chosen], arcs.home[chosen]
    arc_unit, arc_home = au.tolist(), ah.tolist()
    n_arcs = len(arc_unit)
    n_vars = n_arcs + len(units)

    size = arcs.unit_size
    arc_ids = np.arange(n_arcs, dtype=np.int64)
    # Arcs are listed unit by unit, so each unit's arcs are one slice; its "unplaced" var last.
    starts = np.searchsorted(au, np.arange(len(units) + 1)).tolist()
    ids = arc_ids.tolist()
    exactly_one = [(*ids[starts[u] : starts[u + 1]], n_arcs + u) for u in range(len(units))]
    capacity = _capacity_rows(au, ah, size, free_places)

    def sparse(coeffs: np.ndarray) -> LinearTerm:
        used = np.flatnonzero(coeffs)
        return LinearTerm(vars=tuple(used.tolist()), coeffs=tuple(coeffs[used].tolist()))

    # Every per-child term at once, each times the unit's size.
    terms = {
        "unplaced": LinearTerm(vars=tuple(range(n_arcs, n_vars)), coeffs=tuple(size.tolist())),
        **{name: sparse(size[au] * values[chosen].astype(np.int64)) for name, values in arcs.per_child.items()},
    }
    ranges = dict(arcs.ranges)

    marks = _SiblingMarks(n_vars)
    if scenario.policy.siblings == "prefer":
        marks.add(scenario, units, arc_unit, arc_home)
    n_vars = marks.n_vars
    terms["split_siblings"] = LinearTerm(vars=tuple(marks.split_vars), coeffs=tuple(marks.split_coeffs))
    ranges["split_siblings"] = marks.split_range

    program = BinaryProgram(
        n_vars=n_vars,
        exactly_one=tuple(tuple(lits) for lits in exactly_one),
        capacity=tuple(capacity),
        implications=tuple(marks.implications),
        covers=tuple(marks.covers),
    )
    return MatchingModel(
        units=units,
        arc_unit=tuple(arc_unit),
        arc_home=tuple(arc_home),
        program=program,
        terms=terms,
        ranges=ranges,
        free_places=free_places,
        scales=dict(arcs.scales),
    )


def _capacity_rows(
    au: np.ndarray, ah: np.ndarray, size: np.ndarray, free_places: tuple[int, ...]
) -> list[tuple[LinearTerm, int]]:
    """Rows ``sum(size[u] * x[u, h]) <= free places of h``, for the homes that could overfill."""
    free = np.asarray(free_places, dtype=np.int64)
    by_home = np.argsort(ah, kind="stable")
    home_starts = np.searchsorted(ah[by_home], np.arange(len(free_places) + 1)).tolist()
    demand = np.bincount(ah, weights=size[au], minlength=len(free_places))
    capacity = []
    for j in np.flatnonzero(demand > free).tolist():
        members = by_home[home_starts[j] : home_starts[j + 1]]
        capacity.append(
            (LinearTerm(vars=tuple(members.tolist()), coeffs=tuple(size[au[members]].tolist())), free_places[j])
        )
    return capacity


@attrs.define
class _SiblingMarks:
    """Under ``siblings="prefer"``, the variables that count split sibling groups: ``y[g, h]``
    per group and home it may use, ``z[g]`` per group, after the program's first ``n_vars``."""

    n_vars: int
    implications: list[tuple[int, int]] = attrs.field(factory=list)
    covers: list[tuple[int, tuple[int, ...]]] = attrs.field(factory=list)
    split_vars: list[int] = attrs.field(factory=list)
    split_coeffs: list[int] = attrs.field(factory=list)
    split_range: int = 0

    def add(self, scenario: Scenario, units: Sequence[Unit], arc_unit: list[int], arc_home: list[int]) -> None:
        unit_of = {unit.members[0]: u for u, unit in enumerate(units)}
        index = {c.id: i for i, c in enumerate(scenario.children)}
        arcs_of_unit: list[list[int]] = [[] for _ in units]
        for a, u in enumerate(arc_unit):
            arcs_of_unit[u].append(a)
        for members in scenario.sibling_groups.values():
            member_units = [unit_of[index[c.id]] for c in members if index[c.id] in unit_of]
            if len(member_units) < 2:
                continue
            self.split_range += len(member_units) - 1
            at_home: dict[int, list[int]] = {}
            for u in member_units:
                for a in arcs_of_unit[u]:
                    at_home.setdefault(arc_home[a], []).append(a)
            ys = [self._mark(group_arcs, 1) for group_arcs in at_home.values()]
            self._mark((), -1, ys)

    def _mark(self, group_arcs: Sequence[int], coeff: int, ys: Sequence[int] = ()) -> int:
        """A new mark: ``y`` over the arcs of a group into one home, or ``z`` over its ``ys``."""
        var = self.n_vars
        self.n_vars += 1
        if group_arcs:
            self.implications.extend((a, var) for a in group_arcs)
            self.covers.append((var, tuple(group_arcs)))
        else:
            self.covers.append((var, tuple(ys)))
        self.split_vars.append(var)
        self.split_coeffs.append(coeff)
        return var


def stages_of(model: MatchingModel | Arcs, objective: tuple[str, ...]) -> list[list[tuple[str, int]]]:
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


def stage_term(model: MatchingModel, stage: list[tuple[str, int]]) -> LinearTerm:
    """A stage's weighted sum of its terms as one term of the program."""
    # Summed in numpy: weights and coefficients stay below STAGE_LIMIT, far inside int64.
    total = np.zeros(model.program.n_vars, dtype=np.int64)
    for name, weight in stage:
        term = model.terms[name]
        np.add.at(total, np.asarray(term.vars, dtype=np.int64), weight * np.asarray(term.coeffs, dtype=np.int64))
    used = np.flatnonzero(total)
    return LinearTerm(vars=tuple(used.tolist()), coeffs=tuple(total[used].tolist()))
