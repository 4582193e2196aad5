"""Invalid scenario files (design.md section 3): each rule is an InvalidInputError whose one-line,
one-sentence message names the file, the entity and the field."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import placering
from conftest import scenario_data


def valid() -> dict[str, Any]:
    """A small valid scenario that every case below breaks in one place."""
    return scenario_data(
        homes=[
            {"id": "H1", "kind": "municipal", "municipality": "A", "capacity": 2},
            {"id": "H2", "kind": "consultant", "municipality": "B", "capacity": 1, "competences": ["npf"]},
            {"id": "H3", "kind": "kin", "municipality": "C", "capacity": 1, "reserved_for": ["C3"]},
        ],
        children=[
            {"id": "C1", "municipality": "A", "age": 9, "needs": ["npf"], "sibling_group": "S1"},
            {"id": "C2", "municipality": "A", "age": 11, "sibling_group": "S1"},
            {"id": "C3", "municipality": "C", "age": 4, "current_home": "H3"},
        ],
        policy={"pooling": "pooled", "costs_per_day": {"hvb": 6000}, "max_km": {"municipal": 60}},
    )


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _drop(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


def _both(*changes: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        for c in changes:
            c(data)

    return change


H2 = "homes[1] 'H2'"
C1 = "children[0] 'C1'"
C2 = "children[1] 'C2'"

# (id, change, entity the message must name, field the error is about)
CASES: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    # Unknown keys anywhere.
    ("unknown-top-level-key", _set(("colour",), "blue"), "scenario", "colour"),
    ("unknown-policy-key", _set(("policy", "poolling"), "pooled"), "policy", "poolling"),
    ("unknown-home-key", _set(("homes", 1, "capcity"), 2), H2, "capcity"),
    ("unknown-child-key", _set(("children", 0, "agee"), 9), C1, "agee"),
    ("unknown-region-key", _set(("region", "country"), "SE"), "region", "country"),
    ("unknown-municipality-key", _set(("region", "municipalities", 1, "pop"), 5), "region municipalities[1]", "pop"),
    ("unknown-road-key", _set(("region", "roads", 0, "minutes"), 20), "region roads[0]", "minutes"),
    ("unknown-kind-in-costs", _set(("policy", "costs_per_day", "foster"), 900), "policy", "costs_per_day"),
    ("unknown-kind-in-max-km", _set(("policy", "max_km", "kinship"), 30), "policy", "max_km"),
    # Missing required fields.
    ("missing-home-capacity", _drop(("homes", 1, "capacity")), H2, "capacity"),
    ("missing-home-kind", _drop(("homes", 1, "kind")), H2, "kind"),
    ("missing-child-age", _drop(("children", 0, "age")), C1, "age"),
    ("missing-child-municipality", _drop(("children", 1, "municipality")), C2, "municipality"),
    ("missing-homes", _drop(("homes",)), "scenario", "homes"),
    ("missing-region", _drop(("region",)), "scenario", "region"),
    ("missing-municipality-lat", _drop(("region", "municipalities", 0, "lat")), "region municipalities[0]", "lat"),
    ("missing-road-km", _drop(("region", "roads", 1, "km")), "region roads[1]", "km"),
    # Wrong types.
    ("string-capacity", _set(("homes", 1, "capacity"), "2"), H2, "capacity"),
    ("bool-age", _set(("children", 0, "age"), True), C1, "age"),
    ("needs-as-string", _set(("children", 0, "needs"), "npf"), C1, "needs"),
    ("competences-as-string", _set(("homes", 1, "competences"), "npf"), H2, "competences"),
    ("string-road-km", _set(("region", "roads", 0, "km"), "20"), "region roads[0]", "km"),
    ("string-keep-current", _set(("policy", "keep_current"), "yes"), "policy", "keep_current"),
    ("objective-as-string", _set(("policy", "objective"), "unplaced"), "policy", "objective"),
    # Ranges.
    ("negative-capacity", _set(("homes", 1, "capacity"), -1), H2, "capacity"),
    ("age-above-20", _set(("children", 0, "age"), 21), C1, "age"),
    ("age-below-0", _set(("children", 0, "age"), -1), C1, "age"),
    ("care-level-0", _set(("children", 0, "care_level"), 0), C1, "care_level"),
    ("care-level-5", _set(("children", 0, "care_level"), 5), C1, "care_level"),
    ("max-care-level-5", _set(("homes", 1, "max_care_level"), 5), H2, "max_care_level"),
    (
        "min-age-above-max-age",
        _both(_set(("homes", 1, "min_age"), 12), _set(("homes", 1, "max_age"), 6)),
        H2,
        "max_age",
    ),
    ("negative-policy-cost", _set(("policy", "costs_per_day", "hvb"), -1), "policy", "costs_per_day.hvb"),
    ("negative-child-max-km", _set(("children", 0, "max_km"), -5), C1, "max_km"),
    # Identity and cross references.
    ("duplicate-home-id", _set(("homes", 1, "id"), "H1"), "homes[1] 'H1'", "id"),
    ("duplicate-child-id", _set(("children", 1, "id"), "C1"), "children[1] 'C1'", "id"),
    ("home-unknown-municipality", _set(("homes", 1, "municipality"), "Z"), H2, "municipality"),
    ("home-unknown-owner", _set(("homes", 1, "owner"), "Z"), H2, "owner"),
    ("child-unknown-municipality", _set(("children", 0, "municipality"), "Z"), C1, "municipality"),
    ("reserved-for-on-non-kin", _set(("homes", 1, "reserved_for"), ["C1"]), H2, "reserved_for"),
    ("kin-without-reserved-for", _drop(("homes", 2, "reserved_for")), "homes[2] 'H3'", "reserved_for"),
    ("kin-with-empty-reserved-for", _set(("homes", 2, "reserved_for"), []), "homes[2] 'H3'", "reserved_for"),
    ("reserved-for-unknown-child", _set(("homes", 2, "reserved_for"), ["C9"]), "homes[2] 'H3'", "reserved_for"),
    ("siblings-in-two-municipalities", _set(("children", 1, "municipality"), "B"), C2, "municipality"),
    ("siblings-partly-current", _set(("children", 1, "current_home"), "H1"), C2, "current_home"),
    ("current-home-unknown", _set(("children", 2, "current_home"), "H9"), "children[2] 'C3'", "current_home"),
    (
        "more-current-children-than-capacity",
        _both(_set(("children", 0, "current_home"), "H2"), _set(("children", 1, "current_home"), "H2")),
        H2,
        "capacity",
    ),
    # The region.
    ("disconnected-roads", _set(("region", "roads"), [{"from": "A", "to": "B", "km": 20}]), "region", "roads"),
    ("road-unknown-municipality", _set(("region", "roads", 1, "to"), "Z"), "region roads[1]", "to"),
    ("unknown-shipped-region", _set(("region",), "narnia"), "scenario", "region"),
    # The policy.
    ("unknown-objective-term", _set(("policy", "objective"), ["unplaced", "happiness"]), "policy", "objective"),
    ("repeated-objective-term", _set(("policy", "objective"), ["unplaced", "hvb", "unplaced"]), "policy", "objective"),
    ("unknown-pooling", _set(("policy", "pooling"), "shared"), "policy", "pooling"),
    ("unknown-siblings", _set(("policy", "siblings"), "apart"), "policy", "siblings"),
    # The file.
    ("wrong-format", _set(("format",), "placering.scenario/2"), "scenario", "format"),
]

#: A field may be named by a wider phrase in the sentence ("the road graph" for ``roads``).
ALIASES = {"roads": "road"}


def _assert_one_sentence(message: str) -> None:
    assert "\n" not in message
    assert [] == re.findall(r"[.!?]\s+[A-Z]", message), f"more than one sentence: {message}"


def test_the_base_scenario_is_valid(tmp_path: Path) -> None:
    """The scenario every validation case starts from reads without error."""
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(valid()), encoding="utf-8")
    assert 3 == len(placering.read_scenario(path).children)


@pytest.mark.parametrize(("change", "entity", "field"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_invalid_scenario_file_is_rejected_naming_file_entity_and_field(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], entity: str, field: str
) -> None:
    """A scenario file that breaks one validation rule raises InvalidInputError naming file, entity and field."""
    data = valid()
    change(data)
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(placering.InvalidInputError) as caught:
        placering.read_scenario(path)
    message = str(caught.value)
    _assert_one_sentence(message)
    assert message.startswith(f"{path}: ")
    assert f": {entity}: " in message
    assert ALIASES.get(field, field) in message.split(f": {entity}: ", 1)[1]
    assert field == caught.value.field


@pytest.mark.parametrize(("change", "entity", "field"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_invalid_scenario_dict_is_rejected_without_a_file(
    change: Callable[[dict[str, Any]], None], entity: str, field: str
) -> None:
    """scenario_from_dict raises the same error for a dict, naming the entity but no file."""
    data = valid()
    change(data)
    with pytest.raises(placering.InvalidInputError) as caught:
        placering.scenario_from_dict(data)
    assert str(caught.value).startswith(f"{entity}: ")
    assert "" == caught.value.file


def test_invalid_json_text_is_rejected_naming_the_file(tmp_path: Path) -> None:
    """A file that is not JSON raises InvalidInputError with one line naming the file."""
    path = tmp_path / "broken.json"
    path.write_text('{"format": "placering.scenario/1", "homes": [', encoding="utf-8")
    with pytest.raises(placering.InvalidInputError) as caught:
        placering.read_scenario(path)
    message = str(caught.value)
    _assert_one_sentence(message)
    assert message.startswith(f"{path}: ")
    assert "JSON" in message


def test_missing_file_is_rejected_naming_the_file(tmp_path: Path) -> None:
    """Reading a file that does not exist raises InvalidInputError with one line naming the file."""
    path = tmp_path / "absent.json"
    with pytest.raises(placering.InvalidInputError) as caught:
        placering.read_scenario(path)
    message = str(caught.value)
    _assert_one_sentence(message)
    assert message.startswith(f"{path}: ")


def test_a_scenario_that_is_not_an_object_is_rejected(tmp_path: Path) -> None:
    """A JSON list instead of a scenario object raises InvalidInputError naming the file."""
    path = tmp_path / "list.json"
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(placering.InvalidInputError) as caught:
        placering.read_scenario(path)
    assert str(caught.value).startswith(f"{path}: scenario: ")


def test_invalid_input_error_is_a_value_error() -> None:
    """InvalidInputError is both a PlaceringError and a ValueError, so callers may catch either."""
    error = placering.InvalidInputError("capacity must be >= 0, got -1", entity="homes[3] 'H4'", field="capacity")
    assert isinstance(error, placering.PlaceringError)
    assert isinstance(error, ValueError)
    assert "homes[3] 'H4': capacity must be >= 0, got -1" == str(error)


def test_a_directory_is_rejected_naming_it(tmp_path: Path) -> None:
    """Reading a directory as a scenario raises InvalidInputError naming the path."""
    with pytest.raises(placering.InvalidInputError) as caught:
        placering.read_scenario(tmp_path)
    message = str(caught.value)
    _assert_one_sentence(message)
    assert message.startswith(f"{tmp_path}: ")


def test_a_file_that_is_not_utf8_is_rejected_naming_it(tmp_path: Path) -> None:
    """A scenario file that is not UTF-8 text raises InvalidInputError naming the file."""
    path = tmp_path / "latin1.json"
    path.write_bytes('{"format": "Malung-Sälen"}'.encode("latin-1"))
    with pytest.raises(placering.InvalidInputError) as caught:
        placering.read_scenario(path)
    message = str(caught.value)
    _assert_one_sentence(message)
    assert message.startswith(f"{path}: ")
