"""The matching package's parts: potentials, reduced-cost fixing, pricing, the MIP and its fallbacks."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import placering
import placering.program
from brute import brute_force, same_vector
from conftest import examples
from placering import _ortools
from placering.matching import duals, flow, lexicographic, mip, pricing, rounding, split
from placering.matching import state as matching_state
from placering.matching.model import build_matching, stage_term, stages_of
from strategies import crowded_families, scenario_dicts, separate_crowds

#: Every part the flows leave split goes to the MIP: no dive, no branch and bound.
SEARCHES_OFF = placering.Tuning(dive=False, part_branch_budget=0, branch_budget=0)

#: The profile (conftest.py) sets the deadline and whether draws are derandomized.
SETTINGS = {"suppress_health_check": [HealthCheck.too_slow]}


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

    fast = duals.potentials(30, arcs)
    exact = duals.potentials_exact(30, arcs)

    assert exact == fast
    assert all(c + fast[x] - fast[y] >= 0 for x, y, c in arcs)


def test_potentials_fall_back_to_python_integers_beyond_int64() -> None:
    """Costs too large for int64 still give exact potentials."""
    arcs = _random_graph(7, nodes=12, arcs=40, big=True)

    pi = duals.potentials(12, arcs)

    assert all(c + pi[x] - pi[y] >= 0 for x, y, c in arcs)


def test_a_negative_cycle_is_reported() -> None:
    """A residual graph with a negative cycle means a non-optimal flow, which is a solver error."""
    with pytest.raises(placering.SolverError):
        duals.potentials(2, [(0, 1, -1), (1, 0, -1)])
    with pytest.raises(placering.SolverError):
        duals.potentials_exact(2, [(0, 1, -1), (1, 0, -1)])


@settings(max_examples=examples(60), **SETTINGS)
@given(data=scenario_dicts(siblings_only=True))
def test_a_failing_flow_solver_falls_back_to_cp_sat(data: dict[str, Any]) -> None:
    """When the flow solver cannot take an instance (e.g. its cost range), CP-SAT still proves the optimum."""
    scenario = placering.scenario_from_dict(data)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_ortools, "min_cost_flow", lambda **kwargs: None)
        plan = placering.solve(scenario)

    assert "optimal" == plan.status
    assert [] == placering.check_plan(scenario, plan)
    assert same_vector(brute_force(scenario).vector, plan.totals.vector(scenario.policy.effective_objective()))


def test_stages_keep_the_lexicographic_order() -> None:
    """Each merged stage's weights exceed the range of every later term in it, and stay below the limit."""
    scenario = placering.generate(family="dalarna", children=200, seed=4)
    model = build_matching(scenario)

    stages = stages_of(model, scenario.policy.effective_objective())

    assert list(scenario.policy.effective_objective()) == [name for stage in stages for name, _ in stage]
    for stage in stages:
        total = 0
        for name, weight in reversed(stage):
            assert weight > total
            total += weight * model.ranges[name]
        assert total <= 2**40 or len(stage) == 1


def _price_two_homes(costs_inside: list[int], costs_outside: list[int]) -> pricing.Pricing:
    """One child, home 0 in the restricted program and home 1 outside it, both with a place;
    stage 0 prices a place at 0 and staying unplaced at 10, stage 1 as given."""
    outside = pricing.Outside(
        unit=np.array([0]),
        home=np.array([1]),
        cost=lambda k, chosen: np.array([[0], costs_outside][k])[chosen],
    )
    return pricing.price(
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


@st.composite
def _assignments(draw: st.DrawFn) -> dict[str, Any]:
    """A small whole-unit assignment with two stages, where some units are already held in
    homes the others may also use."""
    n_homes = draw(st.integers(1, 3))
    n_units = draw(st.integers(1, 5))
    sizes = [draw(st.integers(1, 3)) for _ in range(n_units)]
    arcs = [(u, h) for u in range(n_units) for h in range(n_homes) if draw(st.booleans())]
    return {
        "sizes": sizes,
        "capacity": [draw(st.integers(0, 4)) for _ in range(n_homes)],
        "arcs": arcs,
        "arc_costs": [[draw(st.integers(0, 9)) for _ in arcs] for _ in range(2)],
        "unplaced_costs": [[draw(st.integers(0, 20)) for _ in sizes] for _ in range(2)],
        "held": draw(st.sets(st.integers(0, len(arcs) - 1), max_size=2)) if arcs else set(),
        "hint_seed": draw(st.integers(0, 2**16)),
    }


@settings(max_examples=examples(150), **SETTINGS)
@given(data=_assignments())
def test_the_mip_finds_the_lexicographic_optimum_of_a_part(data: dict[str, Any]) -> None:
    """``_by_mip`` against enumeration: the units held beforehand take places in the part's
    homes, and a first stage with an integrality gap must stay at its optimum in the second.
    Given any plan as a hint (a bound it fixes arcs against), it finds the same optimum."""
    sizes, arcs = data["sizes"], data["arcs"]
    n_arcs, n_units = len(arcs), len(sizes)
    arc_unit, arc_home = [u for u, _ in arcs], [h for _, h in arcs]
    program = placering.program.BinaryProgram(n_vars=n_arcs + n_units, exactly_one=(), capacity=())
    state, arcs_of, into = matching_state.initial_state(program, n_arcs, arc_unit, arc_home, sizes, data["capacity"])
    load = [0] * len(data["capacity"])
    held: dict[int, int] = {}
    for a in sorted(data["held"]):
        u, h = arcs[a]
        if u not in held and load[h] + sizes[u] <= data["capacity"][h]:
            held[u] = a
            load[h] += sizes[u]
            matching_state.hold(state, u, a, arcs_of)
    part = set(range(n_units)) - set(held)
    coeffs = [
        matching_state.Costs(
            arc=np.array(data["arc_costs"][k], dtype=np.int64),
            unplaced=np.array(data["unplaced_costs"][k], dtype=np.int64),
        )
        for k in range(2)
    ]

    def vector(choice: dict[int, int]) -> tuple[int, ...]:
        return tuple(
            sum(sizes[u] * int(c.arc[v] if v < n_arcs else c.unplaced[u]) for u, v in choice.items()) for c in coeffs
        )

    units = sorted(part)
    plans: list[tuple[tuple[int, ...], list[int]]] = []  # every plan of the part and its vector
    for picks in itertools.product(*[[*arcs_of[u], n_arcs + u] for u in units]):
        used = list(load)
        for u, v in zip(units, picks, strict=True):
            if v < n_arcs:
                used[arc_home[v]] += sizes[u]
        if all(x <= cap for x, cap in zip(used, data["capacity"], strict=True)):
            plans.append((vector(dict(zip(units, picks, strict=True))), list(picks)))
    assert plans  # every unit may stay unplaced
    plans.sort()
    best = plans[0][0]

    def as_values(picks: list[int]) -> list[int]:
        values = [0] * (n_arcs + n_units)
        for v in picks:
            values[v] = 1
        return values

    # Hints: the best plan at each of the four lowest first-stage values (the optimum and the
    # plans just above it, which must not pass for it), and any choice at all (it may overfill
    # a home: then it is no plan and bounds nothing).
    rng = random.Random(data["hint_seed"])
    lowest: dict[int, list[int]] = {}
    for value, picks in plans:
        if len(lowest) < 4 or value[0] in lowest:
            lowest.setdefault(value[0], picks)
    anything = [rng.choice([*arcs_of[u], n_arcs + u]) for u in units]
    for given_hint in (None, *(as_values(picks) for picks in lowest.values()), as_values(anything)):
        found = mip.by_mip(state, coeffs, arcs_of, into, part, deadline=None, seed=0, log=False, hint=given_hint)
        assert found is not None
        choice = {u: next(v for v in (*arcs_of[u], n_arcs + u) if found[v]) for u in part}
        assert all(sum(found[v] for v in (*arcs_of[u], n_arcs + u)) == 1 for u in part)
        assert not any(found[v] for u in held for v in (*arcs_of[u], n_arcs + u))
        used = list(load)
        for u, v in choice.items():
            if v < n_arcs:
                used[arc_home[v]] += sizes[u]
        assert all(x <= cap for x, cap in zip(used, data["capacity"], strict=True))
        assert vector(choice) == best


def test_alternatives_are_the_best_ranked_face_arcs_of_split_units_only() -> None:
    """After a certified LP, pricing offers at most ``per_unit`` arcs per split unit, the best
    ranked first, and none for a unit the flow keeps whole."""
    unit = np.array([0, 0, 0, 1, 1, 2])
    rank = np.array([5, 1, 3, 0, 2, 0])
    outside = pricing.Outside(
        unit=unit, home=np.arange(6), cost=lambda k, chosen: np.zeros(len(chosen), dtype=np.int64),
        rank=lambda chosen: rank[chosen],
    )
    on_face = np.array([0, 1, 2, 3, 5])  # arc 4 has a positive reduced cost
    assert [1, 2, 3] == pricing._alternatives([0, 1], on_face, outside, per_unit=2).tolist()
    assert [1, 3] == pricing._alternatives([0, 1], on_face, outside, per_unit=1).tolist()
    assert [] == pricing._alternatives([7], on_face, outside, per_unit=2).tolist()


@st.composite
def _restricted_assignments(draw: st.DrawFn) -> dict[str, Any]:
    """A small whole-unit assignment with two or three stages, its arcs split between a
    restricted program and the outside, and sibling-sized units so that the restricted
    program often has an integrality gap."""
    n_homes = draw(st.integers(1, 4))
    n_units = draw(st.integers(1, 4))
    n_stages = draw(st.integers(2, 3))
    arcs = [(u, h) for u in range(n_units) for h in range(n_homes) if draw(st.booleans())]
    return {
        "sizes": [draw(st.integers(1, 3)) for _ in range(n_units)],
        "capacity": [draw(st.integers(0, 4)) for _ in range(n_homes)],
        "arcs": arcs,
        "inside": [draw(st.booleans()) for _ in arcs],
        "arc_costs": [[draw(st.integers(0, 3)) for _ in arcs] for _ in range(n_stages)],
        "unplaced_costs": [[draw(st.integers(0, 8)) for _ in range(n_units)] for _ in range(n_stages)],
    }


def _lex_best(data: dict[str, Any], usable: list[int]) -> tuple[tuple[int, ...], list[int]]:
    """The lexicographic optimum over the arcs ``usable``, by enumeration: its stage values and
    each unit's arc (-1 for unplaced)."""
    sizes, arcs = data["sizes"], data["arcs"]
    costs = list(zip(data["arc_costs"], data["unplaced_costs"], strict=True))
    ways = [[a for a in usable if arcs[a][0] == u] + [-1] for u in range(len(sizes))]
    best: tuple[tuple[int, ...], list[int]] | None = None
    for picks in itertools.product(*ways):
        load = [0] * len(data["capacity"])
        for u, a in enumerate(picks):
            if a >= 0:
                load[arcs[a][1]] += sizes[u]
        if any(x > cap for x, cap in zip(load, data["capacity"], strict=True)):
            continue
        value = tuple(
            sum(sizes[u] * (arc_cost[a] if a >= 0 else unplaced[u]) for u, a in enumerate(picks))
            for arc_cost, unplaced in costs
        )
        if best is None or value < best[0]:
            best = (value, list(picks))
    assert best is not None  # every unit may stay unplaced
    return best


@settings(max_examples=examples(1500), **SETTINGS)
@given(data=_restricted_assignments())
def test_pricing_a_plan_with_a_gap_certifies_only_the_whole_optimum(data: dict[str, Any]) -> None:
    """Column generation in miniature: solve the restricted program by enumeration, price the
    outside arcs against its optimum, take in what pricing wants, and repeat. Whenever pricing
    certifies the restricted optimum, it is the optimum over every arc, even where the
    restricted program's integer optimum lies above its flow bound and pricing wants only the
    arcs that touch the parts holding that excess."""
    arcs = data["arcs"]
    keep = list(data["inside"])
    for _ in range(len(arcs) + 1):
        inside = [a for a in range(len(arcs)) if keep[a]]
        out = np.array([a for a in range(len(arcs)) if not keep[a]], dtype=np.int64)
        _, choice = _lex_best(data, inside)
        position = {a: i for i, a in enumerate(inside)}
        plan = np.array([position[a] if a >= 0 else -1 for a in choice], dtype=np.int64)
        outside = pricing.Outside(
            unit=np.array([arcs[a][0] for a in out], dtype=np.int64),
            home=np.array([arcs[a][1] for a in out], dtype=np.int64),
            cost=lambda k, chosen, out=out: np.array(data["arc_costs"][k], dtype=np.int64)[out[chosen]],
        )
        found = pricing.price(
            [
                (
                    np.array([data["arc_costs"][k][a] for a in inside], dtype=np.int64),
                    np.array(data["unplaced_costs"][k], dtype=np.int64),
                )
                for k in range(len(data["arc_costs"]))
            ],
            n_arcs=len(inside),
            arc_unit=[arcs[a][0] for a in inside],
            arc_home=[arcs[a][1] for a in inside],
            unit_size=data["sizes"],
            home_free=data["capacity"],
            outside=outside,
            plan=plan,
            per_unit=1,
        )
        if not found.wanted.size:
            assert found.certified
            assert _lex_best(data, inside)[0] == _lex_best(data, list(range(len(arcs))))[0]
            return
        assert not any(keep[a] for a in out[found.wanted])
        for a in out[found.wanted]:
            keep[a] = True
    pytest.fail("Pricing kept wanting arcs after every arc was in.")


def _with_incumbent(scenario: placering.Scenario, **options: Any) -> tuple[Any, Any, Callable[..., Any]]:
    """The scenario's matching, its stages, and its lexicographic minimum given an incumbent."""
    model = build_matching(scenario)
    stages = [stage_term(model, stage) for stage in stages_of(model, scenario.policy.effective_objective())]

    def minimum(incumbent: list[int] | None) -> placering.program.LexResult:
        return lexicographic.lexicographic_minimum(
            model.program, stages, n_arcs=model.n_arcs, arc_unit=model.arc_unit, arc_home=model.arc_home,
            unit_size=[unit.size for unit in model.units], home_free=model.free_places, incumbent=incumbent,
            **options,
        )

    return model, stages, minimum


@settings(max_examples=examples(60), **SETTINGS)
@given(data=scenario_dicts(siblings_only=True), seed=st.integers(0, 2**16))
def test_an_incumbent_changes_no_stage_optimum(data: dict[str, Any], seed: int) -> None:
    """Given any feasible plan as incumbent (the optimum itself, or units put greedily in a
    random order), the pipeline proves the same stage optima, and with the optimum it settles
    every stage a flow bounds from the incumbent, without a search."""
    scenario = placering.scenario_from_dict(data)
    model, stages, minimum = _with_incumbent(scenario)
    sizes = [unit.size for unit in model.units]

    plain = minimum(None)
    assert len(stages) == plain.proven
    n_base = model.n_arcs + len(sizes)
    again = minimum(list(plain.values[:n_base]))
    assert plain.stage_values == again.stage_values
    methods = [stage.method for stage in again.stage_stats]
    flowable = [all(v < n_base for v in term.vars) for term in stages]
    assert all(method == "incumbent" for method, flow in zip(methods, flowable, strict=True) if flow)

    rng = random.Random(seed)
    free = list(model.free_places)
    greedy = [0] * n_base
    for u in rng.sample(range(len(sizes)), len(sizes)):
        ways = [a for a in range(model.n_arcs) if model.arc_unit[a] == u and free[model.arc_home[a]] >= sizes[u]]
        if ways and rng.random() < 0.8:
            a = rng.choice(ways)
            greedy[a] = 1
            free[model.arc_home[a]] -= sizes[u]
        else:
            greedy[model.n_arcs + u] = 1
    assert plain.stage_values == minimum(greedy).stage_values


def test_an_incumbent_above_a_parts_bound_narrows_its_mip() -> None:
    """On a Dalarna sample whose second stage leaves a gap, the MIP over a part's whole node
    (its optimal face has no plan) sees fewer arcs when given the optimum as incumbent than
    when the incumbent is kept from it, and proves the same stage optima."""
    scenario = placering.generate(family="dalarna", children=150, seed=1)
    nodes: list[int] = []  # arcs in each MIP over a whole node (one surely holding a plan)
    assignment, by_mip = _ortools.assignment_minimum, mip.by_mip

    def counting(**kwargs: Any) -> Any:
        if kwargs["surely_feasible"]:
            nodes.append(len(kwargs["arc_unit"]))
        return assignment(**kwargs)

    def unhinted(*args: Any, **kwargs: Any) -> Any:
        return by_mip(*args, **(kwargs | {"hint": None}))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_ortools, "assignment_minimum", counting)
        model, _, minimum = _with_incumbent(scenario, tuning=SEARCHES_OFF)
        plain = minimum(None)
        optimum = list(plain.values[: model.n_arcs + len(model.units)])
        nodes.clear()
        narrowed = minimum(optimum)
        with_hint = list(nodes)
        nodes.clear()
        mp.setattr(lexicographic, "by_mip", unhinted)
        wide = minimum(optimum)
    assert plain.stage_values == narrowed.stage_values == wide.stage_values
    assert len(with_hint) == len(nodes) > 0
    assert all(n < w for n, w in zip(with_hint, nodes, strict=True))


def test_an_incumbent_sends_split_parts_straight_to_the_mip() -> None:
    """Given an incumbent optimal in the stages so far, a part the flow leaves split goes to the
    MIP without a dive or a branch and bound (which would only repeat its face check), and the
    stage optima are those found with the searches."""
    scenario = placering.generate(family="dalarna", children=150, seed=1)
    model, _, minimum = _with_incumbent(scenario)
    plain = minimum(None)
    assert "parts" in [stage.method for stage in plain.stage_stats]  # the flows split a sibling group here

    def no_search(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a search ran although the MIP had an incumbent")

    with pytest.MonkeyPatch.context() as mp:
        for module in (split, lexicographic):
            mp.setattr(module, "dive_on_face", no_search)
            mp.setattr(module, "branch_and_bound", no_search)
        again = minimum(list(plain.values[: model.n_arcs + len(model.units)]))
    assert plain.stage_values == again.stage_values


def test_reading_and_refusing_input_never_imports_or_tools(tmp_path: Any) -> None:
    """``import placering``, reading a scenario and refusing a bad one load no OR-Tools module
    (only ``placering._ortools`` does, on first use), so validation and a sweep's workers start
    fast; a solve then loads it."""
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "placering.scenario/1", "homes": [], "children": [], "region": 3}')
    code = (
        "import sys, placering\n"
        "placering.scenario_from_dict(placering.scenario_to_dict(placering.generate(children=20, seed=1)))\n"
        f"try:\n    placering.read_scenario({str(bad)!r})\nexcept placering.InvalidInputError:\n    pass\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('ortools', 'google')], 'OR-Tools was imported'\n"
        "placering.solve(placering.generate(children=20, seed=1), explain=False)\n"
        "assert 'ortools' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert 0 == result.returncode, result.stderr


def test_the_rounded_flow_is_a_whole_plan_near_the_bound() -> None:
    """The anytime plan: each unit in exactly one place, no home over its places, the units
    the flow keeps whole where it put them, and a value no better than the flow's bound; on
    instances where the flow splits sibling groups (asserted to be most of those drawn)."""
    split: list[bool] = []
    moved: list[bool] = []

    @settings(max_examples=60, derandomize=True, deadline=None, **SETTINGS)
    @given(data=st.one_of(crowded_families(), separate_crowds(), crowded_families(singles=(1, 4))))
    def check(data: dict[str, Any]) -> None:
        scenario = placering.scenario_from_dict(data)
        model = build_matching(scenario)
        sizes = [unit.size for unit in model.units]
        first = stage_term(model, stages_of(model, scenario.policy.effective_objective())[0])
        state, arcs_of, _ = matching_state.initial_state(
            model.program, model.n_arcs, model.arc_unit, model.arc_home, sizes, model.free_places
        )
        coeff = matching_state.per_flow(first, model.n_arcs, model.arc_unit, sizes)
        stage = flow.flow_stage(state, coeff, arcs_of)
        assert stage is not None
        split.append(bool(stage.split))

        n_arcs = model.n_arcs
        plain = rounding.rounded(state, stage, arcs_of)
        ejected = rounding.rounded(state, stage, arcs_of, eject=True)
        for values in (plain, ejected):
            assert all(sum(values[v] for v in (*arcs_of[u], n_arcs + u)) == 1 for u in range(len(sizes)))
            load = [0] * len(model.free_places)
            for a in range(n_arcs):
                load[model.arc_home[a]] += sizes[model.arc_unit[a]] * values[a]
            assert all(x <= cap for x, cap in zip(load, model.free_places, strict=True))
            assert first.evaluate(matching_state.complete(model.program, n_arcs + len(sizes), values)) >= stage.lower
        # Without ejections the whole units stay where the flow put them; with them, only single
        # children move, and never into "unplaced".
        assert all(plain[v] == 1 for v in range(n_arcs + len(sizes)) if stage.base[v])
        assert all(ejected[n_arcs + u] == 1 for u in range(len(sizes)) if stage.base[n_arcs + u])
        assert sum(ejected[n_arcs:]) <= sum(plain[n_arcs:])
        moved.append(plain != ejected)

    check()
    assert 5 * sum(split) >= len(split), f"the flow split a group in {sum(split)} of {len(split)} examples"
    assert any(moved), "no example moved a single child to make room for a group"


def test_the_reflowed_plan_is_the_best_plan_for_its_sibling_groups() -> None:
    """The repair by a second flow: a whole plan, the groups the flow keeps whole where it put
    them, and, with the groups where it chose, the single children placed lexicographically
    best over every stage (against every placement of them, enumerated); in some examples
    better than both roundings."""
    tried: list[bool] = []
    better: list[bool] = []

    @settings(max_examples=60, derandomize=True, deadline=None, **SETTINGS)
    @given(data=crowded_families(singles=(1, 4)))
    def check(data: dict[str, Any]) -> None:
        scenario = placering.scenario_from_dict(data)
        model = build_matching(scenario)
        sizes = [unit.size for unit in model.units]
        # One stage per term (small instances merge them all into one): the later ones matter.
        terms = [stage_term(model, [(name, 1)]) for name in scenario.policy.effective_objective()]
        terms = [t for t in terms if max(t.vars, default=0) < model.n_arcs + len(sizes)]
        state, arcs_of, into = matching_state.initial_state(
            model.program, model.n_arcs, model.arc_unit, model.arc_home, sizes, model.free_places
        )
        coeffs = [matching_state.per_flow(t, model.n_arcs, model.arc_unit, sizes) for t in terms]
        stage = flow.flow_stage(state, coeffs[0], arcs_of)
        assert stage is not None
        values = rounding.reflowed(state, stage, arcs_of, into, coeffs[1:])
        tried.append(values is not None)
        if values is None:
            assert not stage.split
            return
        n_arcs, n_base = model.n_arcs, model.n_arcs + len(sizes)
        options = [(*arcs_of[u], n_arcs + u) for u in range(len(sizes))]
        assert all(sum(values[v] for v in options[u]) == 1 for u in range(len(sizes)))

        def fits(chosen: dict[int, int]) -> bool:
            load = [0] * len(model.free_places)
            for u, v in chosen.items():
                if v < n_arcs:
                    load[model.arc_home[v]] += sizes[u]
            return all(x <= cap for x, cap in zip(load, model.free_places, strict=True))

        def vector(chosen: dict[int, int] | list[int]) -> tuple[int, ...]:
            base = chosen if isinstance(chosen, list) else [int(v in chosen.values()) for v in range(n_base)]
            full = matching_state.complete(model.program, n_base, base)
            return tuple(t.evaluate(full) for t in terms)

        mine = {u: next(v for v in options[u] if values[v]) for u in range(len(sizes))}
        assert fits(mine)
        assert vector(mine)[0] >= stage.lower
        groups = {u: v for u, v in mine.items() if sizes[u] > 1}
        kept_whole = [a for a in range(n_arcs) if stage.base[a] and sizes[model.arc_unit[a]] > 1]
        assert all(groups[model.arc_unit[a]] == a for a in kept_whole)
        singles = [u for u in range(len(sizes)) if sizes[u] == 1]
        every = itertools.product(*(options[u] for u in singles))
        picks = (groups | dict(zip(singles, pick, strict=True)) for pick in every)
        assert min(vector(chosen) for chosen in picks if fits(chosen)) == vector(mine)
        rounded = [rounding.rounded(state, stage, arcs_of, eject=eject) for eject in (False, True)]
        better.append(vector(mine)[0] < min(vector(r)[0] for r in rounded))

    check()
    assert sum(tried) * 3 >= len(tried), f"the flow split a group in {sum(tried)} of {len(tried)} examples"
    assert any(better), "the second flow never beat both roundings"


def test_out_of_time_after_the_parts_no_whole_matching_search_starts() -> None:
    """When the clock runs out while the parts are settled, the solve returns the plan it holds
    at once: no dive over the whole matching, no branch and bound or MIP over it (on national
    each would overrun the limit by seconds)."""
    scenario = placering.generate(family="siblings-heavy", seed=3)

    class Clock:
        offset = 0.0

        @staticmethod
        def perf_counter() -> float:
            return time.perf_counter() + Clock.offset

    ran: list[str] = []

    def parts_out_of_time(*args: Any, **kwargs: Any) -> None:
        ran.append("parts")
        Clock.offset += 10_000.0  # the parts gave up: out of time

    with pytest.MonkeyPatch.context() as mp:
        for module in (lexicographic, split, mip, rounding):
            mp.setattr(module, "time", Clock)
        mp.setattr(lexicographic, "by_part", parts_out_of_time)
        mp.setattr(lexicographic, "dive_on_face", lambda *a, **k: ran.append("dive"))
        mp.setattr(lexicographic._Run, "search_all", lambda *a, **k: ran.append("search"))
        plan = placering.solve(scenario, time_limit=600, explain=False)
    assert ["parts"] == ran
    assert "feasible" == plan.status
    assert [] == placering.check_plan(scenario, plan)


def test_out_of_time_a_solve_returns_the_rounded_flow_with_its_curve() -> None:
    """When the clock runs out after the first flow, the plan is the rounded flow, far better
    than leaving everyone unplaced; its anytime curve and bounds say how far from proven."""
    scenario = placering.generate(family="dalarna", children=150, seed=1)
    exact = placering.solve(scenario, explain=False)

    class Clock:
        now = 0.0

        @staticmethod
        def perf_counter() -> float:
            Clock.now += 10.0  # every look at the clock costs ten seconds
            return Clock.now

    with pytest.MonkeyPatch.context() as mp:
        for module in (lexicographic, split, mip):
            mp.setattr(module, "time", Clock)
        plan = placering.solve(scenario, time_limit=25, explain=False)
    assert "feasible" == plan.status
    assert [] == placering.check_plan(scenario, plan)
    assert exact.totals.unplaced <= plan.totals.unplaced < len(scenario.children) // 4
    assert plan.solver.progress and all(p.bound <= p.value for p in plan.solver.progress)
    assert plan.bounds.get("unplaced", plan.totals.unplaced) <= exact.totals.unplaced


def test_the_mip_takes_a_part_whose_face_has_no_arc() -> None:
    """A part's optimal face may leave it no arc at all (every unit unplaced): the MIP then
    proves that plan instead of failing (it once raised from a zip over the homes it touches)."""
    none = np.zeros(0, dtype=np.int64)
    result = _ortools.assignment_minimum(
        unit_size=np.array([1, 2]), arc_unit=none, arc_home=none, arc_cost=none,
        unplaced_cost=np.array([3, 5]), unplaced_open=np.array([True, True]),
        home_capacity=np.array([1]), home_full=np.array([False]),
    )  # fmt: skip
    assert result.proven
    assert [-1, -1] == result.choice.tolist()
    assert 1 * 3 + 2 * 5 == result.objective


@st.composite
def _costly_assignments(draw: st.DrawFn) -> dict[str, Any]:
    """Units of 1-2 children and homes of 1-3 places, every cost on a base of 10^11 (a cost
    stage merged with km reaches that): what SCIP compares must stay exact all the same."""
    sizes = draw(st.lists(st.integers(1, 2), min_size=2, max_size=6))
    capacity = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    pairs = [(u, h) for u in range(len(sizes)) for h in range(len(capacity))]
    arcs = draw(st.lists(st.sampled_from(pairs), unique=True, min_size=1, max_size=len(pairs)))
    arcs.sort()
    base = 10**11
    return {
        "sizes": sizes,
        "capacity": capacity,
        "arcs": arcs,
        "arc_cost": [base + draw(st.integers(0, 40) | st.integers(10**10, 10**10 + 40)) for _ in arcs],
        "unplaced_cost": [base + draw(st.integers(0, 60)) for _ in sizes],
        "cap": draw(st.none() | st.integers(0, 3)),
    }


@settings(max_examples=examples(80), **SETTINGS)
@given(data=_costly_assignments())
def test_the_mip_is_exact_on_costs_near_its_relative_tolerance(data: dict[str, Any]) -> None:
    """Against enumeration, with and without a cap row: proven, and at the least cost. Before
    each unit's least cost was taken out, SCIP's relative tolerance passed gaps of dozens."""
    sizes, capacity, arcs = data["sizes"], data["capacity"], data["arcs"]
    arc_unit = np.array([u for u, _ in arcs], dtype=np.int64)
    arc_home = np.array([h for _, h in arcs], dtype=np.int64)
    arc_cost = np.array(data["arc_cost"], dtype=np.int64)
    unplaced_cost = np.array(data["unplaced_cost"], dtype=np.int64)
    # A cap: at most ``cap`` children placed in home 0, as a row on huge coefficients too.
    caps = []
    if data["cap"] is not None:
        limit = 10**11 * sum(sizes) + data["cap"]
        caps = [(np.where(arc_home == 0, 10**11 + 1, 10**11), np.full(len(sizes), 10**11), limit)]
    ways = [[-1, *[a for a in range(len(arcs)) if arc_unit[a] == u]] for u in range(len(sizes))]
    best = None
    for choice in itertools.product(*ways):
        load = [0] * len(capacity)
        cost, capped = 0, 0
        for u, a in enumerate(choice):
            if a < 0:
                cost += sizes[u] * int(unplaced_cost[u])
                capped += sizes[u] * 10**11
                continue
            load[arc_home[a]] += sizes[u]
            cost += sizes[u] * int(arc_cost[a])
            capped += sizes[u] * int(caps[0][0][a]) if caps else 0
        if any(x > c for x, c in zip(load, capacity, strict=True)) or (caps and capped > caps[0][2]):
            continue
        best = cost if best is None else min(best, cost)
    result = _ortools.assignment_minimum(
        unit_size=np.array(sizes), arc_unit=arc_unit, arc_home=arc_home, arc_cost=arc_cost,
        unplaced_cost=unplaced_cost, unplaced_open=np.ones(len(sizes), dtype=bool),
        home_capacity=np.array(capacity), home_full=np.zeros(len(capacity), dtype=bool), caps=caps,
    )  # fmt: skip
    assert result.proven
    assert result.objective == best == result.bound


@st.composite
def _merged_assignments(draw: st.DrawFn) -> dict[str, Any]:
    """Units of 1-2 children, homes of 1-3 places, each cost ``weight * term + rest`` as a stage
    merges two terms (the weight above what the rest can add over every plan)."""
    sizes = draw(st.lists(st.integers(1, 2), min_size=2, max_size=5))
    capacity = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    pairs = [(u, h) for u in range(len(sizes)) for h in range(len(capacity))]
    arcs = sorted(draw(st.lists(st.sampled_from(pairs), unique=True, min_size=1, max_size=len(pairs))))
    term = st.integers(0, 4)
    return {
        "sizes": sizes, "capacity": capacity, "arcs": arcs,
        "first": [draw(term) for _ in arcs], "rest": [draw(st.integers(0, 9)) for _ in arcs],
        "unplaced_first": [draw(term) for _ in sizes], "unplaced_rest": [draw(st.integers(0, 9)) for _ in sizes],
    }  # fmt: skip


@settings(max_examples=examples(60), **SETTINGS)
@given(data=_merged_assignments())
def test_a_merged_stage_scip_leaves_unproven_is_minimised_term_by_term(data: dict[str, Any]) -> None:
    """Where SCIP stops with its bound below its plan (its relative tolerance on a merged stage
    in the tens of billions), the terms are minimised one after another: the result is the
    merged optimum (against enumeration), proven, after one solve per term."""
    from placering._ortools import mip as ortools_mip

    sizes, capacity, arcs = data["sizes"], data["capacity"], data["arcs"]
    weight = 10 * sum(sizes)  # above what the rest (at most 9 per child) adds over any plan
    arc_unit = np.array([u for u, _ in arcs], dtype=np.int64)
    arc_home = np.array([h for _, h in arcs], dtype=np.int64)
    arc_cost = weight * np.array(data["first"], dtype=np.int64) + np.array(data["rest"], dtype=np.int64)
    unplaced_cost = weight * np.array(data["unplaced_first"], dtype=np.int64) + np.array(data["unplaced_rest"])
    ways = [[-1, *[a for a in range(len(arcs)) if arc_unit[a] == u]] for u in range(len(sizes))]
    best = None
    for choice in itertools.product(*ways):
        load = [0] * len(capacity)
        for u, a in enumerate(choice):
            if a >= 0:
                load[arc_home[a]] += sizes[u]
        if any(x > c for x, c in zip(load, capacity, strict=True)):
            continue
        cost = sum(sizes[u] * int(arc_cost[a] if a >= 0 else unplaced_cost[u]) for u, a in enumerate(choice))
        best = cost if best is None else min(best, cost)
    solves = []
    once = ortools_mip._assignment

    def stopping_early(problem: Any, **kwargs: Any) -> Any:
        solves.append(len(kwargs["caps"]))
        if len(solves) == 1:  # the merged solve: a plan (all unplaced) and a bound below it
            return ortools_mip.AssignmentResult(proven=False, choice=np.full(len(sizes), -1), objective=None, bound=0)
        return once(problem, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ortools_mip, "_assignment", stopping_early)
        result = _ortools.assignment_minimum(
            unit_size=np.array(sizes), arc_unit=arc_unit, arc_home=arc_home, arc_cost=arc_cost,
            unplaced_cost=unplaced_cost, unplaced_open=np.ones(len(sizes), dtype=bool),
            home_capacity=np.array(capacity), home_full=np.zeros(len(capacity), dtype=bool), weights=(weight, 1),
        )  # fmt: skip
    # The merged solve, then the first term, then the rest with a row keeping the first's optimum.
    assert solves == [0, 0, 1]
    assert result.proven
    assert result.objective == best == result.bound


def test_a_solve_hands_each_part_mip_its_stages_term_weights() -> None:
    """The term-by-term fallback needs each merged stage's weights: a solve's part MIPs get those
    of the stage they minimise (a merged one among them), as ``stages_of`` made them."""
    scenario = placering.generate(family="dalarna", children=150, seed=1)
    stages = stages_of(build_matching(scenario), scenario.policy.effective_objective())
    weights = [tuple(w for _, w in stage) for stage in stages]
    given: list[tuple[int, ...]] = []
    assignment = _ortools.assignment_minimum

    def recording(**kwargs: Any) -> Any:
        given.append(tuple(kwargs["weights"]))
        return assignment(**kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_ortools, "assignment_minimum", recording)
        plan = placering.solve(scenario, placering.SolveParams(tuning=SEARCHES_OFF))
    assert plan.status == "optimal"
    assert given and set(given) <= set(weights)
    assert any(len(w) > 1 for w in given)


def test_pricing_takes_in_more_arcs_a_round_under_a_time_limit() -> None:
    """Without a time limit each unit takes in ``arcs_per_round`` arcs a round while the LP
    grows (a smaller program, faster exact rounds); under one ``arcs_per_round_limited`` (the
    LP certified sooner, within the half of the limit pricing may use)."""
    from placering.matching import columns

    scenario = placering.generate(family="dalarna", children=150, seed=1)
    tuning = placering.Tuning(
        price_above=0, first_arcs=dict.fromkeys(placering.KINDS, 0), arcs_per_round=1, arcs_per_round_limited=3
    )
    asked: list[int] = []
    priced = columns._Generation.priced

    def recording(self: Any, plan: Any, per_unit: int) -> Any:
        if plan is None:  # growing the LP, not pricing against a plan
            asked.append(per_unit)
        return priced(self, plan, per_unit)

    totals = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(columns._Generation, "priced", recording)
        for limit, expected in ((None, 1), (600.0, 3)):
            asked.clear()
            plan = placering.solve(scenario, placering.SolveParams(tuning=tuning, time_limit=limit))
            assert plan.status == "optimal"
            assert asked and set(asked) == {expected}
            totals.append(plan.totals)
    assert totals[0] == totals[1]


def test_a_hint_gives_every_variable_of_the_units_it_places() -> None:
    """SCIP ignores a partial solution that leaves most variables unknown: a unit the hint
    places has all its variables given (one 1, the rest 0); an unknown unit's none."""
    from placering._ortools.mip import solution_hint

    var_unit = np.array([0, 0, 0, 1, 1, 2, 2, 0, 2])  # arcs, then the open units' "unplaced"
    chosen = np.array([1, -1, 8])  # unit 0 on var 1, unit 1 not known, unit 2 unplaced (var 8)
    given, values = solution_hint(chosen, var_unit)
    assert given.tolist() == [0, 1, 2, 5, 6, 7, 8]
    assert values.tolist() == [0, 1, 0, 0, 0, 0, 1]
