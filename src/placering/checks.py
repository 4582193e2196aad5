"""An independent plan checker: every rule a plan breaks, knowing nothing of the solver.

This module restates rules 1-9 of design.md section 2 on purpose instead of importing
:mod:`placering.eligibility`, so that a mistake there cannot hide itself from the tests and
benchmarks that use :func:`check_plan` as their referee.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import attrs

from placering.result import STATUSES, Plan
from placering.scenario import Scenario

__all__ = ["Violation", "check_plan"]


@attrs.frozen(kw_only=True)
class Violation:
    """One broken rule: ``rule`` is a short name (``capacity``, ``siblings``, ``needs`` ...)."""

    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def check_plan(scenario: Scenario, plan: Plan) -> list[Violation]:
    """List every way ``plan`` breaks the rules of ``scenario``; an empty list means valid."""
    out: list[Violation] = []

    def bad(rule: str, message: str) -> None:
        out.append(Violation(rule=rule, message=message))

    if plan.status not in STATUSES:
        bad("status", f"status {plan.status!r} is not one of {', '.join(STATUSES)}")

    # Every child exactly once, in assignments or unplaced.
    seen = Counter([a.child for a in plan.assignments] + [u.child for u in plan.unplaced])
    for child_id, n in seen.items():
        if not scenario.has_child(child_id):
            bad("children", f"{child_id!r} is not a child of the scenario")
        elif n > 1:
            bad("children", f"child {child_id!r} appears {n} times")
    for c in scenario.children:
        if c.id not in seen:
            bad("children", f"child {c.id!r} is neither assigned nor unplaced")

    policy = scenario.policy
    region = scenario.region
    placed: dict[str, str] = {}
    load: Counter[str] = Counter()
    for a in plan.assignments:
        if not scenario.has_child(a.child):
            continue
        if not scenario.has_home(a.home):
            bad("homes", f"child {a.child!r} is assigned to unknown home {a.home!r}")
            continue
        child, home = scenario.child(a.child), scenario.home(a.home)
        placed[child.id] = home.id
        load[home.id] += 1
        distance = region.km(child.municipality, home.municipality)
        cost = home.cost_per_day if home.cost_per_day is not None else policy.costs_per_day[home.kind]
        if a.kind != home.kind:
            bad("record", f"{child.id} in {home.id}: kind {a.kind!r}, but the home is {home.kind!r}")
        if not _same(a.km, distance):
            bad("record", f"{child.id} in {home.id}: km {a.km}, but the road distance is {distance}")
        if not _same(a.cost_per_day, cost):
            bad("record", f"{child.id} in {home.id}: cost_per_day {a.cost_per_day}, but the home costs {cost}")
        if policy.keep_current and child.current_home is not None:
            # Rule 9: a kept child is not re-matched, so rules 1-6 do not apply to it.
            if home.id != child.current_home:
                bad("stability", f"{child.id} must stay in its current home {child.current_home}, not {home.id}")
            continue
        if not set(child.needs).issubset(home.competences):
            missing = sorted(set(child.needs) - set(home.competences))
            bad("needs", f"{child.id} in {home.id}: needs {missing} are not among the home's competences")
        if child.age < home.min_age or child.age > home.max_age:
            bad("age", f"{child.id} in {home.id}: age {child.age} is outside {home.min_age}-{home.max_age}")
        if child.care_level > home.max_care_level:
            bad("care_level", f"{child.id} in {home.id}: care level {child.care_level} > {home.max_care_level}")
        if home.kind == "kin" and child.id not in home.reserved_for:
            bad("kin", f"{child.id} in kin home {home.id}, which is reserved for others")
        if child.max_km is not None and home.kind in ("municipal", "consultant"):
            limit = child.max_km
        else:
            limit = policy.max_km[home.kind]
        if limit is not None and distance > limit:
            bad("distance", f"{child.id} in {home.id}: {distance} km > limit {limit} km")
        if policy.pooling == "isolated" and home.kind == "municipal" and home.owner != child.municipality:
            bad("pooling", f"{child.id} of {child.municipality} in {home.id}, owned by {home.owner}")
    for c in scenario.children:
        if policy.keep_current and c.current_home is not None and c.id not in placed and c.id in seen:
            bad("stability", f"{c.id} must stay in its current home {c.current_home}, but is unplaced")

    # Rule 7: capacity counts every child placed there, the kept ones too.
    for home_id, n in load.items():
        cap = scenario.home(home_id).capacity
        if n > cap:
            bad("capacity", f"home {home_id} holds {n} children, capacity {cap}")

    # Rule 8: siblings together, except groups kept where they already live (rule 9).
    groups: dict[str, list[str]] = defaultdict(list)
    for c in scenario.children:
        if c.sibling_group is not None:
            groups[c.sibling_group].append(c.id)
    split = 0
    for group, members in groups.items():
        homes = {placed.get(m) for m in members}
        split += len(homes - {None}) - 1 if homes - {None} else 0
        kept = policy.keep_current and all(scenario.child(m).current_home is not None for m in members)
        if policy.siblings == "together" and len(homes) > 1 and not kept:
            where = ", ".join(f"{m}->{placed.get(m) or 'unplaced'}" for m in members)
            bad("siblings", f"group {group} is split: {where}")

    # Totals, recomputed from scratch.
    kinds = Counter(scenario.home(h).kind for h in placed.values())
    expect = {
        "unplaced": len(scenario.children) - len(placed),
        "hvb": kinds["hvb"],
        "consultant": kinds["consultant"],
        "split_siblings": split,
        "cost_per_day": sum(
            (scenario.home(h).cost_per_day if scenario.home(h).cost_per_day is not None
             else policy.costs_per_day[scenario.home(h).kind])
            for h in placed.values()
        ),
        "km": sum(region.km(scenario.child(c).municipality, scenario.home(h).municipality) for c, h in placed.items()),
    }
    for key, value in expect.items():
        got = getattr(plan.totals, key)
        if not _same(got, value):
            bad("totals", f"totals.{key} is {got}, but the plan gives {value}")
    return out
