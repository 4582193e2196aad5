"""The flow-first pipeline's parts: potentials, reduced-cost fixing and its fallbacks."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
from brute import brute_force, same_vector
from hypothesis import HealthCheck, given, settings
from strategies import scenario_dicts

import placering
from placering import pipeline
from placering.solve import build_matching, stages_of

SETTINGS = {"deadline": None, "derandomize": True, "suppress_health_check": [HealthCheck.too_slow]}


def _random_graph(seed: int, nodes: int, arcs: int, big: bool) -> list[tuple[int, int, int]]:
    """A random graph whose arc costs come from potentials, so it has no negative cycle."""
    rng = random.Random(seed)
    scale = 2**61 if big else 1000
    height = [rng.randint(-scale, scale) for _ in range(nodes)]
    out = []
    for _ in range(arcs):
        x, y = rng.randrange(nodes), rng.randrange(nodes)
        out.append((x, y, height[y] - height[x] + rng.randint(0, 5)))
    return out


@pytest.mark.parametrize("seed", range(20))
def test_vectorised_potentials_agree_with_the_exact_queue_version(seed: int) -> None:
    """Both Bellman-Ford versions give the same shortest distances, and reduced costs are >= 0."""
    arcs = _random_graph(seed, nodes=30, arcs=120, big=False)

    fast = pipeline._potentials(30, arcs)
    exact = pipeline._potentials_exact(30, arcs)

    assert exact == fast
    assert all(c + fast[x] - fast[y] >= 0 for x, y, c in arcs)


def test_potentials_fall_back_to_python_integers_beyond_int64() -> None:
    """Costs too large for int64 still give exact potentials."""
    arcs = _random_graph(7, nodes=12, arcs=40, big=True)

    pi = pipeline._potentials(12, arcs)

    assert all(c + pi[x] - pi[y] >= 0 for x, y, c in arcs)


def test_a_negative_cycle_is_reported() -> None:
    """A residual graph with a negative cycle means a non-optimal flow, which is a solver error."""
    with pytest.raises(placering.SolverError):
        pipeline._potentials(2, [(0, 1, -1), (1, 0, -1)])
    with pytest.raises(placering.SolverError):
        pipeline._potentials_exact(2, [(0, 1, -1), (1, 0, -1)])


@settings(max_examples=60, **SETTINGS)
@given(data=scenario_dicts(siblings_only=True))
def test_a_failing_flow_solver_falls_back_to_cp_sat(data: dict[str, Any]) -> None:
    """When the flow solver cannot take an instance (e.g. its cost range), CP-SAT still proves the optimum."""
    scenario = placering.scenario_from_dict(data)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "min_cost_flow", lambda **kwargs: None)
        plan = placering.solve(scenario)

    assert "optimal" == plan.status
    assert [] == placering.check_plan(scenario, plan)
    assert same_vector(brute_force(scenario).vector, plan.totals.vector(scenario.policy.effective_objective()))


def test_stages_keep_the_lexicographic_order() -> None:
    """Each merged stage's weights exceed the range of every later term in it, and stay below the limit."""
    scenario = placering.generate("dalarna", children=200, seed=4)
    model = build_matching(scenario)

    stages = stages_of(model, scenario.policy.effective_objective())

    assert list(scenario.policy.effective_objective()) == [name for stage in stages for name, _ in stage]
    for stage in stages:
        total = 0
        for name, weight in reversed(stage):
            assert weight > total
            total += weight * model.ranges[name]
        assert total <= 2**40 or len(stage) == 1


def _price_two_homes(costs_inside: list[int], costs_outside: list[int]) -> pipeline.Pricing:
    """One child, home 0 in the restricted program and home 1 outside it, both with a place;
    stage 0 prices a place at 0 and staying unplaced at 10, stage 1 as given."""
    outside = pipeline.Outside(
        unit=np.array([0]),
        home=np.array([1]),
        cost=lambda k, chosen: np.array([[0], costs_outside][k])[chosen],
    )
    return pipeline.price(
        [(np.array([0]), np.array([10])), (np.array(costs_inside), np.array([0]))],
        n_arcs=1,
        arc_unit=[0],
        arc_home=[0],
        unit_size=[1],
        home_free=[1, 1],
        outside=outside,
    )


def test_pricing_does_not_force_a_unit_that_has_an_arc_outside() -> None:
    """Left with one way inside the restricted program, a unit is still not forced there while
    an outside arc ties with it: that arc wins the next stage and must be taken in."""
    found = _price_two_homes([5], [3])
    assert (False, [0], 1) == (found.certified, found.wanted.tolist(), found.stage)


def test_pricing_certifies_when_no_outside_arc_can_do_better() -> None:
    found = _price_two_homes([3], [5])
    assert (True, []) == (found.certified, found.wanted.tolist())
    assert 0 == found.first_bound
