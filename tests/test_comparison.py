"""Yearly cost, the ``unplaced`` price, plan comparison and sweeps (design.md section 7)."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import attrs
import pytest

import placering
from placering.sweep import run, solve_variants


@pytest.fixture(scope="module")
def dalarna() -> placering.Scenario:
    return placering.generate("dalarna", children=150, seed=4)


def test_unplaced_price_defaults_to_8000_and_is_validated() -> None:
    assert placering.Policy().costs_per_day.unplaced == 8000
    assert placering.Policy(costs_per_day={"unplaced": 9000.5}).costs_per_day.unplaced == 9000.5
    for bad in (-1, "much", None, True):
        with pytest.raises(placering.InvalidInputError, match=r"costs_per_day\.unplaced"):
            placering.Policy(costs_per_day={"unplaced": bad})


def test_unplaced_price_is_written_only_when_set(dalarna: placering.Scenario, make_data: Any) -> None:
    """A scenario that never set it is written exactly as before (its digest pins benchmarks)."""
    assert "unplaced" not in placering.scenario_to_dict(dalarna)["policy"]["costs_per_day"]
    child = {"id": "c", "municipality": "A", "age": 3}
    data = make_data(children=[child], policy={"costs_per_day": {"unplaced": 9000}})
    scenario = placering.scenario_from_dict(data)
    written = placering.scenario_to_dict(scenario)
    assert written["policy"]["costs_per_day"]["unplaced"] == 9000
    assert placering.scenario_from_dict(json.loads(json.dumps(written))) == scenario


def test_yearly_cost_counts_unplaced_children_at_their_price(make_scenario: Any) -> None:
    scenario = make_scenario(
        homes=[{"id": "H", "kind": "municipal", "municipality": "A", "capacity": 1}],
        children=[{"id": "c1", "municipality": "A", "age": 3}, {"id": "c2", "municipality": "B", "age": 4}],
        policy={"costs_per_day": {"unplaced": 9000}},
    )
    plan = placering.solve(scenario)
    assert plan.totals.unplaced == 1
    assert placering.yearly_cost(scenario, plan) == 365 * (800 + 9000)
    by_town = placering.municipality_yearly_costs(scenario, plan)
    assert sum(by_town.values()) == placering.yearly_cost(scenario, plan)


def test_comparison_of_a_variant_without_a_home(dalarna: placering.Scenario) -> None:
    """Removing the most used own home: the totals, yearly cost and per municipality changes add
    up, and exactly the children whose home differs are listed."""
    base_plan = placering.solve(dalarna, explain=False)
    used = [a.home for a in base_plan.assignments if a.kind == "municipal" and not a.kept]
    gone = max(sorted(set(used)), key=used.count)
    variant = attrs.evolve(
        dalarna,
        homes=[h for h in dalarna.homes if h.id != gone],
        children=[attrs.evolve(c, current_home=None) if c.current_home == gone else c for c in dalarna.children],
    )
    variant_plan = placering.solve(variant, explain=False)
    comparison = placering.compare_plans(dalarna, base_plan, variant, variant_plan)

    assert comparison.yearly_cost.change == pytest.approx(
        placering.yearly_cost(variant, variant_plan) - placering.yearly_cost(dalarna, base_plan)
    )
    assert comparison.yearly_cost.change >= 0  # a home less never makes the optimum cheaper here
    assert sum(row.yearly_cost.change for row in comparison.by_municipality) == pytest.approx(
        comparison.yearly_cost.change
    )
    for key, change in comparison.totals.items():
        assert change.change == pytest.approx(getattr(variant_plan.totals, key) - getattr(base_plan.totals, key))
    before, after = base_plan.home_of(), variant_plan.home_of()
    assert {p.child for p in comparison.placements} == {
        c.id for c in dalarna.children if before.get(c.id) != after.get(c.id)
    }
    assert any(p.before == gone for p in comparison.placements)
    data = json.loads(json.dumps(comparison.to_dict()))
    assert data["yearly_cost"]["change"] == pytest.approx(comparison.yearly_cost.change)


def test_a_plan_against_itself_changes_nothing(dalarna: placering.Scenario) -> None:
    plan = placering.solve(dalarna, explain=False)
    comparison = placering.compare_plans(dalarna, plan, dalarna, plan)
    assert comparison.placements == ()
    assert comparison.yearly_cost.change == 0
    assert all(row.yearly_cost.change == 0 for row in comparison.by_municipality)


def _square(chunk: Any) -> list[int]:
    return [x * x for x in chunk]


def test_run_keeps_the_order_of_tasks_whatever_the_executor() -> None:
    tasks = list(range(700))
    with ProcessPoolExecutor(max_workers=2) as pool:
        assert run(_square, tasks, executor=pool) == run(_square, tasks) == [x * x for x in tasks]


def test_variants_are_the_same_in_process_and_in_processes(dalarna: placering.Scenario) -> None:
    codes = placering.cooperation.default_members(dalarna)
    variants = [placering.restrict(dalarna, codes[:k]) for k in (3, 8, len(codes))]
    here = solve_variants(variants)
    with ProcessPoolExecutor(max_workers=2) as pool:
        there = solve_variants(variants, executor=pool)
    assert here == there
    assert all(o.status == "optimal" and not o.bounds for o in here)


def test_a_time_limited_variant_is_reported_feasible_with_its_bounds() -> None:
    """A solve stopped by its time limit is never folded in as optimal."""
    scenario = placering.generate(family="siblings-heavy", seed=2)
    (outcome,) = solve_variants([scenario], placering.SolveParams(time_limit=0.0))
    assert outcome.status == "feasible"
    assert outcome.bounds
    assert outcome.to_dict()["bounds"] == dict(outcome.bounds)
