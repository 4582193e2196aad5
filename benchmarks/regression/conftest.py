"""Fixtures for the fixed-work regression benchmarks (pytest-benchmark).

Run with ``python -m pytest benchmarks/regression --benchmark-only``. The project's
``testpaths`` is ``tests``, so a plain ``pytest`` never collects these.
"""

from __future__ import annotations

import pytest

pytest.importorskip("pytest_benchmark", reason="pytest-benchmark is not installed (pip install '.[bench]')")

import placering


class _Scenarios(dict):  # type: ignore[type-arg]
    """``scenarios[family, seed]``: generated on first use, then shared."""

    def __missing__(self, key: tuple[str, int]) -> placering.Scenario:
        family, seed = key
        self[key] = placering.generate(family=family, seed=seed)
        return self[key]


@pytest.fixture(scope="session")
def scenarios() -> _Scenarios:
    """Generated scenarios, shared so that a benchmark times only its own step."""
    return _Scenarios()
