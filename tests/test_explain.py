"""Explanations: why a child ends in an HVB or consultant home, or unplaced (design.md section 4)."""

from __future__ import annotations

import re
from collections.abc import Callable

import attrs
import pytest

import placering
from placering import Scenario
from placering.explain import explain_child, explain_plan

HVB_FAR = {"id": "V", "kind": "hvb", "municipality": "C", "capacity": 1}


def _claims_within(text: str) -> list[tuple[float, list[str]]]:
    """Each "within N km of <place> (H1, H2 and H3)" claim in a text: the limit and the homes it names."""
    claims = []
    for limit, names in re.findall(r"within (\d+(?:\.\d+)?) km of [^(]*\(([^)]*)\)", text):
        claims.append((float(limit), [n.strip() for n in re.split(r",| and ", names) if n.strip()]))
    return claims


def test_needs_no_cheaper_home_covers_are_explained(make_scenario: Callable[..., Scenario]) -> None:
    """A child in HVB because no cheaper home within the limit covers its needs is told the need, place and limit."""
    scenario = make_scenario(
        homes=[
            {"id": "M", "kind": "municipal", "municipality": "A", "capacity": 1, "competences": ["npf"]},
            {"id": "S", "kind": "consultant", "municipality": "B", "capacity": 1, "competences": ["trauma"]},
            HVB_FAR | {"competences": ["substance"]},
        ],
        children=[{"id": "K", "municipality": "A", "age": 15, "needs": ["substance"]}],
        policy={"max_km": {"municipal": 60, "consultant": 60}},
    )
    plan = placering.solve(scenario)
    assert "V" == plan.home_of()["K"]
    explanation = plan.explanations["K"]
    assert "needs" == explanation.rule
    assert "substance" in explanation.text
    assert "Alby" in explanation.text
    assert "60 km" in explanation.text


def test_distance_is_explained_with_the_limit(make_scenario: Callable[..., Scenario]) -> None:
    """A child in HVB because the only municipal home lies beyond the limit is told the place and the limit."""
    scenario = make_scenario(
        homes=[{"id": "M", "kind": "municipal", "municipality": "C", "capacity": 1}, HVB_FAR],
        children=[{"id": "K", "municipality": "A", "age": 15}],
        policy={"max_km": {"municipal": 40}},
    )
    explanation = placering.solve(scenario).explanations["K"]
    assert "distance" == explanation.rule
    assert "40 km" in explanation.text
    assert "Alby" in explanation.text


def test_full_home_names_the_child_in_it(make_scenario: Callable[..., Scenario]) -> None:
    """A child in HVB because the only suitable own home is taken by another child names that child."""
    scenario = make_scenario(
        homes=[{"id": "M", "kind": "municipal", "municipality": "A", "capacity": 1}, HVB_FAR | {"min_age": 12}],
        children=[{"id": "Olle", "municipality": "A", "age": 15}, {"id": "Lisa", "municipality": "A", "age": 5}],
    )
    plan = placering.solve(scenario)
    assert {"Olle": "V", "Lisa": "M"} == plan.home_of()
    explanation = plan.explanations["Olle"]
    assert "full" == explanation.rule
    assert "Lisa" in explanation.text
    assert "M" in explanation.text


def test_unplaced_child_has_a_reason(make_scenario: Callable[..., Scenario]) -> None:
    """A child no home can take is unplaced with a reason and an explanation in domain terms."""
    scenario = make_scenario(
        homes=[{"id": "M", "kind": "municipal", "municipality": "A", "capacity": 1}],
        children=[{"id": "K", "municipality": "A", "age": 15, "care_level": 4}],
    )
    plan = placering.solve(scenario)
    assert ["K"] == [u.child for u in plan.unplaced]
    assert 1 <= len(plan.unplaced[0].reasons)
    assert "care level 4" in plan.explanations["K"].text


def test_kept_child_is_explained_by_stability(make_scenario: Callable[..., Scenario]) -> None:
    """A child kept in its current HVB home is told that the policy keeps current placements."""
    scenario = make_scenario(
        homes=[{"id": "M", "kind": "municipal", "municipality": "A", "capacity": 1}, HVB_FAR],
        children=[{"id": "K", "municipality": "A", "age": 15, "current_home": "V"}],
    )
    explanation = placering.solve(scenario).explanations["K"]
    assert "stability" == explanation.rule
    assert "V" in explanation.text


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_expensive_or_unplaced_child_of_a_generated_scenario_is_explained(seed: int) -> None:
    """In a solved generated scenario every HVB, consultant and unplaced child has an explanation, unplaced ones
    a reason."""
    scenario = placering.generate(children=60, seed=seed)
    plan = placering.solve(scenario, seed=0, workers=1)
    expensive = {a.child for a in plan.assignments if a.kind in ("hvb", "consultant")}
    unplaced = {u.child for u in plan.unplaced}
    assert expensive | unplaced <= set(plan.explanations)
    for child in expensive | unplaced:
        assert "" != plan.explanations[child].text.strip()
        assert "\n" not in plan.explanations[child].text
    for u in plan.unplaced:
        assert 1 <= len(u.reasons)
        assert all(r.strip() for r in u.reasons)


def _moved(scenario: Scenario, plan: placering.Plan, child_id: str, home_id: str) -> placering.Plan:
    """``plan`` with ``child_id`` moved to ``home_id``, with its sibling group when the policy keeps groups together."""
    child = scenario.child(child_id)
    moving = [child]
    if child.sibling_group is not None and scenario.policy.siblings == "together":
        moving = [c for c in scenario.sibling_groups[child.sibling_group] if not scenario.is_kept(c)]
    return placering.Plan.from_home_of(scenario, plan.home_of() | {c.id: home_id for c in moving}, status="feasible")


@pytest.mark.parametrize(
    ("seed", "objective"), [(0, None), (1, None), (0, ["unplaced", "km", "cost"]), (1, ["unplaced", "km", "cost"])]
)
def test_explanations_of_an_optimal_plan_are_true_of_the_move_they_name(seed: int, objective: list[str] | None) -> None:
    """In a proven-optimal plan, the home an 'objective' or 'tie' explanation names has room and rules 1-6
    allow the move there, and the move gives worse totals (in the term named) or equal totals, as the text says."""
    scenario = placering.generate(children=150, seed=seed)
    if objective is not None:  # km before cost: children stay in dearer homes that lie nearer
        scenario = attrs.evolve(scenario, policy=placering.Policy(objective=objective, keep_current=False))
    plan = placering.solve(scenario, seed=0, workers=1)
    assert "optimal" == plan.status
    terms = scenario.policy.effective_objective()
    for child_id, explanation in plan.explanations.items():
        found = re.match(r"the suitable \w+ home (\S+) has room", explanation.text)
        assert (found is not None) == (explanation.rule in ("objective", "tie")), explanation.text
        if found is None:
            continue
        moved = _moved(scenario, plan, child_id, found.group(1))
        assert [] == placering.check_plan(scenario, moved), explanation.text
        old, new = plan.totals.vector(terms), moved.totals.vector(terms)
        if explanation.rule == "tie":
            assert old == new, explanation.text
        else:
            term = next(t for t, a, b in zip(terms, old, new, strict=True) if a != b)
            assert f"would raise {term}," in explanation.text
            assert new > old, explanation.text


def test_an_optimal_tie_is_called_a_tie(make_scenario: Callable[..., Scenario]) -> None:
    """When a cheaper-kind home with room is only equally good under the objective, the explanation says the plan
    is one of several optimal ones."""
    scenario = make_scenario(
        homes=[
            {"id": "S", "kind": "consultant", "municipality": "A", "capacity": 1, "cost_per_day": 800},
            {"id": "M", "kind": "municipal", "municipality": "A", "capacity": 1},
        ],
        children=[{"id": "K", "municipality": "A", "age": 15}],
        policy={"objective": ["unplaced", "cost", "km"]},
    )
    # Both plans cost 800 kr and 0 km: K in S is optimal, exactly as K in M is.
    explanation = explain_child(scenario, {"K": "S"}, scenario.child("K"))
    assert "tie" == explanation.rule
    assert explanation.text == (
        "the suitable municipal home M has room and would serve equally well under the policy's objective; "
        "this plan is one of several optimal ones"
    )


def test_explanation_never_claims_a_home_lies_within_a_limit_it_exceeds(make_scenario: Callable[..., Scenario]) -> None:
    """Every home an explanation lists as 'within N km of <place>' really lies within N km of the child."""
    scenario = make_scenario(
        homes=[{"id": "M", "kind": "municipal", "municipality": "A", "capacity": 1}, HVB_FAR],
        children=[
            {"id": "K1", "municipality": "A", "age": 15},
            {"id": "K2", "municipality": "A", "age": 5},
            {"id": "K3", "municipality": "A", "age": 7},
        ],
        policy={"max_km": {"municipal": 30}},
    )
    plan = placering.solve(scenario)
    assert 1 == plan.totals.unplaced
    for child_id, explanation in plan.explanations.items():
        child = scenario.child(child_id)
        for limit, names in _claims_within(explanation.text):
            for home_id in names:
                assert scenario.km_between(child, scenario.home(home_id)) <= limit, explanation.text


def test_full_homes_name_their_first_occupants_in_sorted_order(make_scenario: Callable[..., Scenario]) -> None:
    """When every suitable home is full, the explanation names the first six occupants by sorted id and counts
    the rest."""
    scenario = make_scenario(
        homes=[
            {"id": "M", "kind": "municipal", "municipality": "A", "capacity": 6},
            {"id": "N", "kind": "municipal", "municipality": "B", "capacity": 5},
            HVB_FAR | {"min_age": 12},
        ],
        children=[{"id": f"C{i}", "municipality": "A", "age": 5} for i in range(1, 12)]
        + [{"id": "K", "municipality": "A", "age": 15}],
    )
    home_of = {f"C{i}": "M" if i % 2 else "N" for i in range(1, 12)} | {"K": "V"}
    explanation = explain_child(scenario, home_of, scenario.child("K"))
    assert "full" == explanation.rule
    assert explanation.text == (
        "all 2 suitable kin, municipal or consultant homes within 90 km of Alby (M and N) are full, "
        "taken by C1, C10, C11, C2, C3, C4 and 5 more"
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_explaining_a_whole_plan_says_what_explaining_each_child_alone_says(seed: int) -> None:
    """explain_plan shares its work between children; each explanation equals that of the child explained on its own."""
    scenario = placering.generate(children=60, seed=seed)
    solved = placering.solve(scenario, seed=0, workers=1, explain=False)
    # Only the kept children placed: every other child is unplaced with cheaper homes free.
    kept = {c.id: c.current_home for c in scenario.children if scenario.is_kept(c) and c.current_home is not None}
    for plan in (solved, placering.Plan.from_home_of(scenario, kept, status="feasible")):
        explained = explain_plan(scenario, plan)
        home_of = plan.home_of()
        assert {} != explained.explanations
        for child_id, explanation in explained.explanations.items():
            assert explanation == explain_child(scenario, home_of, scenario.child(child_id))
