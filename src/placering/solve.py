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
from collections.abc import Mapping, Sequence

import attrs
import numpy as np

from placering.eligibility import arc_pairs
from placering.params import SolveParams
from placering.pipeline import Outside, Pricing, lexicographic_minimum, price
from placering.policy import KINDS
from placering.program import BinaryProgram, LexResult, LinearTerm
from placering.region import decimal_scale
from placering.result import (
    TOTAL_OF_TERM,
    Plan,
    SolverStats,
    totals_of,
)
from placering.scenario import Scenario

__all__ = ["Arcs", "MatchingModel", "all_arcs", "build_matching", "solve"]

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
    cost_scale = decimal_scale(scenario.cost_of(h) for h in homes)
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
    codes = {code: i for i, code in enumerate(region.codes)}
    km_units = np.asarray([[region.km_units(a, b) for b in region.codes] for a in region.codes], dtype=np.int64)
    origin = np.asarray([codes[scenario.children[unit.members[0]].municipality] for unit in units], dtype=np.int64)
    at = np.asarray([codes[h.municipality] for h in homes], dtype=np.int64)
    cost_units = np.asarray([round(scenario.cost_of(h) * cost_scale) for h in homes], dtype=np.int64)
    per_child = {
        "hvb": (kind == "hvb")[ah].astype(np.int8),
        "consultant": (kind == "consultant")[ah].astype(np.int8),
        "cost": cost_units[ah],
        "km": km_units[origin[au], at[ah]] if len(au) else np.zeros(0, dtype=np.int64),
    }
    # The range of a term bounds its value over every feasible plan: what each unit adds at most.
    ranges = {"unplaced": int(size.sum())}
    for name, values in per_child.items():
        most = np.zeros(len(units), dtype=np.int64)
        np.maximum.at(most, au, size[au] * values)
        ranges[name] = int(most.sum())
    return Arcs(
        units=tuple(units),
        unit=au,
        home=ah,
        per_child=per_child,
        unit_size=size,
        free_places=free_places,
        scales={"cost": cost_scale, "km": region.km_scale},
        ranges=ranges,
    )


def build_matching(scenario: Scenario, *, arcs: Arcs | None = None, keep: np.ndarray | None = None) -> MatchingModel:
    """The 0-1 program of the matching, with the integer vector of every objective term.

    With ``keep`` (a boolean mask over ``arcs``), only those arcs enter the program; the
    ranges, and so the stages, stay those of all arcs, so that they hold for every plan.
    """
    arcs = all_arcs(scenario) if arcs is None else arcs
    homes = scenario.homes
    units = arcs.units
    free_places = arcs.free_places
    chosen = np.arange(len(arcs)) if keep is None else np.flatnonzero(keep)
    au, ah = arcs.unit[chosen], arcs.home[chosen]
    arc_unit, arc_home = au.tolist(), ah.tolist()
    n_arcs = len(arc_unit)
    n_vars = n_arcs + len(units)

    size = arcs.unit_size
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
        members = by_home[home_starts[j] : home_starts[j + 1]]
        capacity.append(
            (LinearTerm(vars=tuple(members.tolist()), coeffs=tuple(size[au[members]].tolist())), free_places[j])
        )

    def sparse(coeffs: np.ndarray) -> LinearTerm:
        used = np.flatnonzero(coeffs)
        return LinearTerm(vars=tuple(used.tolist()), coeffs=tuple(coeffs[used].tolist()))

    # Every per-child term at once, each times the unit's size.
    terms = {
        "unplaced": LinearTerm(vars=tuple(range(n_arcs, n_vars)), coeffs=tuple(size.tolist())),
        **{name: sparse(size[au] * values[chosen].astype(np.int64)) for name, values in arcs.per_child.items()},
    }
    ranges = dict(arcs.ranges)

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
            at_home: dict[int, list[int]] = {}
            for u in member_units:
                for a in arcs_of_unit[u]:
                    at_home.setdefault(arc_home[a], []).append(a)
            ys = []
            for group_arcs in at_home.values():
                y = n_vars
                n_vars += 1
                ys.append(y)
                implications.extend((a, y) for a in group_arcs)
                covers.append((y, tuple(group_arcs)))
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
        units=units,
        arc_unit=tuple(arc_unit),
        arc_home=tuple(arc_home),
        program=program,
        terms=terms,
        ranges=ranges,
        free_places=free_places,
        scales=dict(arcs.scales),
    )


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


#: Above this many arcs the matching is solved on a restricted set of arcs and the rest are
#: priced (:func:`_by_columns`): a national scenario has about 10^7 arcs, most of them to HVB
#: units hundreds of kilometres away that no optimal plan uses.
PRICE_ABOVE = 400_000

#: Arcs with a negative reduced cost each unit may take in per round of pricing.
ARCS_PER_ROUND = 8

#: Arcs within an integrality gap each unit may take in per round of pricing (see
#: :func:`placering.pipeline.price`): the gap's parts on national want 350 000 arcs at once.
GAP_ARCS_PER_ROUND = 16

#: After a round whose restricted optimum is no better than the last one's, each unit may take
#: in this many times as many arcs: on national, km stayed put for four rounds of 16 arcs per
#: unit while pricing still wanted 70 000-100 000, and each round re-solves for 4-5 minutes.
GAP_GROWTH = 4

#: Arcs per unit and kind the restricted program starts with: the cheapest, then the nearest.
FIRST_ARCS = {"kin": 4, "municipal": 8, "consultant": 6, "hvb": 3}


def _first_arcs(scenario: Scenario, arcs: Arcs) -> np.ndarray:
    """Each unit's cheapest, then nearest, few arcs of each kind, as a mask over ``arcs``."""
    kinds = list(KINDS)
    code = np.asarray([kinds.index(h.kind) for h in scenario.homes], dtype=np.int64)[arcs.home]
    cost, km = arcs.per_child["cost"], arcs.per_child["km"]
    spans = [len(kinds), int(cost.max(initial=0)) + 1, int(km.max(initial=0)) + 1]
    if len(arcs.units) * spans[0] * spans[1] * spans[2] < 2**62:  # one int64 key sorts fastest
        key = ((arcs.unit * spans[0] + code) * spans[1] + cost) * spans[2] + km
        order = np.argsort(key, kind="stable")
    else:
        order = np.lexsort((km, cost, code, arcs.unit))
    group = (arcs.unit * spans[0] + code)[order]
    rank = np.arange(len(order)) - np.searchsorted(group, group, side="left")
    limit = np.asarray([FIRST_ARCS[k] for k in kinds], dtype=np.int64)
    keep = np.zeros(len(arcs), dtype=bool)
    keep[order[rank < limit[code[order]]]] = True
    return keep


def _minimise(
    model: MatchingModel,
    stages: list[list[tuple[str, int]]],
    params: SolveParams,
    deadline: float | None,
    incumbent: list[int] | None = None,
) -> LexResult:
    return lexicographic_minimum(
        model.program,
        [_stage_term(model, stage) for stage in stages],
        n_arcs=model.n_arcs,
        arc_unit=model.arc_unit,
        arc_home=model.arc_home,
        unit_size=[unit.size for unit in model.units],
        home_free=model.free_places,
        time_limit=None if deadline is None else max(0.0, deadline - time.perf_counter()),
        seed=params.seed,
        workers=params.workers,
        log=params.log,
        strategy=params.strategy,
        cpsat=params.cpsat,
        incumbent=incumbent,
    )


def _base(model: MatchingModel, keep: np.ndarray, placed: np.ndarray) -> list[int]:
    """A plan given as each unit's arc in all arcs (-1: unplaced) as the arc and unplaced
    values of ``model``, built on the arcs ``keep``."""
    base = np.zeros(model.n_arcs + len(placed), dtype=np.int64)
    on = placed >= 0
    position = np.searchsorted(np.flatnonzero(keep), placed[on])
    base[position] = 1
    base[model.n_arcs + np.flatnonzero(~on)] = 1
    return base.tolist()


def _by_columns(
    scenario: Scenario,
    arcs: Arcs,
    stages: list[list[tuple[str, int]]],
    params: SolveParams,
    deadline: float | None,
) -> tuple[MatchingModel, LexResult]:
    """The lexicographic optimum by column generation: solve on a restricted set of arcs and
    price the rest (:func:`placering.pipeline.price`), adding what pricing wants, until it
    certifies that no plan using an outside arc is better.

    First the restricted LP is grown until it is the whole LP at every stage; then the exact
    pipeline solves the restricted program, and pricing against its plan either certifies it
    or names the outside arcs that could still beat it (those priced below the plan's excess
    over the LP in the parts of the program they touch), which join before the next round:
    ``GAP_ARCS_PER_ROUND`` per unit, ``GAP_GROWTH`` times as many after each round that did
    not improve the plan. Each round's solve gets the last plan as its incumbent.
    Under a time limit, an uncertified plan comes with the first stage's Lagrangian bound.
    """
    keep = _first_arcs(scenario, arcs)
    n_units = len(arcs.units)
    unplaced = [np.full(n_units, dict(stage).get("unplaced", 0), dtype=np.int64) for stage in stages]
    rounds = 0
    # Equally priced arcs are taken in by the later terms, cost before km, merged like a stage.
    span = int(arcs.per_child["km"].max(initial=0)) + 1
    tail = [("cost", span), ("km", 1)] if arcs.ranges["cost"] * span < 2**62 else None
    costs = [arcs.stage_cost(stage) for stage in stages]  # computed once: pricing reads them every round

    # Pricing may use half the time limit, so that the exact solve always gets to make a plan.
    pricing_deadline = None if deadline is None else (time.perf_counter() + deadline) / 2

    def past(limit: float | None = deadline) -> bool:
        return limit is not None and time.perf_counter() > limit

    def priced(plan: np.ndarray | None, per_unit: int) -> tuple[Pricing, np.ndarray]:
        nonlocal rounds
        rounds += 1
        inside, out = np.flatnonzero(keep), np.flatnonzero(~keep)
        outside = Outside(
            unit=arcs.unit[out],
            home=arcs.home[out],
            cost=lambda k, chosen: costs[k][out[chosen]],
            rank=lambda chosen: costs[-1][out[chosen]] if tail is None else arcs.stage_cost(tail, out[chosen]),
        )
        found = price(
            [(costs[k][inside], unplaced[k]) for k in range(len(stages))],
            n_arcs=len(inside),
            arc_unit=arcs.unit[inside].tolist(),
            arc_home=arcs.home[inside].tolist(),
            unit_size=arcs.unit_size.tolist(),
            home_free=arcs.free_places,
            outside=outside,
            plan=plan,
            per_unit=per_unit,
        )
        if params.log:
            print(
                f"[pricing] round {rounds}: {len(inside)} of {len(arcs)} arcs, {len(found.wanted)} wanted at stage {found.stage}, "
                f"certified {found.certified}, {len(found.alternatives)} alternatives"
                + ("" if plan is None else f", at most {per_unit} per unit")
                + f", {time.perf_counter() - begun:.2f}s"
            )
        return found, out

    begun = time.perf_counter()
    placed: np.ndarray | None = None  # the last restricted optimum: each unit's arc in ``arcs``, or -1
    first_bound: int | None = None
    whole_lp: tuple[int, ...] | None = None  # the whole program's lexicographic LP bounds
    last: tuple[int, ...] | None = None  # the last restricted optimum's stage values
    per_unit = GAP_ARCS_PER_ROUND
    while True:
        while not past(pricing_deadline):
            pricing, out = priced(None, ARCS_PER_ROUND)
            first_bound = pricing.first_bound
            if not pricing.wanted.size:
                whole_lp = pricing.lower if pricing.certified else None
                keep[out[pricing.alternatives]] = True
                break
            keep[out[pricing.wanted]] = True
        model = build_matching(scenario, arcs=arcs, keep=keep)
        # The last restricted optimum is a plan here too (arcs only join), and it settles at
        # once every stage where it meets the LP bound (a round re-solves from the start).
        result = _minimise(model, stages, params, deadline, None if placed is None else _base(model, keep, placed))
        note = f"priced: {model.n_arcs} of {len(arcs)} arcs, {rounds} rounds"
        if whole_lp is not None and result.proven == len(stages) and result.stage_values == whole_lp:
            return model, attrs.evolve(result, engine=f"{result.engine} ({note})")  # at the whole LP's bound
        if result.proven < len(stages) or past():
            break
        # The plan as each unit's arc (-1: unplaced), for pricing to split its excess by part.
        on = np.flatnonzero(np.asarray(result.values[: model.n_arcs], dtype=bool))
        plan = np.full(n_units, -1, dtype=np.int64)
        plan[np.asarray(model.arc_unit, dtype=np.int64)[on]] = on
        placed = np.where(plan >= 0, np.flatnonzero(keep)[np.maximum(plan, 0)], -1)  # as indices into ``arcs``
        # Arcs only join, so a round's optimum is never worse than the last; one that is no
        # better took in too few of the arcs that could close the gap.
        if last is not None and result.stage_values == last:
            per_unit *= GAP_GROWTH
        last = result.stage_values
        check, out = priced(plan, per_unit)
        if check.certified and not check.wanted.size:
            return model, attrs.evolve(result, engine=f"{result.engine} ({note})")
        if past(pricing_deadline):
            # Another round re-solves a larger program from the start (on national, 3.3 million
            # arcs): past half the time limit, keep this plan and the whole LP's bounds instead.
            break
        keep[out[check.wanted]] = True
        whole_lp = None
    # Out of time before pricing certified the plan. A stage is proven for all arcs when the
    # restricted optimum meets the whole LP's bound there (and so did every stage before);
    # the first one that does not is bounded by that LP bound, else by the Lagrangian one.
    proven, bound = 0, max(0, first_bound or 0)
    if whole_lp is not None:
        while proven < min(result.proven, len(whole_lp)) and result.stage_values[proven] == whole_lp[proven]:
            proven += 1
        if proven < len(whole_lp):
            bound = whole_lp[proven]
    return model, attrs.evolve(
        result,
        proven=proven,
        stage_values=result.stage_values[: proven + 1],
        bound=bound,
        engine=f"{result.engine} ({note}, not certified)",
    )


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
    deadline = None if params.time_limit is None else start + params.time_limit
    arcs = all_arcs(scenario)
    objective = scenario.policy.effective_objective()
    if params.strategy == "flow" and scenario.policy.siblings != "prefer" and len(arcs) > PRICE_ABOVE:
        stages = stages_of(arcs, objective)
        built = time.perf_counter()
        model, result = _by_columns(scenario, arcs, stages, params, deadline)
    else:
        model = build_matching(scenario, arcs=arcs)
        stages = stages_of(model, objective)
        built = time.perf_counter()
        result = _minimise(model, stages, params, deadline)
    solved = time.perf_counter()

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
            solve_s=round(solved - built, 4),
            seed=params.seed,
            workers=params.workers,
            stages=len(stages),
            units=len(model.units),
            arcs=model.n_arcs,
            engine=result.engine,
        ),
    )
