"""Recruitment (design.md section 9): what one more home is worth, and which consultant homes to
take back into own management.

- :func:`marginal_values`: for every member municipality ``m`` and profile ``p``, the scenario
  plus one home of ``p`` in ``m`` (owned by ``m``), solved; each row the change in every total
  and ``yearly_saving = yearly_cost(base) - yearly_cost(variant)``, largest saving first;
- :func:`conversions`: every consultant home turned into a municipal home of its municipality
  (same capacity, ages, competences and care level, ``cost_per_day`` the converted cost, its
  children kept), solved and ranked the same way;
- :func:`recruitment_plan`: the homes to recruit under a budget over demand years
  (:mod:`~placering.recruitment.optimum`), weighed on held-out years against the
  ``population`` and ``greedy`` baselines (:mod:`~placering.recruitment.evaluation`),
  written by :func:`recruitment_to_dict` as ``placering.recruitment/1``.

Variants go through a sweep (:mod:`placering.sweep`), so any ``Executor`` solves them. Each is a
plain solve without explanations. Where every optimal plan has the same totals, it starts from
what the base solve knows (its plan as the incumbent and the arcs its column generation took in:
:class:`placering.matching.start.WarmStart`), by column generation with each split part sent
straight to its MIP (:data:`VARIANT_TUNING`); and it needs no solve where its program is
provably the base's: a home no
child may use (rules 1-6, the places it has) adds no arc and removes none, so the variant's
0-1 program is the base's and the base's plan is optimal in it; where every optimal plan has
the same totals (:func:`fixed_totals`) and no time limit applies, such a variant takes the base
plan's placements, with its totals computed for the variant, instead of a solve.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import attrs
import numpy as np

from placering.comparison import TOTAL_KEYS
from placering.cooperation.coalition import check_members, default_members
from placering.cooperation.shares import kr
from placering.eligibility import may_be_used
from placering.exceptions import InvalidInputError
from placering.homes import Home
from placering.matching.model import Arcs, all_arcs
from placering.matching.start import WarmStart, with_arcs_of
from placering.params import SolveParams, Tuning
from placering.recruitment.decision import Recruitment
from placering.recruitment.evaluation import (
    Evaluation,
    Occupancy,
    Summary,
    evaluate,
    greedy_recruitment,
    population_recruitment,
    variant_params,
)
from placering.recruitment.optimum import DEFAULT_MAX_PER_MUNICIPALITY, Optimum, optimal_recruitment
from placering.recruitment.plan import (
    RECRUITMENT_FORMAT,
    Holdout,
    RecruitmentPlan,
    recruitment_plan,
    recruitment_to_dict,
)
from placering.recruitment.profiles import (
    DEFAULT_RECRUITMENT_COST,
    PROFILES_FORMAT,
    Profile,
    default_profiles,
    profiles_from_dict,
    read_profiles,
)
from placering.result import Plan, Totals
from placering.scenario import Scenario
from placering.sweep import Outcome, outcome_of, plan_outcome, run

__all__ = [
    "CONVERSION_FORMAT",
    "DEFAULT_CONVERTED_COST",
    "DEFAULT_MAX_PER_MUNICIPALITY",
    "DEFAULT_RECRUITMENT_COST",
    "MARGINAL_FORMAT",
    "PROFILES_FORMAT",
    "RECRUITMENT_FORMAT",
    "Conversion",
    "Conversions",
    "Evaluation",
    "Holdout",
    "MarginalRow",
    "MarginalTable",
    "Occupancy",
    "Optimum",
    "Profile",
    "Recruitment",
    "RecruitmentPlan",
    "Summary",
    "conversion_to_dict",
    "conversions",
    "converted",
    "default_profiles",
    "evaluate",
    "fixed_totals",
    "greedy_recruitment",
    "marginal_to_dict",
    "marginal_values",
    "optimal_recruitment",
    "population_recruitment",
    "profiles_from_dict",
    "read_profiles",
    "recruitment_plan",
    "recruitment_to_dict",
    "with_home",
]

MARGINAL_FORMAT = "placering.marginal/1"
CONVERSION_FORMAT = "placering.conversion/1"

#: ``cost_per_day`` of a consultant home taken back into own management [E: domain.md 2.2, förstärkt own home].
DEFAULT_CONVERTED_COST = 1200.0

#: How a variant is solved when every optimal plan has the same totals and the caller left the
#: tuning alone: column generation at every size (8 arcs per unit and round, as without a time
#: limit: 32 made the demo's marginal table 1.2x slower, its MIPs grow with the arcs), and
#: each split part straight to its MIP, which prove the same optimum as the default route, in
#: about 60 % of its time on the demo year. No dive on the flow's optimal face first: the MIP
#: looks there first anyway, exactly, and the dives cost the demo's table 3 s of 50.
VARIANT_TUNING = Tuning(price_above=0, part_branch_budget=0, dive=False)

#: The objective terms that, all minimised, leave every plan total fixed.
_TOTAL_TERMS = ("unplaced", "hvb", "consultant", "cost", "km")


def fixed_totals(scenario: Scenario) -> bool:
    """Whether every optimal plan of ``scenario`` has the same totals: the objective holds every
    term a total counts (and ``split_siblings``, unless sibling groups are always whole)."""
    objective = scenario.policy.effective_objective()
    whole_groups = scenario.policy.siblings == "together" or "split_siblings" in objective
    return whole_groups and all(t in objective for t in _TOTAL_TERMS)


def _fresh_id(scenario: Scenario) -> str:
    taken = {h.id for h in scenario.homes}
    k = 1
    while f"recruited-{k}" in taken:
        k += 1
    return f"recruited-{k}"


def with_home(scenario: Scenario, profile: Profile, municipality: str) -> Scenario:
    """The scenario plus one home of ``profile`` in ``municipality``, owned by it (appended last)."""
    home = profile.home(municipality, _fresh_id(scenario))
    return attrs.evolve(scenario, homes=[*scenario.homes, home])


def converted(scenario: Scenario, home_id: str, cost_per_day: float = DEFAULT_CONVERTED_COST) -> Scenario:
    """The scenario with consultant home ``home_id`` turned into a municipal home of its
    municipality: same id, capacity, ages, competences and care level, ``cost_per_day`` given;
    the children living there are kept there as before."""
    old = scenario.home(home_id)
    if old.kind != "consultant":
        raise InvalidInputError(f"is a {old.kind} home, not a consultant home", entity=f"home {home_id!r}",
                                field="kind")
    new = Home(
        id=old.id,
        kind="municipal",
        municipality=old.municipality,
        owner=old.municipality,
        capacity=old.capacity,
        min_age=old.min_age,
        max_age=old.max_age,
        competences=old.competences,
        max_care_level=old.max_care_level,
        cost_per_day=cost_per_day,
    )
    return attrs.evolve(scenario, homes=[new if h.id == home_id else h for h in scenario.homes])


# --- the sweep's work ----------------------------------------------------------------------------


def _uses(arcs: Arcs, home: int) -> bool:
    return bool(np.any(arcs.home == home))


def _usable(variant: Scenario, home: int, base_arcs: Arcs) -> bool:
    """Whether the home ``home`` of ``variant`` (one the base lacks, or changed from the base's)
    may have an arc: cheaply, before every arc of the variant is built (15 ms on the demo, for
    what is most often a home some child may use). ``False`` is checked again on the arcs."""
    if home < len(base_arcs.free_places) and _uses(base_arcs, home):
        return True
    return may_be_used(variant, home)


def _same_arcs(a: Arcs, b: Arcs) -> bool:
    """Whether two scenarios' arcs make the same 0-1 program: the same units, arcs, terms, scales."""
    return (
        a.units == b.units
        and np.array_equal(a.unit, b.unit)
        and np.array_equal(a.home, b.home)
        and a.per_child.keys() == b.per_child.keys()
        and all(np.array_equal(a.per_child[k], b.per_child[k]) for k in a.per_child)
        and dict(a.scales) == dict(b.scales)
        and dict(a.ranges) == dict(b.ranges)
    )


@attrs.define(eq=False)
class _Taken:
    """The start the next variant solved in this process begins at: the base's plan, with the
    arcs the base and every variant before it took in."""

    start: WarmStart | None = None


@attrs.frozen
class _Variants:
    """The work a sweep sends out: a chunk of variants of ``scenario``, each named by a task
    (``(municipality, profile)`` for a new home, a home id for a conversion), solved."""

    scenario: Scenario
    base: Plan
    params: SolveParams
    converted_cost: float = DEFAULT_CONVERTED_COST
    start: WarmStart | None = None  # the base solve's, for the variants where any optimum will do
    # Variants of one base want mostly the same arcs beyond the base's (on the demo's marginal
    # table, arcs into the few consultant homes a new home frees): each variant in a process
    # starts with those the ones before it took in, so fewer need a second round of column
    # generation (the table 58 -> 48 s). Only the way changes: every variant's optimum is exact.
    taken: _Taken = attrs.field(factory=_Taken, eq=False, repr=False)

    def variant(self, task: Any) -> tuple[Scenario, int]:
        """The variant of ``task`` and the index of the home it adds or changes."""
        if isinstance(task, str):
            index = next(j for j, h in enumerate(self.scenario.homes) if h.id == task)
            return converted(self.scenario, task, self.converted_cost), index
        municipality, profile = task
        return with_home(self.scenario, profile, municipality), len(self.scenario.homes)

    def __call__(self, tasks: Sequence[Any]) -> list[Outcome]:
        shortcut = fixed_totals(self.scenario) and self.params.time_limit is None and self.base.status == "optimal"
        base_arcs = all_arcs(self.scenario) if shortcut else None
        out = []
        for task in tasks:
            variant, index = self.variant(task)
            if base_arcs is None:
                out.append(outcome_of(variant, self.params))
                continue
            # Any exact optimum has the plain solve's totals here, so take the faster route,
            # from the base's plan and arcs.
            unchanged = self._unchanged(variant, index, base_arcs)
            out.append(unchanged if unchanged is not None else self._from_start(variant))
        return out

    def _from_start(self, variant: Scenario) -> Outcome:
        from placering.solve import solve_and_start

        start = self.taken.start or self.start
        params = variant_params(self.scenario, self.params)
        plan, left = solve_and_start(variant, params, explain=False, start=start)
        if start is not None:
            self.taken.start = with_arcs_of(start, left)
        return plan_outcome(variant, plan)

    def _unchanged(self, variant: Scenario, index: int, base_arcs: Arcs) -> Outcome | None:
        """The variant's outcome when its program is the base's, else ``None``: the base's
        placements are then optimal in the variant, and its totals every optimal plan's."""
        if _usable(variant, index, base_arcs):
            return None
        arcs = all_arcs(variant)
        if _uses(arcs, index) or not _same_arcs(arcs, base_arcs):
            return None
        return plan_outcome(variant, Plan.from_home_of(variant, self.base.home_of(), status="optimal"))


def _base(scenario: Scenario, params: SolveParams) -> tuple[Plan, WarmStart]:
    """The base plan, and the start it leaves the variants (found as they will be solved)."""
    from placering.solve import solve_and_start

    return solve_and_start(scenario, variant_params(scenario, params), explain=False)


# --- the marginal value of one more home -----------------------------------------------------


def _changes(base: Totals, after: Totals) -> dict[str, float]:
    before_d, after_d = base.to_dict(), after.to_dict()
    return {key: round(after_d[key] - before_d[key], 6) + 0 for key in TOTAL_KEYS}


def _variant_dict(outcome: Outcome, yearly_saving: float, change: Mapping[str, float]) -> dict[str, Any]:
    """What a marginal or conversion row says of its solved variant (section 9's files)."""
    data: dict[str, Any] = {
        "totals": outcome.totals.to_dict(),
        "change": dict(change),
        "yearly_cost": kr(outcome.yearly_cost),
        "yearly_saving": kr(yearly_saving),
        "status": outcome.status,
    }
    if outcome.bounds:
        data["bounds"] = dict(outcome.bounds)
    return data


@attrs.frozen(kw_only=True)
class MarginalRow:
    """The scenario plus one home of ``profile`` in ``municipality``, solved."""

    municipality: str
    profile: str
    outcome: Outcome
    yearly_saving: float
    change: Mapping[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"municipality": self.municipality, "profile": self.profile} | _variant_dict(
            self.outcome, self.yearly_saving, self.change
        )


@attrs.frozen(kw_only=True)
class MarginalTable:
    """The base plan's totals and yearly cost, and a row per member and profile, largest saving first."""

    members: tuple[str, ...]
    profiles: tuple[Profile, ...]
    base: Outcome
    rows: tuple[MarginalRow, ...]


def _members(scenario: Scenario, members: Iterable[str] | None) -> tuple[str, ...]:
    try:
        return check_members(scenario, default_members(scenario) if members is None else members)
    except InvalidInputError as error:
        raise error.located(entity="recruitment") from None


def marginal_values(
    scenario: Scenario,
    profiles: Sequence[Profile] | None = None,
    members: Iterable[str] | None = None,
    params: SolveParams | None = None,
    *,
    executor: Executor | None = None,
    progress: bool | None = None,
) -> MarginalTable:
    """The marginal value table of design.md section 9 (``profiles`` default to Dalarna's shipped ones;
    ``members`` as in section 8). Rows are sorted by yearly saving, largest first, then in the
    order of the members and of the profiles."""
    chosen = _members(scenario, members)
    profiles = tuple(default_profiles() if profiles is None else profiles)
    params = (params or SolveParams()).replace(workers=1)
    plan, start = _base(scenario, params)
    base = plan_outcome(scenario, plan)
    tasks = [(m, p) for m in chosen for p in profiles]
    work = _Variants(scenario, plan, params, start=start)
    outcomes = run(work, tasks, executor=executor, label="variants", progress=progress)
    rows = [
        MarginalRow(
            municipality=m,
            profile=p.name,
            outcome=o,
            yearly_saving=base.yearly_cost - o.yearly_cost,
            change=_changes(base.totals, o.totals),
        )
        for (m, p), o in zip(tasks, outcomes, strict=True)
    ]
    rows.sort(key=lambda r: -kr(r.yearly_saving))  # stable: ties keep member and profile order
    return MarginalTable(members=chosen, profiles=profiles, base=base, rows=tuple(rows))


def _base_dict(base: Outcome) -> dict[str, Any]:
    data: dict[str, Any] = {"totals": base.totals.to_dict(), "yearly_cost": kr(base.yearly_cost), "status": base.status}
    if base.bounds:
        data["bounds"] = dict(base.bounds)
    return data


def marginal_to_dict(table: MarginalTable) -> dict[str, Any]:
    """The ``placering.marginal/1`` file."""
    return {
        "format": MARGINAL_FORMAT,
        "members": list(table.members),
        "profiles": [p.name for p in table.profiles],
        "base": _base_dict(table.base),
        "rows": [row.to_dict() for row in table.rows],
    }


# --- taking consultant homes back into own management -----------------------------------------


@attrs.frozen(kw_only=True)
class Conversion:
    """The scenario with consultant home ``home`` turned into an own home of ``municipality``, solved."""

    home: str
    municipality: str
    outcome: Outcome
    yearly_saving: float
    change: Mapping[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"home": self.home, "municipality": self.municipality} | _variant_dict(
            self.outcome, self.yearly_saving, self.change
        )


@attrs.frozen(kw_only=True)
class Conversions:
    """The base and a row per consultant home, largest saving first."""

    converted_cost: float
    base: Outcome
    rows: tuple[Conversion, ...]


def conversions(
    scenario: Scenario,
    converted_cost: float = DEFAULT_CONVERTED_COST,
    members: Iterable[str] | None = None,
    params: SolveParams | None = None,
    *,
    executor: Executor | None = None,
    progress: bool | None = None,
) -> Conversions:
    """Every consultant home converted (design.md section 9), ranked by yearly saving, largest
    first, then in the scenario's order. With ``members``, only the consultant homes that lie in them."""
    from placering import _fields as f

    if not f.is_number(converted_cost) or not 0 <= converted_cost <= f.MAX_COST:
        raise InvalidInputError(f"converted cost must be a number 0-{f.MAX_COST}, got {converted_cost!r}",
                                entity="recruitment", field="converted_cost")
    chosen = None if members is None else set(_members(scenario, members))
    params = (params or SolveParams()).replace(workers=1)
    plan, start = _base(scenario, params)
    base = plan_outcome(scenario, plan)
    homes = [h for h in scenario.homes if h.kind == "consultant" and (chosen is None or h.municipality in chosen)]
    tasks = [h.id for h in homes]
    work = _Variants(scenario, plan, params, float(converted_cost), start)
    outcomes = run(work, tasks, executor=executor, label="conversions", progress=progress)
    rows = [
        Conversion(
            home=h.id,
            municipality=h.municipality,
            outcome=o,
            yearly_saving=base.yearly_cost - o.yearly_cost,
            change=_changes(base.totals, o.totals),
        )
        for h, o in zip(homes, outcomes, strict=True)
    ]
    rows.sort(key=lambda r: -kr(r.yearly_saving))
    return Conversions(converted_cost=float(converted_cost), base=base, rows=tuple(rows))


def conversion_to_dict(result: Conversions) -> dict[str, Any]:
    """The ``placering.conversion/1`` file."""
    return {
        "format": CONVERSION_FORMAT,
        "converted_cost": result.converted_cost,
        "base": _base_dict(result.base),
        "rows": [row.to_dict() for row in result.rows],
    }
