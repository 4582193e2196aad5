"""Shared fixtures: the contract cases, a tiny test region, a readable scenario factory, and
the Hypothesis profiles.

Hypothesis profiles: ``ci`` when the environment variable ``CI`` is set (CI sets it to
``true``), ``HYPOTHESIS_PROFILE`` when it names one (``dev``, ``ci`` or ``default``), else
``default``. A test that needs its own number of examples asks :func:`examples` for it, so the
profile still scales it: ``@settings(max_examples=examples(15))``.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import settings

import placering
from placering.cli import main

#: Hypothesis's own default number of examples, against which the profiles scale.
_BASE_EXAMPLES = 100

# CI: half the examples, derandomized so that a red build is reproducible from its log and not
# a flake of the draw; no deadline, since shared CI machines make timings noise.
settings.register_profile(
    "ci", max_examples=_BASE_EXAMPLES // 2, derandomize=True, deadline=None, print_blob=True, database=None
)
# Local hunting for bugs: four times the examples, freshly random each run.
settings.register_profile("dev", max_examples=_BASE_EXAMPLES * 4, deadline=None, print_blob=True)
# Everyday local runs: Hypothesis's defaults, but no deadline (solves vary with machine load).
settings.register_profile("default", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "default"))


def examples(base: int) -> int:
    """``base`` examples under the default profile, scaled by the loaded profile (half in CI,
    four times under ``dev``): an explicit ``max_examples`` that still honours the profile."""
    return max(1, base * settings.default.max_examples // _BASE_EXAMPLES)

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


# --- the command line, as a subprocess or in process ---------------------------------------


@attrs.frozen
class Outcome:
    """What a user of the command sees: the exit status and the two streams."""

    returncode: int
    stdout: str
    stderr: str


def run(*args: str, cwd: Path | None = None) -> Outcome:
    """The installed ``placering`` script in a subprocess."""
    script = Path(sys.executable).with_name("placering")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "placering"]
    done = subprocess.run(command + list(args), capture_output=True, text=True, cwd=cwd, timeout=600, check=False)
    return Outcome(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def invoke(capsys: pytest.CaptureFixture[str]) -> Callable[..., Outcome]:
    """``placering ARGS`` in this process: ``cli.main``, the function the script calls."""

    def call(*args: str) -> Outcome:
        capsys.readouterr()  # only this call's output
        code = main(list(args))
        out, err = capsys.readouterr()
        return Outcome(code, out, err)

    return call


def assert_one_line_error(result: Outcome, *parts: str, status: int = 2) -> None:
    """The exit status (2 unless told), one stderr line starting 'error:' naming every part, no traceback."""
    assert result.returncode == status, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    for part in parts:
        assert part in lines[0], (part, lines[0])


def profiles_file(folder: Path, profile: dict[str, Any]) -> str:
    """A placering.profiles/1 file in ``folder`` holding the one ``profile``."""
    path = folder / "p.json"
    path.write_text(json.dumps({"format": "placering.profiles/1", "profiles": [profile]}))
    return str(path)
