"""Shared fixtures: the contract cases, a tiny test region and a readable scenario factory."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import placering

#: The agreed contract cases live next to the repository, in ``../shared/contract``.
CONTRACT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "contract"

#: Three municipalities on a line: Alby -20 km- Bryn -50 km- Cederby, plus a long direct
#: road Alby-Cederby of 100 km that the shortest path (70 km) never uses.
TEST_REGION: dict[str, Any] = {
    "name": "testland",
    "municipalities": [
        {"code": "A", "name": "Alby", "lat": 60.0, "lon": 15.0},
        {"code": "B", "name": "Bryn", "lat": 60.2, "lon": 15.1},
        {"code": "C", "name": "Cederby", "lat": 60.6, "lon": 15.3},
    ],
    "roads": [
        {"from": "A", "to": "B", "km": 20},
        {"from": "B", "to": "C", "km": 50},
        {"from": "A", "to": "C", "km": 100},
    ],
}


def scenario_data(
    homes: list[dict[str, Any]] | None = None,
    children: list[dict[str, Any]] | None = None,
    policy: dict[str, Any] | None = None,
    region: dict[str, Any] | str | None = None,
) -> dict[str, Any]:
    """A ``placering.scenario/1`` dict; the test region unless another is given."""
    data: dict[str, Any] = {
        "format": "placering.scenario/1",
        "region": copy.deepcopy(TEST_REGION) if region is None else copy.deepcopy(region),
        "homes": copy.deepcopy(homes or []),
        "children": copy.deepcopy(children or []),
    }
    if policy is not None:
        data["policy"] = copy.deepcopy(policy)
    return data


@pytest.fixture
def contract_dir() -> Path:
    """The folder of the shared contract cases; the tests that need it skip when it is absent."""
    if not CONTRACT_DIR.is_dir():
        pytest.skip(f"contract cases not found at {CONTRACT_DIR} (expected ../shared/contract next to the repo)")
    return CONTRACT_DIR


@pytest.fixture
def test_region() -> dict[str, Any]:
    """A small three-municipality region as an inline region dict (Alby, Bryn, Cederby)."""
    return copy.deepcopy(TEST_REGION)


@pytest.fixture
def make_data() -> Callable[..., dict[str, Any]]:
    """Build a scenario dict: ``make_data(homes=[...], children=[...], policy={...})``."""
    return scenario_data


@pytest.fixture
def make_scenario() -> Callable[..., placering.Scenario]:
    """Build a validated Scenario from dicts: ``make_scenario(homes=[...], children=[...])``."""

    def make(
        homes: list[dict[str, Any]] | None = None,
        children: list[dict[str, Any]] | None = None,
        policy: dict[str, Any] | None = None,
        region: dict[str, Any] | str | None = None,
    ) -> placering.Scenario:
        return placering.scenario_from_dict(scenario_data(homes, children, policy, region))

    return make
