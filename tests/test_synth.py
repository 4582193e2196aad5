"""The seeded synthetic generator, calibrated to Dalarna (design.md section 1, domain.md)."""

from __future__ import annotations

import attrs
import pytest

import placering
from placering import Scenario
from placering.synth import draw_demand, redraw_demand


@pytest.fixture(scope="module")
def county() -> Scenario:
    """A county-sized synthetic Dalarna scenario of 600 children."""
    return placering.generate(children=600, seed=0)


def test_same_seed_gives_the_same_scenario() -> None:
    """Two generations with the same seed are equal."""
    assert placering.generate(children=80, seed=7) == placering.generate(children=80, seed=7)


def test_different_seeds_give_different_scenarios() -> None:
    """Generations with different seeds differ."""
    assert placering.generate(children=80, seed=7) != placering.generate(children=80, seed=8)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 60, 601])
def test_exactly_n_children(n: int) -> None:
    """generate(children=N) makes exactly N children, with unique ids."""
    scenario = placering.generate(children=n, seed=1)
    assert n == len(scenario.children)
    assert n == len({c.id for c in scenario.children})


@pytest.mark.parametrize("n", [0, -3, True, 2.5])
def test_a_bad_child_count_is_invalid_input(n: object) -> None:
    """A child count that is not a positive integer is invalid input."""
    with pytest.raises(placering.InvalidInputError):
        placering.generate(children=n, seed=1)  # type: ignore[arg-type]


def test_children_come_from_all_15_county_municipalities(county: Scenario) -> None:
    """600 children come from every one of Dalarna's 15 municipalities, and only from the county."""
    places = {c.municipality for c in county.children}
    assert 15 == len(places)
    assert all(code.startswith("20") for code in places)


def test_about_a_fifth_of_children_are_in_sibling_groups_of_two_to_four(county: Scenario) -> None:
    """Between 10 and 30 % of children are in sibling groups, every group of 2-4 from one municipality."""
    groups = county.sibling_groups
    assert all(2 <= len(members) <= 4 for members in groups.values())
    assert all(len({c.municipality for c in members}) == 1 for members in groups.values())
    share = sum(len(members) for members in groups.values()) / len(county.children)
    assert 0.10 <= share <= 0.30


def test_about_a_fifth_of_children_have_a_kin_home(county: Scenario) -> None:
    """Between 10 and 30 % of children have a kin home reserved for them."""
    with_kin = set().union(*(h.reserved_for for h in county.homes if h.kind == "kin"))
    assert 0.10 <= len(with_kin) / len(county.children) <= 0.30


def test_some_children_already_have_a_current_home(county: Scenario) -> None:
    """Some, but not all, children live in a current home, within every home's capacity."""
    current = [c for c in county.children if c.current_home is not None]
    assert 0 < len(current) < len(county.children)
    for home in county.homes:
        assert sum(1 for c in current if c.current_home == home.id) <= home.capacity


def test_homes_of_all_four_kinds_with_hvb_outside_the_county(county: Scenario) -> None:
    """The homes include all four kinds, and some HVB units lie outside Dalarna (codes not starting with 20)."""
    assert {"kin", "municipal", "consultant", "hvb"} == {h.kind for h in county.homes}
    assert any(not h.municipality.startswith("20") for h in county.homes if h.kind == "hvb")


def test_generated_scenario_is_a_valid_file(county: Scenario) -> None:
    """A generated scenario survives scenario_to_dict and scenario_from_dict unchanged."""
    assert county == placering.scenario_from_dict(placering.scenario_to_dict(county))


def test_a_solved_instance_uses_consultant_or_hvb_homes() -> None:
    """Solving a 120-child instance proves optimality and places some children in consultant or HVB homes."""
    scenario = placering.generate(children=120, seed=0)
    plan = placering.solve(scenario, seed=0, workers=1)
    assert "optimal" == plan.status
    assert 0 < plan.totals.consultant + plan.totals.hvb
    assert [] == placering.check_plan(scenario, plan)


@pytest.mark.parametrize("family", ["dalarna", "county-xl", "kin-heavy"])
def test_redrawn_demand_keeps_the_other_homes_and_changes_the_children(family: str) -> None:
    """redraw_demand keeps the region and every home but the kin homes, and draws other children,
    kin homes for them and ongoing placements that rules 1-6 and the capacities allow."""
    scenario = placering.generate(family=family, seed=1, children=300)
    other = redraw_demand(scenario, seed=2)
    assert scenario.region == other.region
    assert [h for h in scenario.homes if h.kind != "kin"] == [h for h in other.homes if h.kind != "kin"]
    assert len(scenario.children) == len(other.children)
    assert scenario.children != other.children
    assert all(h.kind == "kin" for h in other.homes[: sum(h.kind == "kin" for h in other.homes)])
    kept = [c for c in other.children if c.current_home is not None]
    assert kept
    assert all(placering.eligible(other, c, other.home(c.current_home)) for c in kept if c.current_home)
    home_of = {c.id: c.current_home for c in kept if c.current_home}
    kept_plan = placering.Plan.from_home_of(other, home_of, status="feasible")
    assert [] == placering.check_plan(other, kept_plan)
    assert redraw_demand(scenario, seed=2) == other


def test_drawing_demand_is_the_generators_drawing_of_children() -> None:
    """draw_demand with a generator's seed draws the very children generate draws first."""
    scenario = placering.generate(children=200, seed=4)
    fixed = [h for h in scenario.homes if h.kind != "kin"]
    demand = draw_demand(scenario.region, fixed, seed=4, children=200)
    strip = [attrs.evolve(c, current_home=None) for c in scenario.children]
    assert strip == [attrs.evolve(c, current_home=None) for c in demand.children]
    assert [h for h in scenario.homes if h.kind == "kin"] == [h for h in demand.homes if h.kind == "kin"]
