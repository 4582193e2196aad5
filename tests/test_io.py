"""Scenario and plan files: round trips through dicts and JSON, and atomic writes (design.md sections 3-4)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

import placering
from conftest import examples
from placering import Scenario
from strategies import scenario_dicts

#: No derandomize or deadline here: the Hypothesis profile (conftest.py) decides them.
SETTINGS = {"suppress_health_check": [HealthCheck.too_slow]}


def _through_json(data: Any) -> Any:
    return json.loads(json.dumps(data))


@pytest.fixture
def scenario(make_scenario: Callable[..., Scenario]) -> Scenario:
    """A hand-made scenario that uses every optional field once."""
    return make_scenario(
        homes=[
            {"id": "K", "kind": "kin", "municipality": "A", "capacity": 2, "reserved_for": ["C1", "C2"],
             "competences": ["trauma"], "max_care_level": 2},
            {"id": "M", "kind": "municipal", "municipality": "B", "capacity": 1, "owner": "A", "min_age": 3,
             "max_age": 12, "cost_per_day": 950.5},
            {"id": "V", "kind": "hvb", "municipality": "C", "capacity": 4},
        ],
        children=[
            {"id": "C1", "municipality": "A", "age": 7, "needs": ["trauma"], "sibling_group": "S", "current_home": "K"},
            {"id": "C2", "municipality": "A", "age": 9, "sibling_group": "S", "current_home": "K"},
            {"id": "C3", "municipality": "C", "age": 15, "care_level": 4, "max_km": 45.5},
        ],
        policy={"pooling": "isolated", "siblings": "prefer", "keep_current": False, "costs_per_day": {"hvb": 6000},
                "max_km": {"municipal": None, "kin": 100}, "objective": ["unplaced", "cost", "km"]},
    )


@pytest.mark.parametrize("inline_region", [False, True])
def test_scenario_round_trip_by_dict(scenario: Scenario, inline_region: bool) -> None:
    """scenario_to_dict then scenario_from_dict gives back an equal scenario."""
    data = placering.scenario_to_dict(scenario, inline_region=inline_region)
    assert scenario == placering.scenario_from_dict(_through_json(data))


@pytest.mark.parametrize("inline_region", [False, True])
def test_shipped_region_round_trip(inline_region: bool) -> None:
    """A generated Dalarna scenario round-trips, with the region by name or written inline."""
    scenario = placering.generate(family="dalarna", children=40, seed=3)  # the shipped region, no market towns
    data = placering.scenario_to_dict(scenario, inline_region=inline_region)
    assert (dict if inline_region else str) is type(data["region"])
    assert scenario == placering.scenario_from_dict(_through_json(data))


@settings(max_examples=examples(60), **SETTINGS)
@given(scenario_dicts())
def test_random_scenario_round_trip(data: dict[str, Any]) -> None:
    """Random scenarios survive scenario_to_dict, JSON text and scenario_from_dict unchanged."""
    scenario = placering.scenario_from_dict(data)
    assert scenario == placering.scenario_from_dict(_through_json(placering.scenario_to_dict(scenario)))


def test_scenario_digest_is_the_sha256_of_the_canonical_file(scenario: Scenario) -> None:
    """scenario_digest is 64 hex digits, equal for equal scenarios however they were read, and
    changes with any field (here one home's capacity)."""
    digest = placering.scenario_digest(scenario)
    assert 64 == len(digest)
    assert int(digest, 16) >= 0
    assert digest == placering.scenario_digest(placering.scenario_from_dict(placering.scenario_to_dict(scenario)))
    fuller = attrs.evolve(scenario, homes=[attrs.evolve(scenario.homes[0], capacity=3), *scenario.homes[1:]])
    assert digest != placering.scenario_digest(fuller)


def test_scenario_to_dict_writes_the_format(scenario: Scenario) -> None:
    """A written scenario names its format, placering.scenario/1."""
    assert "placering.scenario/1" == placering.scenario_to_dict(scenario)["format"]


def test_scenario_file_round_trip(scenario: Scenario, tmp_path: Path) -> None:
    """write_json then read_scenario gives back an equal scenario."""
    path = tmp_path / "scenario.json"
    placering.write_json(path, placering.scenario_to_dict(scenario))
    assert scenario == placering.read_scenario(path)


def test_plan_round_trip_keeps_assignments_unplaced_and_totals(tmp_path: Path) -> None:
    """plan_to_dict then plan_from_dict (also through a file) keeps assignments, unplaced children and totals."""
    plan = placering.solve(placering.generate(children=60, seed=5))
    for back in (
        placering.plan_from_dict(_through_json(placering.plan_to_dict(plan))),
        _written_and_read(tmp_path / "plan.json", plan),
    ):
        fields = ("child", "home", "kind", "km", "cost_per_day")
        assert [tuple(getattr(a, f) for f in fields) for a in plan.assignments] == [
            tuple(getattr(a, f) for f in fields) for a in back.assignments
        ]
        assert plan.unplaced == back.unplaced
        assert plan.totals == back.totals
        assert plan.status == back.status
        assert {c: e.text for c, e in plan.explanations.items()} == {c: e.text for c, e in back.explanations.items()}


def _written_and_read(path: Path, plan: placering.Plan) -> placering.Plan:
    placering.write_json(path, placering.plan_to_dict(plan))
    return placering.read_plan(path)


def test_plan_to_dict_has_the_contract_fields() -> None:
    """A written plan has the placering.plan/1 format and every child once in assignments or unplaced."""
    scenario = placering.generate(children=30, seed=2)
    data = placering.plan_to_dict(placering.solve(scenario))
    assert "placering.plan/1" == data["format"]
    assert {"unplaced", "hvb", "consultant", "split_siblings", "cost_per_day", "km"} == set(data["totals"])
    ids = [a["child"] for a in data["assignments"]] + [u["child"] for u in data["unplaced"]]
    assert sorted(c.id for c in scenario.children) == sorted(ids)
    for a in data["assignments"]:
        assert {"child", "home", "kind", "km", "cost_per_day"} == set(a)


def test_write_json_leaves_no_temporary_file(tmp_path: Path) -> None:
    """After write_json the folder holds only the target file."""
    placering.write_json(tmp_path / "out.json", {"a": 1})
    assert ["out.json"] == sorted(p.name for p in tmp_path.iterdir())
    assert {"a": 1} == json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))


def test_write_json_replaces_an_existing_file(tmp_path: Path) -> None:
    """write_json over an existing file replaces its content entirely."""
    path = tmp_path / "out.json"
    path.write_text('{"old": true, "padding": "' + "x" * 1000 + '"}', encoding="utf-8")
    placering.write_json(path, {"new": 1})
    assert {"new": 1} == json.loads(path.read_text(encoding="utf-8"))
    assert ["out.json"] == sorted(p.name for p in tmp_path.iterdir())


def test_write_json_failure_keeps_the_old_file(tmp_path: Path) -> None:
    """When the data cannot be written, the earlier file stays as it was and no temporary file remains."""
    path = tmp_path / "out.json"
    path.write_text('{"old": true}', encoding="utf-8")
    with pytest.raises(TypeError):
        placering.write_json(path, {"bad": object()})
    assert {"old": True} == json.loads(path.read_text(encoding="utf-8"))
    assert ["out.json"] == sorted(p.name for p in tmp_path.iterdir())


def test_write_json_creates_missing_folders(tmp_path: Path) -> None:
    """write_json creates the target's parent folders."""
    path = tmp_path / "a" / "b" / "out.json"
    placering.write_json(path, [1, 2])
    assert [1, 2] == json.loads(path.read_text(encoding="utf-8"))


def test_load_region_dalarna() -> None:
    """The shipped Dalarna region holds the county's 15 municipalities by SCB code, and is connected."""
    region = placering.load_region("dalarna")
    county = [code for code in region.codes if code.startswith("20")]
    assert 15 == len(county)
    assert "Falun" == region.name_of("2080")
    assert all(region.km("2080", code) >= 0 for code in region.codes)
