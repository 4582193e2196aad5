"""The data classes and helpers: Region distances, Home and Policy defaults, Scenario helpers,
and the eligibility rules 1-6 of design.md section 2."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import placering
from conftest import examples
from placering import Home, Policy, Region, Road, Scenario, eligibility
from placering.eligibility import BLOCK, MAX_TAGS, RULES, Facts, arc_pairs, exclusion, may_be_used, passes
from placering.io import region_from_dict
from strategies import regions, scenario_dicts, scenarios

#: The profile (conftest.py) sets the deadline and whether draws are derandomized.
SETTINGS = {"suppress_health_check": [HealthCheck.too_slow]}


def _region(roads: list[tuple[str, str, float]], codes: str = "ABC") -> Region:
    return Region(
        name="r",
        municipalities=[placering.Municipality(code=c, name=f"Kommun {c}", lat=60.0, lon=15.0) for c in codes],
        roads=[Road(a=a, b=b, km=km) for a, b, km in roads],
    )


# --- Region --------------------------------------------------------------------------------


def test_region_km_is_the_shortest_path(test_region: dict[str, Any]) -> None:
    """km(a, b) follows the shortest path over the roads, not the direct link."""
    region = region_from_dict(test_region)
    assert 20 == region.km("A", "B")
    assert 50 == region.km("B", "C")
    assert 70 == region.km("A", "C")


def test_region_km_is_zero_on_the_diagonal(test_region: dict[str, Any]) -> None:
    """The distance from a municipality to itself is 0."""
    region = region_from_dict(test_region)
    assert [0, 0, 0] == [region.km(c, c) for c in "ABC"]


@settings(max_examples=examples(80), **SETTINGS)
@given(regions())
def test_region_km_is_a_symmetric_shortest_path_metric(data: dict[str, Any]) -> None:
    """On random regions km is symmetric, 0 on the diagonal, obeys the triangle inequality and matches
    Floyd-Warshall."""
    region = region_from_dict(data)
    codes = [m["code"] for m in data["municipalities"]]
    best = {(a, b): (0.0 if a == b else float("inf")) for a in codes for b in codes}
    for r in data["roads"]:
        a, b = r["from"], r["to"]
        if a != b:
            best[a, b] = best[b, a] = min(best[a, b], r["km"])
    for k, i, j in itertools.product(codes, repeat=3):
        best[i, j] = min(best[i, j], best[i, k] + best[k, j])
    for a, b in itertools.product(codes, repeat=2):
        assert best[a, b] == region.km(a, b)
        assert region.km(a, b) == region.km(b, a)
    for a, b, c in itertools.product(codes, repeat=3):
        assert region.km(a, c) <= region.km(a, b) + region.km(b, c)


def test_parallel_roads_keep_the_shortest() -> None:
    """Of two roads between the same pair, distances use the shorter, whatever their order."""
    assert 30 == _region([("A", "B", 45), ("B", "A", 30), ("B", "C", 10)]).km("A", "B")
    assert 30 == _region([("A", "B", 30), ("A", "B", 45), ("B", "C", 10)]).km("B", "A")
    assert 40 == _region([("A", "B", 45), ("B", "A", 30), ("B", "C", 10)]).km("A", "C")


def test_decimal_road_lengths_sum_exactly() -> None:
    """Roads of 0.1 and 0.2 km give a path of exactly 0.3 km, without float round-off."""
    region = _region([("A", "B", 0.1), ("B", "C", 0.2)])
    assert 0.3 == region.km("A", "C")
    assert 0.3 == _region([("A", "B", 0.2), ("B", "C", 0.1)]).km("C", "A")


def test_decimal_road_lengths_keep_their_comparison_with_a_limit(make_scenario: Callable[..., Scenario]) -> None:
    """A child 0.1 + 0.2 km from a home is within a 0.3 km limit (no 0.30000000000000004)."""
    region = {
        "name": "tiny",
        "municipalities": [{"code": c, "name": c, "lat": 60.0, "lon": 15.0} for c in "ABC"],
        "roads": [{"from": "A", "to": "B", "km": 0.1}, {"from": "B", "to": "C", "km": 0.2}],
    }
    scenario = make_scenario(
        region=region,
        homes=[{"id": "H", "kind": "municipal", "municipality": "C", "capacity": 1}],
        children=[{"id": "K", "municipality": "A", "age": 5, "max_km": 0.3}],
    )
    assert placering.exclusion(scenario, scenario.children[0], scenario.homes[0]) is None


def test_region_rejects_a_disconnected_road_graph() -> None:
    """A region whose roads leave a municipality unreachable is invalid input."""
    with pytest.raises(placering.InvalidInputError):
        _region([("A", "B", 10)])


# --- Home ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "level"), [("municipal", 1), ("consultant", 3), ("hvb", 4)])
def test_home_defaults(kind: str, level: int) -> None:
    """A home without optional fields is owned by its municipality, takes ages 0-20 and the kind's care level."""
    home = Home(id="H", kind=kind, municipality="A", capacity=2)
    assert "A" == home.owner
    assert (0, 20) == (home.min_age, home.max_age)
    assert frozenset() == home.competences
    assert level == home.max_care_level
    assert home.cost_per_day is None
    assert frozenset() == home.reserved_for


def test_kin_home_defaults_to_care_level_one() -> None:
    """A kin home takes care level 1 unless it says otherwise."""
    assert 1 == Home(id="K", kind="kin", municipality="A", capacity=1, reserved_for=["C1"]).max_care_level


def test_home_owner_and_care_level_may_be_given() -> None:
    """An explicit owner and max_care_level override the defaults."""
    home = Home(id="H", kind="municipal", municipality="A", capacity=1, owner="B", max_care_level=3)
    assert ("B", 3) == (home.owner, home.max_care_level)


def test_home_defaults_through_a_scenario_file(make_scenario: Callable[..., Scenario]) -> None:
    """Home defaults apply the same way when the home comes from a scenario dict."""
    scenario = make_scenario(
        homes=[
            {"id": "K", "kind": "kin", "municipality": "A", "capacity": 1, "reserved_for": ["C"]},
            {"id": "M", "kind": "municipal", "municipality": "B", "capacity": 1},
            {"id": "S", "kind": "consultant", "municipality": "B", "capacity": 1},
            {"id": "V", "kind": "hvb", "municipality": "C", "capacity": 1},
        ],
        children=[{"id": "C", "municipality": "A", "age": 3}],
    )
    assert [1, 1, 3, 4] == [h.max_care_level for h in scenario.homes]
    assert ["A", "B", "B", "C"] == [h.owner for h in scenario.homes]


# --- Policy --------------------------------------------------------------------------------


def test_policy_defaults() -> None:
    """The default policy is the one design.md section 3 shows."""
    policy = Policy()
    assert {"kin": 700, "municipal": 800, "consultant": 2500, "hvb": 5500} == policy.costs_per_day.to_dict()
    assert {"kin": None, "municipal": 90, "consultant": 150, "hvb": None} == policy.max_km.to_dict()
    assert "pooled" == policy.pooling
    assert "together" == policy.siblings
    assert policy.keep_current is True
    assert ("unplaced", "hvb", "consultant", "cost", "km") == tuple(policy.objective)


def test_policy_partial_overrides_keep_the_other_kinds() -> None:
    """A partial costs_per_day or max_km map overrides only the kinds it names."""
    policy = Policy(costs_per_day={"hvb": 9000}, max_km={"municipal": 40, "kin": 200})
    assert {"kin": 700, "municipal": 800, "consultant": 2500, "hvb": 9000} == policy.costs_per_day.to_dict()
    assert {"kin": 200, "municipal": 40, "consultant": 150, "hvb": None} == policy.max_km.to_dict()


def test_policy_max_km_override_may_lift_a_limit(make_scenario: Callable[..., Scenario]) -> None:
    """A max_km of null in a scenario's policy removes the limit for that kind only."""
    scenario = make_scenario(policy={"max_km": {"municipal": None}})
    assert {"kin": None, "municipal": None, "consultant": 150, "hvb": None} == scenario.policy.max_km.to_dict()


@pytest.mark.parametrize(
    ("siblings", "objective", "expected"),
    [
        ("together", None, ("unplaced", "hvb", "consultant", "cost", "km")),
        ("ignore", None, ("unplaced", "hvb", "consultant", "cost", "km")),
        ("prefer", None, ("unplaced", "split_siblings", "hvb", "consultant", "cost", "km")),
        ("together", ["unplaced", "split_siblings", "cost"], ("unplaced", "cost")),
        ("ignore", ["split_siblings", "km"], ("km",)),
        ("prefer", ["unplaced", "cost", "split_siblings"], ("unplaced", "cost", "split_siblings")),
        ("prefer", ["cost", "km"], ("split_siblings", "cost", "km")),
        ("prefer", ["hvb", "unplaced", "km"], ("hvb", "unplaced", "split_siblings", "km")),
    ],
)
def test_effective_objective(siblings: str, objective: list[str] | None, expected: tuple[str, ...]) -> None:
    """split_siblings is a term only under prefer: after unplaced (or first) unless the objective places it."""
    policy = Policy(siblings=siblings) if objective is None else Policy(siblings=siblings, objective=objective)
    assert expected == tuple(policy.effective_objective())


# --- Scenario ------------------------------------------------------------------------------


def test_cost_of_uses_the_home_cost_else_the_policy_cost(make_scenario: Callable[..., Scenario]) -> None:
    """cost_of is the home's own cost_per_day when set, else the (overridden) policy cost of its kind."""
    scenario = make_scenario(
        homes=[
            {"id": "M", "kind": "municipal", "municipality": "A", "capacity": 1},
            {"id": "S", "kind": "consultant", "municipality": "A", "capacity": 1, "cost_per_day": 1900},
            {"id": "V", "kind": "hvb", "municipality": "A", "capacity": 1},
        ],
        policy={"costs_per_day": {"hvb": 6100}},
    )
    assert [800, 1900, 6100] == [scenario.cost_of(h) for h in scenario.homes]


@pytest.mark.parametrize(("keep_current", "expected"), [(True, [True, False]), (False, [False, False])])
def test_is_kept(make_scenario: Callable[..., Scenario], keep_current: bool, expected: list[bool]) -> None:
    """A child is kept only when the policy keeps current placements and the child has a current home."""
    scenario = make_scenario(
        homes=[{"id": "M", "kind": "municipal", "municipality": "A", "capacity": 1}],
        children=[
            {"id": "C1", "municipality": "A", "age": 5, "current_home": "M"},
            {"id": "C2", "municipality": "A", "age": 5},
        ],
        policy={"keep_current": keep_current},
    )
    assert expected == [scenario.is_kept(c) for c in scenario.children]


def test_scenario_lookups(make_scenario: Callable[..., Scenario]) -> None:
    """Homes, children and sibling groups are found by id."""
    scenario = make_scenario(
        homes=[{"id": "M", "kind": "municipal", "municipality": "A", "capacity": 1}],
        children=[
            {"id": "C1", "municipality": "B", "age": 5, "sibling_group": "S"},
            {"id": "C2", "municipality": "B", "age": 7, "sibling_group": "S"},
        ],
    )
    assert "M" == scenario.home("M").id
    assert 7 == scenario.child("C2").age
    assert (True, False) == (scenario.has_home("M"), scenario.has_home("X"))
    assert {"S": ("C1", "C2")} == {g: tuple(c.id for c in m) for g, m in scenario.sibling_groups.items()}
    assert 20 == scenario.km_between(scenario.child("C1"), scenario.home("M"))


# --- eligibility ---------------------------------------------------------------------------


@settings(max_examples=examples(100), **SETTINGS)
@given(scenarios())
def test_eligible_homes_agrees_with_exclusion(scenario: Scenario) -> None:
    """Home j is in eligible_homes(s)[i] exactly when exclusion(s, child i, home j) is None."""
    eligible = placering.eligible_homes(scenario)
    expected = [
        tuple(j for j, h in enumerate(scenario.homes) if placering.exclusion(scenario, c, h) is None)
        for c in scenario.children
    ]
    assert expected == [tuple(sorted(e)) for e in eligible]
    for child, homes in zip(scenario.children, eligible, strict=True):
        for j, home in enumerate(scenario.homes):
            assert (j in homes) == placering.eligible(scenario, child, home)
    for j, home in enumerate(scenario.homes):
        used = any(placering.exclusion(scenario, c, home) is None for c in scenario.children)
        assert may_be_used(scenario, j) == used, home.id


OK_HOME = {"id": "H", "kind": "municipal", "municipality": "B", "capacity": 1, "competences": ["npf"],
           "min_age": 5, "max_age": 15, "max_care_level": 2}
OK_CHILD = {"id": "C", "municipality": "A", "age": 10, "needs": ["npf"], "care_level": 2}


@pytest.mark.parametrize(
    ("home", "child", "policy", "rule"),
    [
        pytest.param({}, {}, {}, None, id="eligible"),
        pytest.param({}, {"needs": ["npf", "trauma"]}, {}, "needs", id="needs"),
        pytest.param({}, {"age": 4}, {}, "age", id="too-young"),
        pytest.param({}, {"age": 16}, {}, "age", id="too-old"),
        pytest.param({}, {"care_level": 3}, {}, "care_level", id="care-level"),
        pytest.param({"kind": "kin", "reserved_for": ["X"]}, {}, {}, "kin", id="kin-for-another"),
        pytest.param({"kind": "kin", "reserved_for": ["C"]}, {}, {}, None, id="kin-for-this-child"),
        pytest.param({"municipality": "C"}, {}, {"max_km": {"municipal": 60}}, "distance", id="policy-limit"),
        pytest.param({}, {"max_km": 15}, {}, "distance", id="child-limit"),
        pytest.param({"kind": "consultant"}, {"max_km": 15}, {}, "distance", id="child-limit-consultant"),
        pytest.param({"kind": "hvb", "municipality": "C"}, {"max_km": 15}, {}, None, id="child-limit-not-hvb"),
        pytest.param(
            {"kind": "kin", "municipality": "C", "reserved_for": ["C"]},
            {"max_km": 15},
            {},
            None,
            id="child-limit-not-kin",
        ),
        pytest.param({"kind": "hvb"}, {}, {"max_km": {"hvb": 10}}, "distance", id="policy-limit-hvb"),
        pytest.param({}, {}, {"max_km": {"municipal": 20}}, None, id="limit-is-inclusive"),
        pytest.param({}, {}, {"pooling": "isolated"}, "pooling", id="isolated-other-owner"),
        pytest.param({"owner": "A"}, {}, {"pooling": "isolated"}, None, id="isolated-own-home-elsewhere"),
        pytest.param({"kind": "consultant"}, {}, {"pooling": "isolated"}, None, id="isolated-not-consultant"),
    ],
)
def test_exclusion_names_the_rule(
    make_scenario: Callable[..., Scenario], home: dict[str, Any], child: dict[str, Any], policy: dict[str, Any],
    rule: str | None,
) -> None:
    """exclusion returns the name of the rule that forbids a hand-made child-home pair, or None."""
    home_data = OK_HOME | home
    child_data = OK_CHILD | child
    if home_data.get("kind") == "kin":
        home_data["max_care_level"] = 2
    reserved_for_x = "X" in home_data.get("reserved_for", [])
    children = [child_data] + ([{"id": "X", "municipality": "A", "age": 3}] if reserved_for_x else [])
    scenario = make_scenario(homes=[home_data], children=children, policy=policy)
    assert rule == placering.exclusion(scenario, scenario.child("C"), scenario.home("H"))
    assert (rule is None) == placering.eligible(scenario, scenario.child("C"), scenario.home("H"))


#: A policy where every rule can exclude: isolated pooling, limits on some kinds and none on others.
_STRICT = {"pooling": "isolated", "max_km": {"kin": 30, "municipal": 45, "consultant": None, "hvb": None}}


@settings(max_examples=examples(300), **SETTINGS)
@given(
    data=st.one_of(scenario_dicts(), scenario_dicts(decimals=True), scenario_dicts(policy=_STRICT)),
    bit_masks=st.sampled_from(["int64", "object"]),
    block=st.sampled_from([BLOCK, 1, 7]),
)
def test_vectorised_arcs_equal_the_rules_pair_by_pair(data: dict, bit_masks: str, block: int) -> None:
    """The one statement of rules 1-6, evaluated three ways, gives one answer: arc_pairs (children in blocks
    against homes, needs as int64 or as object bit masks) gives exactly the pairs exclusion (one pair, numpy
    scalars) allows, sorted by child then home; and the rule masks of one child against every home (what
    explanations use) fail first at the rule exclusion names."""
    scenario = placering.scenario_from_dict(data)
    with (
        mock.patch.object(eligibility, "MAX_TAGS", MAX_TAGS if bit_masks == "int64" else 0),
        mock.patch.object(eligibility, "BLOCK", block),
    ):
        child, home = arc_pairs(scenario)
        facts = Facts.of(scenario)
    assert (np.int64, np.int64) == (child.dtype, home.dtype)
    expected = [
        (i, j)
        for i, c in enumerate(scenario.children)
        for j, h in enumerate(scenario.homes)
        if exclusion(scenario, c, h) is None
    ]
    assert expected == list(zip(child.tolist(), home.tolist(), strict=True))
    homes = np.arange(len(scenario.homes))
    for i, c in enumerate(scenario.children):
        masks = {rule: np.broadcast_to(passes(facts.pairs(i, homes), (rule,)), homes.shape) for rule in RULES}
        for j, h in enumerate(scenario.homes):
            assert exclusion(scenario, c, h) == next((rule for rule in RULES if not masks[rule][j]), None)


def test_vectorised_arcs_in_small_blocks_and_with_many_tags(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of one child, and more need tags than fit in a bit mask, give the same arcs."""
    scenario = placering.generate(children=120, seed=5)
    expected = placering.eligible_homes(scenario)
    monkeypatch.setattr(placering.eligibility, "BLOCK", 1)
    assert expected == placering.eligible_homes(scenario)
    monkeypatch.setattr(placering.eligibility, "MAX_TAGS", 2)
    assert expected == placering.eligible_homes(scenario)
