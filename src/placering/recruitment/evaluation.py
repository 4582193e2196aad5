"""A recruitment weighed on demand years, and the two baselines of design.md section 9.

- :func:`evaluate`: each year solved exactly (a plain solve without explanations, one worker)
  with and without the recruited homes, through a sweep (:func:`placering.sweep.run`), so any
  ``Executor`` solves them and the results do not depend on it. A year's saving is
  ``yearly_cost(year, base plan) - yearly_cost(year + recruits, plan)``; each year keeps the
  statuses of both solves, so a year not proven optimal is reported, never taken as optimal.
- :func:`population_recruitment`: the budget split over the members in proportion to
  population, each recruiting the first profile.
- :func:`greedy_recruitment`: repeatedly the (member, profile) pair with the largest mean
  yearly saving per krona on the training years, given what is already chosen.

The greedy baseline is exact: every (pair, year) it weighs is a plain solve, except where the
solve is provably unnecessary. A year whose program does not change when the pair's home is
added (no child may use the home: rules 1-6, as :func:`placering.recruitment.fixed_totals`'s
shortcut in the marginal table) saves exactly 0 there, when every optimal plan has the same
totals, no time limit applies and the year without the home was proven optimal. Under the same
conditions a (pair, year) is solved from the warm start of the year without the pair's home
(:mod:`placering.matching.start`): the same optimum, sooner. Outcomes are cached by the
decision, and each round's solves go out through one sweep.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from concurrent.futures import Executor
from fractions import Fraction
from typing import Any

import attrs
import numpy as np

from placering.comparison import yearly_cost
from placering.eligibility import may_be_used
from placering.exceptions import InvalidInputError
from placering.matching.model import all_arcs
from placering.matching.start import WarmStart
from placering.params import SolveParams, Tuning
from placering.recruitment.decision import Recruitment, oere, recruited_id
from placering.recruitment.profiles import Profile
from placering.result import Plan
from placering.scenario import Scenario
from placering.sweep import Outcome, run

__all__ = [
    "Evaluation",
    "Occupancy",
    "Summary",
    "YearOutcome",
    "evaluate",
    "greedy_recruitment",
    "occupancy",
    "population_recruitment",
    "used_places",
    "year_outcome",
]

log = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class Summary:
    """Mean and the 10th, 50th and 90th percentiles of yearly savings in kr.

    Percentiles are numpy's default (``method="linear"``): linear interpolation between the
    two nearest ranks, so with one year all four are that year's saving.
    """

    mean: float
    p10: float
    p50: float
    p90: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        if not values:
            raise InvalidInputError("needs at least one year to summarise", entity="recruitment", field="years")
        data = np.asarray(values, dtype=float)
        p10, p50, p90 = (float(v) for v in np.percentile(data, [10, 50, 90], method="linear"))
        return cls(mean=float(data.mean()), p10=p10, p50=p50, p90=p90)


@attrs.frozen(kw_only=True)
class YearOutcome:
    """One demand year solved with a decision's homes: the outcome, and how many children the
    plan places in the homes of each entry of ``Recruitment.homes`` (in its order)."""

    outcome: Outcome
    used: tuple[int, ...] = ()
    #: Whether a solve found it (else the shortcut took a known outcome); informational only.
    solved: bool = attrs.field(default=True, eq=False)
    #: What its solve leaves a solve of the year with one home more (the greedy baseline's next round).
    start: WarmStart | None = attrs.field(default=None, eq=False, repr=False)


def used_places(recruitment: Recruitment, plan: Plan) -> tuple[int, ...]:
    """Children ``plan`` places in the homes of each entry of ``recruitment.homes``."""
    entry_of = {recruited_id(m, p, k): i for i, (m, p, c) in enumerate(recruitment.homes) for k in range(1, c + 1)}
    used = [0] * len(recruitment.homes)
    for a in plan.assignments:
        i = entry_of.get(a.home)
        if i is not None:
            used[i] += 1
    return tuple(used)


def year_outcome(scenario: Scenario, plan: Plan, recruitment: Recruitment) -> YearOutcome:
    """What an evaluation keeps of ``plan``, the plan of ``scenario`` (a year with ``recruitment``'s homes)."""
    outcome = Outcome(status=plan.status, totals=plan.totals, yearly_cost=yearly_cost(scenario, plan),
                      bounds=dict(plan.bounds))
    return YearOutcome(outcome=outcome, used=used_places(recruitment, plan))


def _fixed(year: Scenario) -> bool:
    from placering.recruitment import fixed_totals

    return fixed_totals(year)


def variant_params(year: Scenario, params: SolveParams) -> SolveParams:
    """One worker; where every optimal plan has the same totals, no time limit applies and the
    caller left the tuning alone, the faster route of the marginal table
    (:data:`placering.recruitment.VARIANT_TUNING`)."""
    from placering.recruitment import VARIANT_TUNING

    params = params.replace(workers=1)
    if _fixed(year) and params.time_limit is None and params.tuning == Tuning():
        params = params.replace(tuning=VARIANT_TUNING)
    return params


#: A task of the sweep: solve year ``k`` with ``decision``'s homes; ``reference`` is a decision
#: with one home fewer whose outcome in year ``k`` is known (or ``None``), for the shortcut.
_Task = tuple[Recruitment, int, "tuple[Recruitment, YearOutcome] | None"]


@attrs.frozen
class _Solve:
    """The sweep's work: years solved with decisions' homes (picklable for any executor)."""

    years: tuple[Scenario, ...]
    profiles: tuple[Profile, ...]
    params: SolveParams

    def __call__(self, tasks: Sequence[_Task]) -> list[YearOutcome]:
        return [self.one(*task) for task in tasks]

    def one(self, decision: Recruitment, k: int, reference: tuple[Recruitment, YearOutcome] | None) -> YearOutcome:
        from placering.solve import solve_and_start

        year = self.years[k]
        # Where any optimum will do, a year with one home more starts from the year without it.
        warm = _fixed(year) and self.params.time_limit is None
        start = None
        if reference is not None:
            same = self._unchanged(decision, year, *reference)
            if same is not None:
                return same
            start = reference[1].start if warm else None
        scenario = decision.apply(year, self.profiles)
        plan, left = solve_and_start(scenario, variant_params(year, self.params), explain=False, start=start)
        return attrs.evolve(year_outcome(scenario, plan, decision), start=left if warm else None)

    def _unchanged(
        self, decision: Recruitment, year: Scenario, before: Recruitment, known: YearOutcome
    ) -> YearOutcome | None:
        """``known`` (``before``'s outcome) when adding ``decision``'s one extra home provably
        changes nothing: the year's program is the same, every optimal plan has the same totals,
        ``known`` is proven and no time limit applies. Else ``None``."""
        from placering.recruitment import _same_arcs, _uses

        if not (_fixed(year) and self.params.time_limit is None and known.outcome.status == "optimal"):
            return None
        (extra,) = [(m, p, c) for m, p, c in decision.homes if before.count(m, p) != c]
        m, name, count = extra
        profile = next(p for p in self.profiles if p.name == name)
        old = before.apply(year, self.profiles)
        # The extra home appended last: a renumbering of the homes of decision.apply(year).
        new = attrs.evolve(old, homes=[*old.homes, profile.home(m, recruited_id(m, name, count))])
        if may_be_used(new, len(old.homes)):
            return None  # before every arc is built (most often some child may use it)
        arcs = all_arcs(new)
        if _uses(arcs, len(old.homes)) or not _same_arcs(arcs, all_arcs(old)):
            return None
        used = dict(zip(((m_, p_) for m_, p_, _ in before.homes), known.used, strict=True))
        return YearOutcome(outcome=known.outcome, used=tuple(used.get((m_, p_), 0) for m_, p_, _ in decision.homes),
                           solved=False, start=known.start)


def _sweep(
    work: _Solve, tasks: Sequence[_Task], executor: Executor | None, progress: bool | None, label: str
) -> list[YearOutcome]:
    return run(work, list(tasks), executor=executor, label=label, progress=progress) if tasks else []


@attrs.frozen(kw_only=True)
class Evaluation:
    """A recruitment weighed on demand years: per year the base (today's homes) and the
    outcome with the recruited homes, the saving, and both statuses."""

    recruitment: Recruitment
    base: tuple[Outcome, ...]
    outcomes: tuple[YearOutcome, ...]

    @property
    def savings(self) -> tuple[float, ...]:
        """Per year: ``yearly_cost(base) - yearly_cost(with the recruited homes)``, kr."""
        return tuple(b.yearly_cost - o.outcome.yearly_cost for b, o in zip(self.base, self.outcomes, strict=True))

    @property
    def statuses(self) -> tuple[str, ...]:
        """Per year, the status of the solve with the recruited homes."""
        return tuple(o.outcome.status for o in self.outcomes)

    @property
    def base_statuses(self) -> tuple[str, ...]:
        return tuple(b.status for b in self.base)

    @property
    def proven(self) -> bool:
        """Whether every year, with and without the recruited homes, was proven optimal."""
        return all(s == "optimal" for s in (*self.statuses, *self.base_statuses))

    @property
    def summary(self) -> Summary:
        return Summary.of(self.savings)

    def mean_used(self) -> tuple[float, ...]:
        """Per entry of ``recruitment.homes``: the mean over the years of children placed there."""
        if not self.outcomes:
            return tuple(0.0 for _ in self.recruitment.homes)
        return tuple(float(np.mean([o.used[i] for o in self.outcomes])) for i in range(len(self.recruitment.homes)))


def evaluate(
    recruitments: Sequence[Recruitment],
    years: Sequence[Scenario],
    profiles: Sequence[Profile],
    params: SolveParams | None = None,
    *,
    base: Sequence[Outcome] | None = None,
    executor: Executor | None = None,
    progress: bool | None = None,
) -> list[Evaluation]:
    """Each recruitment weighed on ``years``, in their order: every year solved exactly with
    and without the recruited homes, in one sweep (a decision given twice is solved once;
    ``base`` are the years' outcomes without recruits, when already known)."""
    years = tuple(years)
    params = params or SolveParams()
    work = _Solve(years, tuple(profiles), params)
    decisions = list(dict.fromkeys(recruitments))
    empty = Recruitment()
    if base is None and empty not in decisions:
        decisions.insert(0, empty)
    tasks: list[_Task] = [(d, k, None) for d in decisions for k in range(len(years))]
    found = _sweep(work, tasks, executor, progress, "years")
    by: dict[tuple[Recruitment, int], YearOutcome] = {(d, k): o for (d, k, _), o in zip(tasks, found, strict=True)}
    base_outcomes = tuple(base) if base is not None else tuple(by[empty, k].outcome for k in range(len(years)))
    if len(base_outcomes) != len(years):
        raise ValueError(f"{len(base_outcomes)} base outcomes for {len(years)} years")
    return [
        Evaluation(recruitment=r, base=base_outcomes, outcomes=tuple(by[r, k] for k in range(len(years))))
        for r in recruitments
    ]


# --- occupancy -------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Occupancy:
    """The recruited homes of one profile in one municipality: their places (count x capacity)
    and the mean over the years of children placed in them (held-out years too, when weighed)."""

    municipality: str
    profile: str
    count: int
    places: int
    mean_places_used: float
    holdout_mean_places_used: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "municipality": self.municipality,
            "profile": self.profile,
            "count": self.count,
            "places": self.places,
            "mean_places_used": round(self.mean_places_used, 6),
        }
        if self.holdout_mean_places_used is not None:
            data["holdout_mean_places_used"] = round(self.holdout_mean_places_used, 6)
        return data


def occupancy(
    recruitment: Recruitment,
    profiles: Sequence[Profile],
    training: Evaluation,
    holdout: Evaluation | None = None,
) -> tuple[Occupancy, ...]:
    """A row per entry of ``recruitment.homes``: places, and the mean children placed there
    over the training years (and the held-out years)."""
    capacity = {p.name: p.capacity for p in profiles}
    used = training.mean_used()
    held = holdout.mean_used() if holdout is not None else None
    return tuple(
        Occupancy(
            municipality=m,
            profile=p,
            count=c,
            places=c * capacity[p],
            mean_places_used=used[i],
            holdout_mean_places_used=None if held is None else held[i],
        )
        for i, (m, p, c) in enumerate(recruitment.homes)
    )


# --- the baselines --------------------------------------------------------------------------------


def population_recruitment(
    scenario: Scenario,
    profiles: Sequence[Profile],
    budget: float,
    members: Sequence[str],
    max_per_municipality: int,
) -> Recruitment:
    """The ``population`` baseline: member ``m``'s share of the budget is ``budget * pop_m /
    sum(pop)``, and it recruits ``floor(share_m / recruitment_cost)`` homes of the first profile,
    at most ``max_per_municipality`` (the most allowed when the profile costs nothing). Computed
    exactly in öre. A member without a population is invalid input."""
    first = profiles[0]
    people = []
    for code in members:
        population = scenario.region.municipality(code).population
        if population is None:
            raise InvalidInputError(
                "has no population, by which the population baseline splits the budget",
                entity=f"municipality {code!r}", field="population",
            )
        people.append(population)
    total = sum(people)
    if total <= 0:
        raise InvalidInputError("members have no people, by which the population baseline splits the budget",
                                entity="recruitment", field="members")
    budget_oere, cost = oere(budget), oere(first.recruitment_cost)
    counts = {}
    for code, population in zip(members, people, strict=True):
        afford = max_per_municipality if cost == 0 else (budget_oere * population) // (total * cost)
        counts[code, first.name] = min(max_per_municipality, afford)
    return Recruitment.of(counts, members, profiles)


def _plus(decision: Recruitment, municipality: str, profile: str, members: Sequence[str],
          profiles: Sequence[Profile]) -> Recruitment:
    counts = {(m, p): c for m, p, c in decision.homes}
    counts[municipality, profile] = counts.get((municipality, profile), 0) + 1
    return Recruitment.of(counts, members, profiles)


def _best_pair(
    decision: Recruitment,
    candidates: dict[tuple[str, str], Recruitment],
    cache: dict[tuple[Recruitment, int], YearOutcome],
    years: int,
    cost: dict[str, int],
) -> tuple[str, str] | None:
    """The pair with the largest saving over the years per krona (``None`` if none saves),
    in exact öre; a tie keeps the earlier pair."""
    best: Any = None
    best_pair = None
    for pair, after in candidates.items():
        saving = sum(
            oere(cache[decision, k].outcome.yearly_cost) - oere(cache[after, k].outcome.yearly_cost)
            for k in range(years)
        )
        if saving <= 0:
            continue
        price = cost[pair[1]]
        ratio: Any = math.inf if price == 0 else Fraction(saving, price)
        if best is None or ratio > best:
            best, best_pair = ratio, pair
    return best_pair


def _keep_starts_of(decision: Recruitment, cache: dict[tuple[Recruitment, int], YearOutcome]) -> None:
    """Only the chosen decision's years start the next round: let the others' starts go."""
    for key, outcome in cache.items():
        if key[0] != decision and outcome.start is not None:
            cache[key] = attrs.evolve(outcome, start=None)


def greedy_recruitment(
    years: Sequence[Scenario],
    profiles: Sequence[Profile],
    budget: float,
    members: Sequence[str],
    max_per_municipality: int,
    params: SolveParams | None = None,
    *,
    base: Sequence[Outcome] | None = None,
    executor: Executor | None = None,
    progress: bool | None = None,
) -> Recruitment:
    """The ``greedy`` baseline on the training ``years``: starting from nothing, add one home of
    the (member, profile) pair with the largest mean yearly saving per krona, given the homes
    already chosen, among the pairs under ``max_per_municipality`` that the rest of the budget
    affords; stop when none is affordable or none saves anything (> 0 kr, to the öre). Ties go
    to the first pair in the order of the members, then of the profiles. A profile that costs
    nothing and saves something comes before every other. ``base`` are the years' outcomes
    without recruits, when known."""
    years = tuple(years)
    params = params or SolveParams()
    work = _Solve(years, tuple(profiles), params)
    cache: dict[tuple[Recruitment, int], YearOutcome] = {}
    empty = Recruitment()
    if base is not None:
        cache.update({(empty, k): YearOutcome(outcome=o) for k, o in enumerate(base)})
    else:
        found = _sweep(work, [(empty, k, None) for k in range(len(years))], executor, progress, "greedy")
        cache.update({(empty, k): o for k, o in enumerate(found)})
    cost = {p.name: oere(p.recruitment_cost) for p in profiles}
    left = oere(budget)
    decision = empty
    weighed = shortcut = 0
    while True:
        pairs = [
            (m, p.name)
            for m in members
            for p in profiles
            if decision.count(m, p.name) < max_per_municipality and cost[p.name] <= left
        ]
        if not pairs:
            break
        candidates = {pair: _plus(decision, *pair, members, profiles) for pair in pairs}
        tasks: list[_Task] = [
            (after, k, (decision, cache[decision, k]))
            for after in candidates.values()
            for k in range(len(years))
            if (after, k) not in cache
        ]
        found = _sweep(work, tasks, executor, progress, "greedy")
        for (after, k, _), outcome in zip(tasks, found, strict=True):
            cache[after, k] = outcome
        weighed += len(tasks)
        shortcut += sum(not o.solved for o in found)
        best_pair = _best_pair(decision, candidates, cache, len(years), cost)
        if best_pair is None:
            break
        decision = candidates[best_pair]
        left -= cost[best_pair[1]]
        _keep_starts_of(decision, cache)
    unproven = sum(o.outcome.status != "optimal" for o in cache.values())
    log.info("greedy baseline: %d homes, %d (pair, year) weighed, %d without a solve", decision.total, weighed,
             shortcut)
    if unproven:
        log.warning("greedy baseline: %d of the years it weighed were not proven optimal", unproven)
    return decision

