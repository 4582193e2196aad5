"""The shared contract cases: every optimal plan has the expected totals (design.md section 2)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import placering
from brute import brute_force
from conftest import CONTRACT_DIR

CASES = sorted(p.name for p in CONTRACT_DIR.glob("case-[0-9][0-9].json")) if CONTRACT_DIR.is_dir() else []


def _expected(case_dir: Path, name: str) -> dict[str, float]:
    return json.loads((case_dir / name.replace(".json", ".expected.json")).read_text(encoding="utf-8"))["totals"]


def _assert_totals(expected: dict[str, float], actual: dict[str, float]) -> None:
    for key, value in expected.items():
        if key == "km":
            assert math.isclose(value, actual[key], abs_tol=0.01), f"km: expected {value}, got {actual[key]}"
        else:
            assert value == actual[key], f"{key}: expected {value}, got {actual[key]}"


def test_contract_cases_are_present(contract_dir: Path) -> None:
    """The contract folder holds scenario files, each with its expected totals beside it."""
    assert [] != CASES
    for name in CASES:
        assert (contract_dir / name.replace(".json", ".expected.json")).is_file()


@pytest.mark.parametrize("name", CASES)
def test_contract_case_solves_to_expected_totals(contract_dir: Path, name: str) -> None:
    """Solving a contract case through the Python API proves optimality and gives the expected totals."""
    scenario = placering.read_scenario(contract_dir / name)
    plan = placering.solve(scenario, seed=0, workers=1)
    assert "optimal" == plan.status
    _assert_totals(_expected(contract_dir, name), plan.totals.to_dict())
    assert [] == placering.check_plan(scenario, plan)


@pytest.mark.parametrize("name", CASES)
def test_brute_force_reference_agrees_with_contract_case(contract_dir: Path, name: str) -> None:
    """The test suite's own brute force finds the contract's expected totals (it checks the referee)."""
    scenario = placering.read_scenario(contract_dir / name)
    result = brute_force(scenario)
    actual = dict(result.totals)
    actual["cost_per_day"] = actual.pop("cost")
    _assert_totals(_expected(contract_dir, name), actual)
