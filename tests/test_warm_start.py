"""Warm starts: a solve of a variant from what the base solve knows finds the variant's exact
optimum, and the start is really used where it is a plan of the variant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest import mock

import attrs
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import placering
from conftest import examples
from placering.matching import columns
from placering.matching.model import all_arcs
from placering.matching.start import WarmStart, start_arcs, start_plan
from placering.recruitment import Profile, with_home
from placering.solve import solve_and_start
from strategies import scenario_dicts

#: Column generation at every size, so that the start's arcs are used too.
PRICED = placering.SolveParams(tuning=placering.Tuning(price_above=0))

PROFILES = (
    Profile(name="plain", kind="municipal", capacity=1, cost_per_day=700),
    Profile(name="sibs", kind="municipal", capacity=3, min_age=0, max_age=12, cost_per_day=900),
    Profile(name="unit", kind="hvb", capacity=2, competences=["substance", "npf"], max_care_level=4),
)


def _variants(scenario: placering.Scenario, pick: int) -> list[placering.Scenario]:
    """One more home of each profile; the scenario itself; a home with one place less (the
    base plan may no longer fit); and one home gone (its arcs are gone too)."""
    municipality = scenario.homes[pick % len(scenario.homes)].municipality
    out = [with_home(scenario, profile, municipality) for profile in PROFILES]
    out.append(scenario)
    home = scenario.homes[pick % len(scenario.homes)]
    if all(c.current_home != home.id for c in scenario.children):
        if home.capacity > 1:
            out.append(attrs.evolve(scenario, homes=[
                attrs.evolve(h, capacity=h.capacity - 1) if h.id == home.id else h for h in scenario.homes
            ]))  # fmt: skip
        if len(scenario.homes) > 1:
            out.append(attrs.evolve(scenario, homes=[h for h in scenario.homes if h.id != home.id]))
    return out


@settings(max_examples=examples(25), suppress_health_check=[HealthCheck.too_slow])
@given(
    data=scenario_dicts(max_children=7, max_homes=5) | scenario_dicts(max_children=7, max_homes=4, siblings_only=True),
    pick=st.integers(0, 10),
    priced=st.booleans(),
)
def test_a_variant_solved_from_the_base_start_has_the_plain_optimum(data: dict[str, Any], pick: int,
                                                                    priced: bool) -> None:
    """From the base's start, every variant's plan is valid and has a plain solve's objective
    vector; where the start is a plan of the variant, its first flowable stage needs no search
    when the start is already optimal there."""
    scenario = placering.scenario_from_dict(data)
    params = PRICED if priced else placering.SolveParams()
    _, start = solve_and_start(scenario, params, explain=False)
    objective = scenario.policy.effective_objective()
    for variant in _variants(scenario, pick):
        plain = placering.solve(variant, params, explain=False)
        warm = placering.solve(variant, params, explain=False, start=start)
        assert placering.check_plan(variant, warm) == []
        assert warm.status == plain.status == "optimal"
        assert warm.totals.vector(objective) == plain.totals.vector(objective)


def test_the_start_of_a_scenario_settles_its_own_stages_at_once() -> None:
    """Solved again from its own start, a scenario's flowable stages all go by the incumbent:
    the start reached the pipeline, and its plan is the optimum."""
    scenario = placering.generate("dalarna", children=80, seed=3)
    base, start = solve_and_start(scenario, PRICED, explain=False)
    again = placering.solve(scenario, PRICED, explain=False, start=start)
    assert again.totals == base.totals
    assert [stage.method for stage in again.solver.by_stage] == ["incumbent"] * len(again.solver.by_stage)


def test_column_generation_begins_at_the_start_arcs_and_plan() -> None:
    scenario = placering.generate("dalarna", children=80, seed=3)
    _, start = solve_and_start(scenario, PRICED, explain=False)
    variant = with_home(scenario, PROFILES[0], scenario.homes[0].municipality)
    began: list[Any] = []
    original: Callable[..., None] = columns._Generation.begin_at

    def record(self: Any, given: WarmStart) -> None:
        original(self, given)
        began.append(self.placed)

    with mock.patch.object(columns._Generation, "begin_at", record):
        plan = placering.solve(variant, PRICED, explain=False, start=start)
    assert placering.check_plan(variant, plan) == []
    assert len(began) == 1 and began[0] is not None  # the base plan is a plan of the variant
    arcs = all_arcs(variant)
    keep = start_arcs(start, variant, arcs)
    assert keep.sum() == len(start.arc_unit)  # every arc of the base is an arc of the variant


def test_a_start_that_is_no_plan_here_is_dropped(make_scenario: Callable[..., placering.Scenario]) -> None:
    scenario = make_scenario(
        homes=[{"id": "H1", "kind": "municipal", "municipality": "A", "capacity": 2},
               {"id": "H2", "kind": "municipal", "municipality": "A", "capacity": 2}],
        children=[{"id": "C1", "municipality": "A", "age": 5, "sibling_group": "G"},
                  {"id": "C2", "municipality": "A", "age": 7, "sibling_group": "G"},
                  {"id": "C3", "municipality": "A", "age": 9}],
    )  # fmt: skip
    arcs = all_arcs(scenario)
    together = start_plan(WarmStart(home_of={"C1": "H1", "C2": "H1", "C3": "H2"}), scenario, arcs)
    assert together is not None and (together >= 0).all()
    assert start_plan(WarmStart(home_of={"C1": "H1"}), scenario, arcs) is None  # the group apart
    assert start_plan(WarmStart(home_of={"C1": "H9", "C2": "H9"}), scenario, arcs) is None  # no such home
    assert start_plan(WarmStart(home_of={"C1": "H1", "C2": "H1", "C3": "H1"}), scenario, arcs) is None  # 3 in 2
    unplaced = start_plan(WarmStart(home_of={"C3": "H2"}), scenario, arcs)
    assert unplaced is not None and np.sort(unplaced).tolist()[0] == -1
