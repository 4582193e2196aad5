"""Recruitment (design.md section 9): profiles, the marginal value of one more home, and the
conversion of consultant homes. Every row is checked against a plain solve of its variant."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import placering
from conftest import assert_one_line_error, examples, profiles_file
from placering.recruitment import (
    Profile,
    conversion_to_dict,
    conversions,
    converted,
    default_profiles,
    marginal_to_dict,
    marginal_values,
    profiles_from_dict,
    with_home,
)
from strategies import scenario_dicts

PROFILES = (
    Profile(name="plain", kind="municipal", capacity=1, cost_per_day=700),
    Profile(name="sibs", kind="municipal", capacity=3, min_age=0, max_age=12, cost_per_day=900),
    Profile(name="care", kind="municipal", capacity=1, competences=["npf", "trauma"], max_care_level=3,
            cost_per_day=1200),
    Profile(name="unit", kind="hvb", capacity=2, competences=["substance", "npf"], max_care_level=4,
            cost_per_day=5000),
    # A home hardly any child may use: exercises the variants whose program is the base's.
    Profile(name="rare", kind="municipal", capacity=1, min_age=20, max_age=20, competences=["disability"]),
)


def _plain(scenario: placering.Scenario) -> placering.Plan:
    return placering.solve(scenario, explain=False)


# --- profiles ------------------------------------------------------------------------------------


def test_shipped_profiles_are_the_five_of_the_issue_each_with_its_source() -> None:
    profiles = default_profiles()
    assert [p.name for p in profiles] == ["ordinary", "teen", "reinforced", "siblings", "regional-hvb"]
    assert all(p.source and "domain.md" in p.source for p in profiles)
    by_name = {p.name: p for p in profiles}
    assert by_name["siblings"].capacity == 3
    assert by_name["reinforced"].competences == {"npf", "trauma"}
    assert by_name["regional-hvb"].kind == "hvb" and by_name["regional-hvb"].competences == {"substance", "npf"}


def test_profile_defaults_follow_section_9() -> None:
    (profile,) = profiles_from_dict({"format": "placering.profiles/1",
                                     "profiles": [{"name": "p", "kind": "hvb", "capacity": 2}]})
    assert profile.recruitment_cost == 100_000 and profile.max_care_level == 4 and profile.cost_per_day is None
    home = profile.home("2080", "X")
    assert (home.municipality, home.owner, home.kind, home.capacity) == ("2080", "2080", "hvb", 2)


@pytest.mark.parametrize(
    ("profile", "words"),
    [
        ({"name": "p", "kind": "municipal", "capacity": 1, "capcity": 2},
         ["profiles[0] 'p'", "unknown field 'capcity'"]),
        ({"name": "p", "kind": "kin", "capacity": 1}, ["kind", "'kin'"]),
        ({"name": "p", "kind": "consultant", "capacity": 1}, ["kind"]),
        ({"name": "p", "kind": "municipal", "capacity": 1, "cost_per_day": -5}, ["cost_per_day must be >= 0"]),
        ({"name": "p", "kind": "municipal", "capacity": 1, "recruitment_cost": -1}, ["recruitment_cost must be >= 0"]),
        ({"name": "p", "kind": "municipal", "capacity": -1}, ["capacity must be >= 0"]),
        ({"name": "p", "kind": "municipal", "capacity": 1, "min_age": 14, "max_age": 10}, ["max_age"]),
        ({"name": "p", "kind": "municipal", "capacity": 1, "max_care_level": 5}, ["max_care_level"]),
        ({"name": "p", "kind": "municipal", "capacity": 1, "competences": "npf"}, ["competences must be a list"]),
        ({"name": "", "kind": "municipal", "capacity": 1}, ["name"]),
        ({"kind": "municipal", "capacity": 1}, ["name is required"]),
    ],
)
def test_bad_profiles_are_one_sentence_naming_the_profile_and_field(profile: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(placering.InvalidInputError) as caught:
        profiles_from_dict({"format": "placering.profiles/1", "profiles": [profile]}, file="p.json")
    message = str(caught.value)
    assert message.startswith("p.json: profiles[0]") and "\n" not in message
    for word in words:
        assert word in message


def test_repeated_names_an_empty_list_and_another_format_are_refused() -> None:
    twice = [{"name": "p", "kind": "municipal", "capacity": 1}, {"name": "p", "kind": "hvb", "capacity": 1}]
    with pytest.raises(placering.InvalidInputError, match=r"profiles\[1\] 'p'.*two profiles"):
        profiles_from_dict({"profiles": twice})
    with pytest.raises(placering.InvalidInputError, match="non-empty"):
        profiles_from_dict({"profiles": []})
    with pytest.raises(placering.InvalidInputError, match="format"):
        profiles_from_dict({"format": "placering.scenario/1", "profiles": twice[:1]})


# --- rows against plain solves ---------------------------------------------------------------


@settings(max_examples=examples(40), suppress_health_check=[HealthCheck.too_slow])
@given(scenario_dicts(max_children=7, max_homes=5) | scenario_dicts(max_children=6, max_homes=4, decimals=True))
def test_a_marginal_row_is_a_plain_solve_of_the_scenario_plus_that_home(data: dict[str, Any]) -> None:
    """Every row (shortcut or not) equals a plain solve of the variant, and adding a home never
    makes the optimum lexicographically worse under the policy's objective."""
    scenario = placering.scenario_from_dict(data)
    table = marginal_values(scenario, PROFILES)
    base = _plain(scenario)
    objective = scenario.policy.effective_objective()
    assert table.base.totals == base.totals
    profiles = {p.name: p for p in PROFILES}
    assert len(table.rows) == len(table.members) * len(PROFILES)
    savings = [row.yearly_saving for row in table.rows]
    assert savings == sorted(savings, reverse=True)
    for row in table.rows:
        variant = with_home(scenario, profiles[row.profile], row.municipality)
        plan = _plain(variant)
        assert row.outcome.totals == plan.totals, (row.municipality, row.profile)
        assert row.yearly_saving == pytest.approx(
            placering.yearly_cost(scenario, base) - placering.yearly_cost(variant, plan), abs=1e-6
        )
        after = tuple(round(v, 6) for v in plan.totals.vector(objective))
        before = tuple(round(v, 6) for v in base.totals.vector(objective))
        assert after <= before, (row.municipality, row.profile)


@settings(max_examples=examples(30), suppress_health_check=[HealthCheck.too_slow])
@given(scenario_dicts(max_children=7, max_homes=6), st.sampled_from((0.0, 650.0, 1200.0, 3000.5)))
def test_a_conversion_row_is_a_plain_solve_of_the_converted_scenario(data: dict[str, Any], cost: float) -> None:
    scenario = placering.scenario_from_dict(data)
    result = conversions(scenario, cost)
    base = _plain(scenario)
    homes = [h.id for h in scenario.homes if h.kind == "consultant"]
    assert sorted(row.home for row in result.rows) == sorted(homes)
    for row in result.rows:
        variant = converted(scenario, row.home, cost)
        home = variant.home(row.home)
        old = scenario.home(row.home)
        assert (home.kind, home.owner, home.cost_per_day) == ("municipal", old.municipality, cost)
        assert (home.capacity, home.min_age, home.max_age, home.competences, home.max_care_level) == (
            old.capacity, old.min_age, old.max_age, old.competences, old.max_care_level)
        plan = _plain(variant)
        assert row.outcome.totals == plan.totals, row.home
        assert row.yearly_saving == pytest.approx(
            placering.yearly_cost(scenario, base) - placering.yearly_cost(variant, plan), abs=1e-6
        )
        kept = [c.id for c in variant.children if c.current_home == row.home and variant.is_kept(c)]
        assert all(plan.home_of()[c] == row.home for c in kept)


@pytest.fixture(scope="module")
def dalarna() -> placering.Scenario:
    return placering.generate("dalarna", children=60, seed=2)


def test_a_process_pool_gives_the_same_tables(dalarna: placering.Scenario) -> None:
    from concurrent.futures import ProcessPoolExecutor

    members = ("2080", "2081", "2085")
    here = marginal_to_dict(marginal_values(dalarna, default_profiles(), members))
    converted_here = conversion_to_dict(conversions(dalarna, members=members))
    with ProcessPoolExecutor(max_workers=2) as pool:
        there = marginal_to_dict(marginal_values(dalarna, default_profiles(), members, executor=pool))
        converted_there = conversion_to_dict(conversions(dalarna, members=members, executor=pool))
    assert here == there and converted_here == converted_there
    assert [r["municipality"] for r in here["rows"]].count("2080") == 5


def test_each_variant_starts_with_the_arcs_the_ones_before_it_took_in(
    dalarna: placering.Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The variants of one base want mostly the same arcs beyond the base's: each starts from
    the base's plan and every arc the base and the variants before it took in."""
    module = importlib.import_module("placering.solve")
    original = module.solve_and_start
    starts: list[Any] = []
    lefts: list[Any] = []

    def record(scenario: placering.Scenario, params: Any = None, *, explain: bool = True, start: Any = None) -> Any:
        plan, left = original(scenario, params, explain=explain, start=start)
        starts.append(start)
        lefts.append(left)
        return plan, left

    monkeypatch.setattr(module, "solve_and_start", record)
    marginal_values(dalarna, default_profiles(), ("2080", "2085"))
    assert starts[0] is None and len(starts) > 3  # the base, then the variants solved

    def pairs(start: Any) -> set[tuple[str, str]]:
        return {(start.units[u], start.homes[h]) for u, h in zip(start.arc_unit, start.arc_home, strict=True)}

    for k in range(2, len(starts)):
        assert pairs(starts[k]) == pairs(starts[k - 1]) | pairs(lefts[k - 1])
        assert starts[k].home_of == lefts[0].home_of  # always the base's plan
    assert len(pairs(starts[-1])) > len(pairs(starts[1]))


# --- the command --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory, dalarna: placering.Scenario) -> Path:
    path = tmp_path_factory.mktemp("recruit") / "scenario.json"
    path.write_text(json.dumps(placering.io.scenario_to_dict(dalarna)))
    return path


def test_recruit_marginal_file_renders_in_the_report(
    scenario_file: Path, tmp_path: Path, invoke: Callable[..., Any]
) -> None:
    out, plan, html = tmp_path / "m.json", tmp_path / "plan.json", tmp_path / "r.html"
    result = invoke("recruit", str(scenario_file), "--marginal", "--members", "2080,2062", "--out", str(out))
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert data["format"] == "placering.marginal/1" and data["members"] == ["2062", "2080"]
    assert len(data["rows"]) == 10
    assert {"municipality", "profile", "totals", "yearly_cost", "yearly_saving"} <= set(data["rows"][0])
    assert data["rows"][0]["yearly_saving"] >= data["rows"][-1]["yearly_saving"]
    assert data["base"]["yearly_cost"] - data["rows"][0]["yearly_cost"] == pytest.approx(
        data["rows"][0]["yearly_saving"], abs=0.02)
    assert invoke("solve", str(scenario_file), "--out", str(plan)).returncode == 0
    rendered = invoke("report", str(scenario_file), str(plan), "--marginal", str(out), "--out", str(html))
    assert rendered.returncode == 0, rendered.stderr
    assert "Value of one more home" in html.read_text()


def test_recruit_prints_tables_and_writes_the_conversion_file(
    scenario_file: Path, tmp_path: Path, invoke: Callable[..., Any]
) -> None:
    shown = invoke("recruit", str(scenario_file), "--marginal", "--members", "2080")
    assert shown.returncode == 0, shown.stderr
    assert "Value of one more home" in shown.stdout and "regional-hvb" in shown.stdout and shown.stderr == ""
    out = tmp_path / "c.json"
    result = invoke("recruit", str(scenario_file), "--convert", "--converted-cost", "1100", "--members", "2080,2081",
                    "--out", str(out))
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert data["format"] == "placering.conversion/1" and data["converted_cost"] == 1100
    assert all({"home", "municipality", "totals", "yearly_cost", "yearly_saving"} <= set(r) for r in data["rows"])
    printed = invoke("recruit", str(scenario_file), "--convert", "--members", "2080")
    assert printed.returncode == 0 and "taken back" in printed.stdout


@pytest.mark.parametrize(
    ("args", "parts"),
    [
        (["--marginal", "--profiles", {"name": "p", "kind": "municipal", "capacity": 1, "colour": "red"}],
         ["p.json", "unknown field 'colour'"]),
        (["--marginal", "--profiles", {"name": "p", "kind": "municipal", "capacity": 1, "cost_per_day": -1}],
         ["p.json", "cost_per_day must be >= 0"]),
        (["--marginal", "--profiles", {"name": "p", "kind": "kin", "capacity": 1}], ["p.json", "kind", "'kin'"]),
        (["--marginal", "--members", "2080,9999"], ["'9999'", "members"]),
        (["--convert", "--converted-cost", "-5"], ["--converted-cost"]),
        (["--marginal", "--converted-cost", "900"], ["--converted-cost"]),
        (["--marginal", "--convert"], ["--marginal or --convert"]),
        ([], ["--marginal or --convert"]),
        (["--marginal", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], ["--scheduler"]),
        (["--marginal", "--budget", "2000000"], ["--budget"]),
    ],
)
def test_recruit_bad_input_is_one_line_and_writes_nothing(
    scenario_file: Path, tmp_path: Path, invoke: Callable[..., Any], args: list[Any], parts: list[str]
) -> None:
    out = tmp_path / "out.json"
    argv = [profiles_file(tmp_path, a) if isinstance(a, dict) else a for a in args]
    result = invoke("recruit", str(scenario_file), *argv, "--out", str(out))
    assert_one_line_error(result, *parts)
    assert not out.exists()


def test_a_home_no_child_may_use_takes_the_base_plan_without_a_solve(
    make_scenario: Callable[..., placering.Scenario], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shortcut: such a variant's program is the base's, so it is not solved again, and its
    row still equals a plain solve (a home with no arc changes no total)."""
    scenario = make_scenario(
        homes=[{"id": "H1", "kind": "consultant", "municipality": "A", "capacity": 2}],
        children=[{"id": "C1", "municipality": "A", "age": 5}, {"id": "C2", "municipality": "B", "age": 9}],
    )
    rare = Profile(name="rare", kind="municipal", capacity=1, min_age=20, max_age=20)
    expected = _plain(with_home(scenario, rare, "C")).totals

    def no_solve(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the variant was solved")

    monkeypatch.setattr(placering.recruitment, "_base", lambda *args: (_plain(scenario), None))
    monkeypatch.setattr(placering.recruitment, "outcome_of", no_solve)
    monkeypatch.setattr(importlib.import_module("placering.solve"), "solve_and_start", no_solve)
    table = marginal_values(scenario, [rare], ["A", "B", "C"])
    assert [row.outcome.totals for row in table.rows] == [expected] * 3
    assert all(row.yearly_saving == 0 for row in table.rows)
