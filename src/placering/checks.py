"""An independent plan checker: every rule a plan breaks, knowing nothing of the solver.

This module restates rules 1-9 of design.md section 2 on purpose instead of importing
:mod:`placering.eligibility`, so that a mistake there cannot hide itself from the tests and
benchmarks that use :func:`check_plan` as their referee.

Each rule, or family of violations, is one small function that returns its violations; the
order in which :func:`check_plan` calls them is the order of its report.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator

import attrs

from placering.children import Child
from placering.exceptions import InvalidInputError
from placering.homes import Home
from placering.policy import Policy
from placering.result import STATUSES, Assignment, Plan, Totals, Unplacement
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


def _cost(policy: Policy, home: Home) -> float:
    """What the home costs per day: its own price, else the policy's price of its kind."""
    return home.cost_per_day if home.cost_per_day is not None else policy.costs_per_day[home.kind]


def check_plan(scenario: Scenario, plan: Plan) -> list[Violation]:
    """List every way ``plan`` breaks the rules of ``scenario``; an empty list means valid.

    A plan whose entries have the wrong types (a km that is not a number) cannot be judged:
    that is :class:`InvalidInputError` naming the entry and the field, as the file reader says it.
    """
    _check_types(scenario, plan)
    placed = _placed(scenario, plan)
    return [
        *_status(plan),
        *_every_child_once(scenario, plan),
        *_assignments(scenario, plan),
        *_kept_children_not_unplaced(scenario, plan, placed),
        *_capacity(scenario, plan),
        *_siblings(scenario, placed),
        *_totals(scenario, plan, placed),
    ]


def is_number(value: object) -> bool:
    """A real number (numpy's too), not a bool: what the rules can compare."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_types(scenario: Scenario, plan: Plan) -> None:
    if not isinstance(scenario, Scenario):
        raise TypeError(f"check_plan takes a Scenario first, got {type(scenario).__name__}")
    if not isinstance(plan, Plan):
        raise TypeError(f"check_plan takes a Plan second (read a file with read_plan), got {type(plan).__name__}")
    _check_entries("assignments", plan.assignments, Assignment, ("child", "home"), ("km", "cost_per_day"))
    _check_entries("unplaced", plan.unplaced, Unplacement, ("child",), ())
    if not isinstance(plan.totals, Totals):
        raise InvalidInputError(f"must be a Totals, got {plan.totals!r}", entity="plan", field="totals")
    _check_fields("totals", plan.totals, (), ("unplaced", "hvb", "consultant", "split_siblings", "cost_per_day", "km"))


def _check_entries(
    name: str, entries: object, cls: type, texts: tuple[str, ...], numbers: tuple[str, ...]
) -> None:
    if not isinstance(entries, (tuple, list)):
        raise InvalidInputError(f"{name} must be a list, got {entries!r}", entity="plan", field=name)
    for i, entry in enumerate(entries):
        if not isinstance(entry, cls):
            raise InvalidInputError(f"must be an {cls.__name__}, got {entry!r}", entity=f"{name}[{i}]")
        _check_fields(f"{name}[{i}]", entry, texts, numbers)


def _check_fields(entity: str, entry: object, texts: tuple[str, ...], numbers: tuple[str, ...]) -> None:
    for field in texts:
        value = getattr(entry, field)
        if not isinstance(value, str):
            raise InvalidInputError(f"{field} must be a string, got {value!r}", entity=entity, field=field)
    for field in numbers:
        value = getattr(entry, field)
        if not is_number(value):
            raise InvalidInputError(f"{field} must be a number, got {value!r}", entity=entity, field=field)


def _known(scenario: Scenario, plan: Plan) -> Iterator[Assignment]:
    """The assignments of known children to known homes, the only ones the rules can judge."""
    return (a for a in plan.assignments if scenario.has_child(a.child) and scenario.has_home(a.home))


def _placed(scenario: Scenario, plan: Plan) -> dict[str, str]:
    """Child id to home id; a child assigned twice counts in its last home (the first is reported)."""
    return {a.child: a.home for a in _known(scenario, plan)}


def _status(plan: Plan) -> list[Violation]:
    if plan.status in STATUSES:
        return []
    return [Violation(rule="status", message=f"status {plan.status!r} is not one of {', '.join(STATUSES)}")]


def _every_child_once(scenario: Scenario, plan: Plan) -> list[Violation]:
    """Every child exactly once, in assignments or unplaced, and no one else (design.md section 4)."""
    out = []
    seen = Counter([a.child for a in plan.assignments] + [u.child for u in plan.unplaced])
    for child_id, n in seen.items():
        if not scenario.has_child(child_id):
            out.append(Violation(rule="children", message=f"{child_id!r} is not a child of the scenario"))
        elif n > 1:
            out.append(Violation(rule="children", message=f"child {child_id!r} appears {n} times"))
    out.extend(
        Violation(rule="children", message=f"child {c.id!r} is neither assigned nor unplaced")
        for c in scenario.children
        if c.id not in seen
    )
    return out


def _assignments(scenario: Scenario, plan: Plan) -> list[Violation]:
    """Each assignment in plan order: its home exists, its record is true, and rules 1-6 and 9 hold."""
    out: list[Violation] = []
    for a in plan.assignments:
        if not scenario.has_child(a.child):
            continue  # reported by _every_child_once
        if not scenario.has_home(a.home):
            out.append(Violation(rule="homes", message=f"child {a.child!r} is assigned to unknown home {a.home!r}"))
            continue
        child, home = scenario.child(a.child), scenario.home(a.home)
        distance = scenario.region.km(child.municipality, home.municipality)
        out.extend(_record(scenario.policy, a, child, home, distance))
        if scenario.policy.keep_current and child.current_home is not None:
            # Rule 9: a kept child is not re-matched, so rules 1-6 do not apply to it.
            out.extend(_kept_child_stays(child, home))
        else:
            out.extend(v for rule in _PAIR_RULES if (v := rule(scenario.policy, child, home, distance)) is not None)
    return out


def _record(policy: Policy, a: Assignment, child: Child, home: Home, distance: float) -> list[Violation]:
    """The assignment's kind, km and cost are the home's, as a reader of the plan file trusts."""
    cost = _cost(policy, home)
    wrong = [
        f"kind {a.kind!r}, but the home is {home.kind!r}" if a.kind != home.kind else None,
        f"km {a.km}, but the road distance is {distance}" if not _same(a.km, distance) else None,
        f"cost_per_day {a.cost_per_day}, but the home costs {cost}" if not _same(a.cost_per_day, cost) else None,
    ]
    return [Violation(rule="record", message=f"{child.id} in {home.id}: {w}") for w in wrong if w is not None]


def _kept_child_stays(child: Child, home: Home) -> list[Violation]:
    """Rule 9: a child with a current home stays there."""
    if home.id == child.current_home:
        return []
    return [Violation(
        rule="stability", message=f"{child.id} must stay in its current home {child.current_home}, not {home.id}"
    )]


# --- rules 1-6, one child in one home -------------------------------------------------------


def _needs(policy: Policy, child: Child, home: Home, distance: float) -> Violation | None:
    """Rule 1: the home's competences cover the child's needs."""
    missing = sorted(set(child.needs) - set(home.competences))
    if not missing:
        return None
    return Violation(
        rule="needs", message=f"{child.id} in {home.id}: needs {missing} are not among the home's competences"
    )


def _age(policy: Policy, child: Child, home: Home, distance: float) -> Violation | None:
    """Rule 2: the child's age is within the home's range."""
    if home.min_age <= child.age <= home.max_age:
        return None
    return Violation(
        rule="age", message=f"{child.id} in {home.id}: age {child.age} is outside {home.min_age}-{home.max_age}"
    )


def _care_level(policy: Policy, child: Child, home: Home, distance: float) -> Violation | None:
    """Rule 3: the home takes the child's care level."""
    if child.care_level <= home.max_care_level:
        return None
    return Violation(
        rule="care_level", message=f"{child.id} in {home.id}: care level {child.care_level} > {home.max_care_level}"
    )


def _kin(policy: Policy, child: Child, home: Home, distance: float) -> Violation | None:
    """Rule 4: a kin home takes only the children it is reserved for."""
    if home.kind != "kin" or child.id in home.reserved_for:
        return None
    return Violation(rule="kin", message=f"{child.id} in kin home {home.id}, which is reserved for others")


def _distance(policy: Policy, child: Child, home: Home, distance: float) -> Violation | None:
    """Rule 5: the child's own limit for municipal and consultant homes, else the policy's for the kind."""
    if child.max_km is not None and home.kind in ("municipal", "consultant"):
        limit = child.max_km
    else:
        limit = policy.max_km[home.kind]
    if limit is None or distance <= limit:
        return None
    return Violation(rule="distance", message=f"{child.id} in {home.id}: {distance} km > limit {limit} km")


def _pooling(policy: Policy, child: Child, home: Home, distance: float) -> Violation | None:
    """Rule 6: under isolated pooling a municipal home takes only its owner's children."""
    if policy.pooling != "isolated" or home.kind != "municipal" or home.owner == child.municipality:
        return None
    return Violation(rule="pooling", message=f"{child.id} of {child.municipality} in {home.id}, owned by {home.owner}")


#: Rules 1-6 in the order of design.md section 2, and of the report.
_PAIR_RULES: tuple[Callable[[Policy, Child, Home, float], Violation | None], ...] = (
    _needs, _age, _care_level, _kin, _distance, _pooling,
)


# --- rules across all children ---------------------------------------------------------------


def _kept_children_not_unplaced(scenario: Scenario, plan: Plan, placed: dict[str, str]) -> list[Violation]:
    """Rule 9: a kept child may not be left unplaced (a child missing altogether is reported once, above)."""
    if not scenario.policy.keep_current:
        return []
    listed = {a.child for a in plan.assignments} | {u.child for u in plan.unplaced}
    return [
        Violation(rule="stability", message=f"{c.id} must stay in its current home {c.current_home}, but is unplaced")
        for c in scenario.children
        if c.current_home is not None and c.id not in placed and c.id in listed
    ]


def _capacity(scenario: Scenario, plan: Plan) -> list[Violation]:
    """Rule 7: capacity counts every assignment to the home, the kept children's too."""
    load = Counter(a.home for a in _known(scenario, plan))
    return [
        Violation(rule="capacity", message=f"home {home_id} holds {n} children, capacity {cap}")
        for home_id, n in load.items()
        if n > (cap := scenario.home(home_id).capacity)
    ]


def _sibling_groups(scenario: Scenario) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for c in scenario.children:
        if c.sibling_group is not None:
            groups[c.sibling_group].append(c.id)
    return groups


def _siblings(scenario: Scenario, placed: dict[str, str]) -> list[Violation]:
    """Rule 8: siblings together, except groups kept where they already live (rule 9)."""
    policy = scenario.policy
    if policy.siblings != "together":
        return []
    out = []
    for group, members in _sibling_groups(scenario).items():
        kept = policy.keep_current and all(scenario.child(m).current_home is not None for m in members)
        if len({placed.get(m) for m in members}) > 1 and not kept:
            where = ", ".join(f"{m}->{placed.get(m) or 'unplaced'}" for m in members)
            out.append(Violation(rule="siblings", message=f"group {group} is split: {where}"))
    return out


def _split_siblings(scenario: Scenario, placed: dict[str, str]) -> int:
    """The objective term: extra homes each group's placed children are spread over."""
    spread = ({placed[m] for m in members if m in placed} for members in _sibling_groups(scenario).values())
    return sum(len(homes) - 1 for homes in spread if homes)


def _totals(scenario: Scenario, plan: Plan, placed: dict[str, str]) -> list[Violation]:
    """The plan's totals, recomputed from scratch from its placements."""
    homes = [scenario.home(h) for h in placed.values()]
    kinds = Counter(h.kind for h in homes)
    expect = {
        "unplaced": len(scenario.children) - len(placed),
        "hvb": kinds["hvb"],
        "consultant": kinds["consultant"],
        "split_siblings": _split_siblings(scenario, placed),
        "cost_per_day": sum(_cost(scenario.policy, h) for h in homes),
        "km": sum(scenario.region.km(scenario.child(c).municipality, scenario.home(h).municipality)
                  for c, h in placed.items()),
    }
    out = []
    for key, value in expect.items():
        got = getattr(plan.totals, key)
        if not _same(got, value):
            out.append(Violation(rule="totals", message=f"totals.{key} is {got}, but the plan gives {value}"))
    return out
