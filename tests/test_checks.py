"""check_plan: every kind of broken plan is caught, and a valid plan passes (design.md sections 2 and 4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import pytest

import placering
from brute import totals as brute_totals
from placering import Assignment, Plan, Scenario, Totals, Unplacement

HOMES = [
    {"id": "M1", "kind": "municipal", "municipality": "A", "capacity": 1, "competences": ["npf"], "max_care_level": 2},
    {"id": "M2", "kind": "municipal", "municipality": "B", "capacity": 2},
    {"id": "S1", "kind": "consultant", "municipality": "C", "capacity": 1, "competences": ["npf", "trauma"]},
    {"id": "V1", "kind": "hvb", "municipality": "C", "capacity": 3, "competences": ["npf", "substance", "trauma"]},
    {"id": "K1", "kind": "kin", "municipality": "A", "capacity": 2, "reserved_for": ["C4"]},
    {"id": "X", "kind": "municipal", "municipality": "A", "capacity": 3},
    {"id": "Y", "kind": "municipal", "municipality": "A", "capacity": 3, "competences": ["npf"], "max_age": 5,
     "max_care_level": 4},
    {"id": "Z", "kind": "municipal", "municipality": "C", "capacity": 2},
]
CHILDREN = [
    {"id": "C1", "municipality": "A", "age": 8, "needs": ["npf"]},
    {"id": "C2", "municipality": "B", "age": 12, "sibling_group": "S"},
    {"id": "C3", "municipality": "B", "age": 14, "sibling_group": "S"},
    {"id": "C4", "municipality": "A", "age": 6},
    {"id": "C5", "municipality": "C", "age": 16, "needs": ["trauma"], "care_level": 3, "current_home": "S1"},
    {"id": "C6", "municipality": "A", "age": 10, "care_level": 3},
    {"id": "C7", "municipality": "A", "age": 5, "max_km": 30},
]
VALID = {"C1": "M1", "C2": "M2", "C3": "M2", "C4": "K1", "C5": "S1", "C6": "V1", "C7": "X"}


def plan_of(scenario: Scenario, home_of: dict[str, str], *, unplaced: list[str] | None = None) -> Plan:
    """A plan that puts each child in ``home_of`` (others unplaced), with correct records and totals."""
    known = {c: h for c, h in home_of.items() if scenario.has_home(h)}
    # Records of known homes as the library writes them; a made-up record for unknown homes.
    assignments = list(Plan.from_home_of(scenario, known).assignments) + [
        Assignment(child=c, home=h, kind="municipal", km=0.0, cost_per_day=800)
        for c, h in home_of.items()
        if not scenario.has_home(h)
    ]
    if unplaced is None:
        unplaced = [c.id for c in scenario.children if c.id not in home_of]
    # Totals from the independent brute-force reference, not from the library.
    t = brute_totals(scenario, known)
    totals = Totals(
        unplaced=int(t["unplaced"]), hvb=int(t["hvb"]), consultant=int(t["consultant"]),
        split_siblings=int(t["split_siblings"]), cost_per_day=t["cost"], km=t["km"],
    )
    return Plan(
        status="optimal",
        assignments=tuple(assignments),
        unplaced=tuple(Unplacement(child=c) for c in unplaced),
        totals=totals,
    )


@pytest.fixture
def scenario(make_scenario: Callable[..., Scenario]) -> Scenario:
    """Eight homes of every kind and seven children, one of them kept in its current consultant home."""
    return make_scenario(homes=HOMES, children=CHILDREN)


def _rules(scenario: Scenario, plan: Plan) -> set[str]:
    return {v.rule for v in placering.check_plan(scenario, plan)}


def test_valid_plan_has_no_violations(scenario: Scenario) -> None:
    """A plan that keeps every rule gets an empty list."""
    assert [] == placering.check_plan(scenario, plan_of(scenario, VALID))


def test_solved_plan_has_no_violations(scenario: Scenario) -> None:
    """The solver's plan for the hand-made scenario gets an empty list."""
    assert [] == placering.check_plan(scenario, placering.solve(scenario))


def test_leaving_children_unplaced_is_valid(scenario: Scenario) -> None:
    """Unplaced children break no rule (except a kept child, who must stay)."""
    assert [] == placering.check_plan(scenario, plan_of(scenario, {"C5": "S1"}))


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        pytest.param({"C1": "X"}, "needs", id="needs"),
        pytest.param({"C1": "Y"}, "age", id="age"),
        pytest.param({"C6": "X"}, "care_level", id="care-level"),
        pytest.param({"C7": "K1"}, "kin", id="kin-reserved-for-another"),
        pytest.param({"C7": "Z"}, "distance", id="distance-child-limit"),
        pytest.param({"C4": "M2"}, "capacity", id="over-capacity"),
        pytest.param({"C3": "X"}, "siblings", id="split-siblings-together"),
        pytest.param({"C5": "V1"}, "stability", id="kept-child-moved"),
        pytest.param({"C7": "H9"}, "homes", id="unknown-home"),
    ],
)
def test_broken_plan_is_caught(scenario: Scenario, change: dict[str, str], rule: str) -> None:
    """A plan that breaks one rule gets exactly that rule's violation."""
    assert {rule} == _rules(scenario, plan_of(scenario, VALID | change, unplaced=[]))


def test_distance_over_policy_limit_is_caught(make_scenario: Callable[..., Scenario]) -> None:
    """A child placed farther than the policy's limit for the kind breaks the distance rule."""
    scenario = make_scenario(
        homes=[{"id": "Z", "kind": "consultant", "municipality": "C", "capacity": 1}],
        children=[{"id": "K", "municipality": "A", "age": 9}],
        policy={"max_km": {"consultant": 60}},
    )
    assert {"distance"} == _rules(scenario, plan_of(scenario, {"K": "Z"}))


def test_isolated_pooling_is_caught(make_scenario: Callable[..., Scenario]) -> None:
    """Under isolated pooling a child in another municipality's own home breaks the pooling rule."""
    scenario = make_scenario(
        homes=[HOMES[1]],
        children=[{"id": "K", "municipality": "A", "age": 9}],
        policy={"pooling": "isolated"},
    )
    assert {"pooling"} == _rules(scenario, plan_of(scenario, {"K": "M2"}))


def test_split_siblings_are_allowed_under_prefer(make_scenario: Callable[..., Scenario]) -> None:
    """Under siblings "prefer" a split group is no violation, and counts in split_siblings."""
    scenario = make_scenario(homes=HOMES, children=CHILDREN, policy={"siblings": "prefer"})
    plan = plan_of(scenario, VALID | {"C3": "X"})
    assert 1 == plan.totals.split_siblings
    assert [] == placering.check_plan(scenario, plan)


def test_kept_child_left_unplaced_is_caught(scenario: Scenario) -> None:
    """A child kept in its current home may not be left unplaced."""
    home_of = {c: h for c, h in VALID.items() if c != "C5"}
    assert {"stability"} == _rules(scenario, plan_of(scenario, home_of))


def test_missing_child_is_caught(scenario: Scenario) -> None:
    """A child neither assigned nor unplaced is a violation."""
    home_of = {c: h for c, h in VALID.items() if c != "C4"}
    assert {"children"} == _rules(scenario, plan_of(scenario, home_of, unplaced=[]))


def test_child_listed_twice_is_caught(scenario: Scenario) -> None:
    """A child both assigned and unplaced is a violation."""
    assert "children" in _rules(scenario, plan_of(scenario, VALID, unplaced=["C4"]))


def test_child_assigned_twice_is_caught(scenario: Scenario) -> None:
    """A child with two assignments is a violation."""
    plan = plan_of(scenario, VALID)
    twice = attrs.evolve(plan, assignments=(*plan.assignments, plan.assignments[0]))
    assert "children" in _rules(scenario, twice)


def test_unknown_child_is_caught(scenario: Scenario) -> None:
    """An assignment of a child the scenario does not have is a violation."""
    plan = plan_of(scenario, VALID)
    ghost = Assignment(child="C99", home="X", kind="municipal", km=0.0, cost_per_day=800)
    assert "children" in _rules(scenario, attrs.evolve(plan, assignments=(*plan.assignments, ghost)))


@pytest.mark.parametrize(
    "field", ["unplaced", "hvb", "consultant", "split_siblings", "cost_per_day", "km"],
)
def test_wrong_totals_are_caught(scenario: Scenario, field: str) -> None:
    """Totals that do not match the assignments are a violation, term by term."""
    plan = plan_of(scenario, VALID)
    wrong = attrs.evolve(plan, totals=attrs.evolve(plan.totals, **{field: getattr(plan.totals, field) + 1}))
    assert {"totals"} == _rules(scenario, wrong)


@pytest.mark.parametrize(
    "change", [{"kind": "hvb"}, {"km": 99.0}, {"cost_per_day": 1.0}], ids=["kind", "km", "cost"],
)
def test_wrong_assignment_record_is_caught(scenario: Scenario, change: dict[str, Any]) -> None:
    """An assignment whose kind, km or cost does not match its home is a violation."""
    plan = plan_of(scenario, VALID)
    first = attrs.evolve(plan.assignments[0], **change)
    assert "record" in _rules(scenario, attrs.evolve(plan, assignments=(first, *plan.assignments[1:])))


def test_unknown_status_is_caught(scenario: Scenario) -> None:
    """A status outside optimal, feasible and infeasible is a violation."""
    assert "status" in _rules(scenario, attrs.evolve(plan_of(scenario, VALID), status="done"))


def test_violation_reads_as_rule_and_message() -> None:
    """A violation prints as 'rule: message'."""
    assert "capacity: home H holds 3" == str(placering.Violation(rule="capacity", message="home H holds 3"))


def test_kept_children_are_exempt_from_rules_1_to_6_and_from_keeping_siblings_together(
    make_scenario: Callable[..., Scenario],
) -> None:
    """Rule 9: a child kept in its current home need not satisfy rules 1-6 there, and a sibling
    group kept in two current homes is not split; without keep_current both are violations."""
    homes = [
        {"id": "P", "kind": "municipal", "municipality": "C", "capacity": 1, "max_age": 5},
        {"id": "Q", "kind": "municipal", "municipality": "A", "capacity": 1},
    ]
    children = [
        {"id": "K1", "municipality": "A", "age": 12, "needs": ["npf"], "sibling_group": "G", "current_home": "P"},
        {"id": "K2", "municipality": "A", "age": 9, "sibling_group": "G", "current_home": "Q"},
    ]
    kept = make_scenario(homes=homes, children=children, policy={"max_km": {"municipal": 30}})
    assert [] == placering.check_plan(kept, plan_of(kept, {"K1": "P", "K2": "Q"}))
    moved = make_scenario(homes=homes, children=children, policy={"max_km": {"municipal": 30}, "keep_current": False})
    assert {"needs", "age", "distance", "siblings"} == _rules(moved, plan_of(moved, {"K1": "P", "K2": "Q"}))
