"""Hardening (issue 16): every class of bad or extreme input refused in one line, or handled.

Each class has API tests and CLI tests (in process through ``invoke``; a real process only
where one matters: signals and terminal encodings).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import placering
from placering import explain
from conftest import Outcome, scenario_data


def _group(n: int, hvb: int) -> placering.Scenario:
    """One sibling group of ``n`` children in Alby; one own home with one place, an HVB with ``hvb``."""
    children = [{"id": f"C{i:05d}", "municipality": "A", "age": 12, "sibling_group": "G"} for i in range(n)]
    homes = [
        {"id": "H1", "kind": "municipal", "municipality": "A", "capacity": 1},
        {"id": "HV", "kind": "hvb", "municipality": "B", "capacity": hvb},
    ]
    return placering.scenario_from_dict(scenario_data(homes, children))


# --- 6. explanations linear in a sibling group's size ---------------------------------------


@pytest.mark.parametrize("hvb", [0, 1])
def test_explaining_a_sibling_group_tests_rules_linearly_in_its_size(monkeypatch: pytest.MonkeyPatch, hvb: int) -> None:
    """The rule tests an explanation of a whole group makes grow with the group, not its square."""
    calls = 0
    real = explain.passes

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(explain, "passes", counting)
    counts = []
    for n in (100, 400):
        scenario = _group(n, hvb * n)
        plan = placering.solve(scenario, explain=False)
        calls = 0
        explained = explain.explain_plan(scenario, plan)
        assert len(explained.explanations) == n
        counts.append(calls)
    assert counts[1] <= 4 * counts[0] + 10, counts


def test_a_large_group_gets_the_same_kind_of_explanation() -> None:
    scenario = _group(300, 300)
    plan = placering.solve(scenario)
    text = plan.explanations["C00000"].text
    assert "sibling group G" in text and "300 free places together" in text
