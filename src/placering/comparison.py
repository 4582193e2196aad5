"""A plan's yearly cost, and what changes between the plans of a scenario and a variant.

Design.md section 7: ``yearly_cost = 365 * (cost_per_day + unplaced * costs_per_day.unplaced)``
in kr. A variant is a scenario derived from another (``attrs.evolve``); comparing the two
plans gives the change in every total and in yearly cost, per municipality, and the children
whose placement differs. Everything here is plain data with ``to_dict()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from placering.policy import KINDS, Policy
from placering.result import DAYS_PER_YEAR, Plan, Totals, whole
from placering.scenario import Scenario

__all__ = [
    "Change",
    "MunicipalityChange",
    "PlacementChange",
    "PlanComparison",
    "compare_plans",
    "municipality_yearly_costs",
    "yearly",
    "yearly_cost",
]

#: The totals a comparison states, in the order of the plan file's ``totals``.
TOTAL_KEYS = ("unplaced", "hvb", "consultant", "split_siblings", "cost_per_day", "km")


def yearly(cost_per_day: float, unplaced: int, policy: Policy) -> float:
    """The one statement of design.md section 7: ``365 * (cost_per_day + unplaced *
    costs_per_day.unplaced)`` kr for placements costing ``cost_per_day`` and ``unplaced``
    children left without one (for a whole plan, a municipality's children, a coalition)."""
    return float(DAYS_PER_YEAR * (cost_per_day + unplaced * policy.costs_per_day.unplaced))


def yearly_cost(policy: Policy | Scenario, totals: Totals | Plan) -> float:
    """The yearly cost in kr of a plan or its totals (:func:`yearly`)."""
    policy = policy.policy if isinstance(policy, Scenario) else policy
    totals = totals.totals if isinstance(totals, Plan) else totals
    return yearly(totals.cost_per_day, totals.unplaced, policy)


def municipality_yearly_costs(scenario: Scenario, plan: Plan) -> dict[str, float]:
    """The yearly cost of each municipality's own children in ``plan``: their placements, and the
    unplaced ones at the ``unplaced`` price. Every municipality of the region, in its order."""
    price = scenario.policy.costs_per_day.unplaced
    per_day = dict.fromkeys(scenario.region.codes, 0.0)
    for a in plan.assignments:
        per_day[scenario.child(a.child).municipality] += a.cost_per_day
    for u in plan.unplaced:
        per_day[scenario.child(u.child).municipality] += price
    return {code: float(DAYS_PER_YEAR * day) for code, day in per_day.items()}


@attrs.frozen(kw_only=True)
class Change:
    """One quantity in the base plan and in the variant's."""

    before: float
    after: float

    @property
    def change(self) -> float:
        return self.after - self.before

    def to_dict(self) -> dict[str, Any]:
        return {"before": whole(self.before), "after": whole(self.after), "change": whole(self.change)}


@attrs.frozen(kw_only=True)
class MunicipalityChange:
    """A responsible municipality's children: placements by kind, unplaced, and yearly cost."""

    code: str
    name: str
    placements: Mapping[str, Change]
    unplaced: Change
    yearly_cost: Change

    def to_dict(self) -> dict[str, Any]:
        return {
            "municipality": self.code,
            "name": self.name,
            "placements": {kind: change.to_dict() for kind, change in self.placements.items()},
            "unplaced": self.unplaced.to_dict(),
            "yearly_cost": self.yearly_cost.to_dict(),
        }


@attrs.frozen(kw_only=True)
class PlacementChange:
    """A child whose home differs between the plans. ``None`` is unplaced; a child that exists
    in one scenario only has ``present_before`` or ``present_after`` false."""

    child: str
    municipality: str
    before: str | None
    after: str | None
    present_before: bool = True
    present_after: bool = True

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen(kw_only=True)
class PlanComparison:
    """The plan of a scenario against the plan of a variant (design.md section 7)."""

    totals: Mapping[str, Change]
    yearly_cost: Change
    by_municipality: tuple[MunicipalityChange, ...]
    placements: tuple[PlacementChange, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "totals": {key: change.to_dict() for key, change in self.totals.items()},
            "yearly_cost": self.yearly_cost.to_dict(),
            "by_municipality": [row.to_dict() for row in self.by_municipality],
            "placements": [p.to_dict() for p in self.placements],
        }


def _rows(scenario: Scenario, plan: Plan) -> dict[str, tuple[dict[str, int], int]]:
    rows = {row.code: (dict(row.placements), row.unplaced) for row in plan.by_municipality(scenario)}
    return {code: rows.get(code, (dict.fromkeys(KINDS, 0), 0)) for code in scenario.region.codes}


def compare_plans(base: Scenario, base_plan: Plan, variant: Scenario, variant_plan: Plan) -> PlanComparison:
    """What changes from ``base_plan`` (of ``base``) to ``variant_plan`` (of ``variant``).

    Municipalities are those of either region that have a child in either scenario, in the
    base region's order; children are listed in the base scenario's order, then the variant's new ones.
    """
    totals = {
        key: Change(before=getattr(base_plan.totals, key), after=getattr(variant_plan.totals, key))
        for key in TOTAL_KEYS
    }
    cost_before = municipality_yearly_costs(base, base_plan)
    cost_after = municipality_yearly_costs(variant, variant_plan)
    rows_before, rows_after = _rows(base, base_plan), _rows(variant, variant_plan)
    codes = [*base.region.codes, *(c for c in variant.region.codes if c not in base.region)]
    used = {c.municipality for c in base.children} | {c.municipality for c in variant.children}
    empty: tuple[dict[str, int], int] = (dict.fromkeys(KINDS, 0), 0)
    municipalities = []
    for code in codes:
        if code not in used:
            continue
        (kinds_before, unplaced_before), (kinds_after, unplaced_after) = (
            rows_before.get(code, empty),
            rows_after.get(code, empty),
        )
        region = base.region if code in base.region else variant.region
        municipalities.append(
            MunicipalityChange(
                code=code,
                name=region.name_of(code),
                placements={k: Change(before=kinds_before[k], after=kinds_after[k]) for k in KINDS},
                unplaced=Change(before=unplaced_before, after=unplaced_after),
                yearly_cost=Change(before=cost_before.get(code, 0.0), after=cost_after.get(code, 0.0)),
            )
        )
    home_before, home_after = base_plan.home_of(), variant_plan.home_of()
    children = {c.id: c.municipality for c in base.children} | {c.id: c.municipality for c in variant.children}
    placements = tuple(
        PlacementChange(
            child=child,
            municipality=code,
            before=home_before.get(child),
            after=home_after.get(child),
            present_before=base.has_child(child),
            present_after=variant.has_child(child),
        )
        for child, code in children.items()
        if home_before.get(child) != home_after.get(child) or base.has_child(child) != variant.has_child(child)
    )
    return PlanComparison(
        totals=totals,
        yearly_cost=Change(before=yearly_cost(base, base_plan), after=yearly_cost(variant, variant_plan)),
        by_municipality=tuple(municipalities),
        placements=placements,
    )
