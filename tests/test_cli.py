"""The ``placering`` command: exit codes, one-line errors, files.

A few tests run the installed console script in a subprocess, one per exit status (0, 1, 2)
and per kind of outcome (demo, generate, solve with and without --out, invalid JSON, missing
file, invalid field, usage error, an output file left unwritten on error), since only a real
process shows the exit status, the streams and the entry point as a user sees them. Every
other case calls :func:`placering.cli.main` in process, which is what the script runs, at a
fraction of the cost of starting Python and OR-Tools again.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import placering
from brute import brute_force, same_vector
from conftest import Outcome, assert_one_line_error, examples, run
from strategies import scenario_dicts
from test_validation import ALIASES, CASES, valid

DALARNA = (
    "Vansbro", "Malung-Sälen", "Gagnef", "Leksand", "Rättvik", "Orsa", "Älvdalen", "Smedjebacken",
    "Mora", "Falun", "Borlänge", "Säter", "Hedemora", "Avesta", "Ludvika",
)


# --- through the installed script: one test per exit status and kind of outcome -------------


def test_demo_writes_both_files_and_covers_every_municipality(tmp_path: Path) -> None:
    """`placering demo` solves the Dalarna scenario, summarises all 15 municipalities and writes the files."""
    result = run("demo", "--out", str(tmp_path / "demo"))

    assert result.returncode == 0, result.stderr
    for name in DALARNA:
        assert name in result.stdout
    assert "Status: optimal" in result.stdout
    assert "Mkr" in result.stdout
    scenario = placering.read_scenario(tmp_path / "demo" / "scenario.json")
    plan = placering.read_plan(tmp_path / "demo" / "plan.json")
    assert [] == placering.check_plan(scenario, plan)
    assert {c.municipality for c in scenario.children} >= {
        m.code for m in scenario.region.municipalities if m.code.startswith("20")
    }


def test_solve_contract_case_writes_expected_totals(tmp_path: Path, contract_dir: Path) -> None:
    """`placering solve CASE --out PLAN` writes a plan with the contract's optimal totals."""
    case = contract_dir / "case-17.json"
    expected = json.loads((contract_dir / "case-17.expected.json").read_text())["totals"]
    result = run("solve", str(case), "--out", str(tmp_path / "plan.json"))

    assert result.returncode == 0, result.stderr
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert "optimal" == plan["status"]
    for key, value in expected.items():
        assert value == pytest.approx(plan["totals"][key], abs=0.01)


def test_generate_inline_region_then_solve(tmp_path: Path) -> None:
    """--inline-region writes the road network out, and the file solves on its own."""
    result = run("generate", "--children", "60", "--seed", "2", "--inline-region")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data["region"], dict)
    assert {"name", "municipalities", "roads"} == set(data["region"])
    path = tmp_path / "standalone.json"
    path.write_text(result.stdout)

    solved = run("solve", str(path), "--out", str(tmp_path / "plan.json"))

    assert solved.returncode == 0, solved.stderr
    scenario = placering.read_scenario(path)
    plan = placering.read_plan(tmp_path / "plan.json")
    assert [] == placering.check_plan(scenario, plan)
    assert {c.id for c in scenario.children} == {a.child for a in plan.assignments} | {u.child for u in plan.unplaced}


def test_invalid_scenario_exits_2_with_one_line_and_no_output(tmp_path: Path, contract_dir: Path) -> None:
    """A negative capacity is refused: exit 2, one line naming file, entity and field, no plan file."""
    data = json.loads((contract_dir / "case-03.json").read_text())
    data["homes"][3]["capacity"] = -1
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "plan.json"

    result = run("solve", str(path), "--out", str(out))

    assert_one_line_error(result, str(path), "homes[3] 'H3'", "capacity", "-1")
    assert not out.exists()
    assert [] == [p.name for p in tmp_path.iterdir() if p.name != "scenario.json"]


def test_invalid_json_and_missing_file_exit_2(tmp_path: Path) -> None:
    """Broken JSON and a missing file are invalid input, reported on one line."""
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "placering.scenario/1", "homes": [')

    assert_one_line_error(run("solve", str(broken)), "broken.json", "not valid JSON")
    assert_one_line_error(run("solve", str(tmp_path / "nope.json")), "nope.json", "no such file")


def test_usage_error_exits_2() -> None:
    """A missing argument is a usage error with exit status 2 (more usage errors in process below)."""
    assert_one_line_error(run("solve"), "SCENARIO")


def test_any_other_failure_exits_1_with_one_line(tmp_path: Path, contract_dir: Path) -> None:
    """A failure that is not invalid input, here the solver breaking inside, exits 1 with one
    line and no traceback, and writes no plan. (A plan that cannot be written because --out lies
    under a file was this test's case: that is the user's input, refused with 2 before solving.)"""
    code = (
        "import sys\n"
        "import placering.cli as cli\n"
        "def broken(*args, **kwargs):\n"
        "    raise RuntimeError('the solver broke')\n"
        "cli.solve_scenario = broken\n"
        "sys.exit(cli.main(sys.argv[1:]))\n"
    )
    out = tmp_path / "plan.json"
    done = subprocess.run(
        [sys.executable, "-c", code, "solve", str(contract_dir / "case-03.json"), "--out", str(out)],
        capture_output=True, text=True, timeout=600, check=False,
    )

    assert_one_line_error(Outcome(done.returncode, done.stdout, done.stderr), "the solver broke", status=1)
    assert not out.exists()


# --- in process ------------------------------------------------------------------------------


def test_solve_without_out_prints_a_summary(invoke: Callable[..., Outcome], contract_dir: Path) -> None:
    """Without --out, solve prints the summary and writes nothing."""
    result = invoke("solve", str(contract_dir / "case-03.json"), "--time-limit", "30")

    assert result.returncode == 0, result.stderr
    assert "Status: optimal" in result.stdout


def test_generate_is_deterministic_and_valid(invoke: Callable[..., Outcome]) -> None:
    """`placering generate` prints a valid scenario; the same seed prints the same file."""
    first = invoke("generate", "--children", "80", "--seed", "3")
    second = invoke("generate", "--children", "80", "--seed", "3")

    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    data = json.loads(first.stdout)
    assert "dalarna" == data["region"]["name"]  # with the national market's towns, so written out
    assert 80 == len(placering.scenario_from_dict(data).children)


def test_unknown_key_exits_2(invoke: Callable[..., Outcome], tmp_path: Path, contract_dir: Path) -> None:
    """A typo such as 'capcity' never passes silently."""
    data = json.loads((contract_dir / "case-03.json").read_text())
    data["homes"][0]["capcity"] = 2
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(data))

    result = invoke("solve", str(path))

    assert_one_line_error(result, "typo.json", "homes[0] 'H0'", "capcity")


def test_usage_errors_exit_2(invoke: Callable[..., Outcome]) -> None:
    """An unknown option or a bad number is a usage error with exit status 2."""
    assert_one_line_error(invoke("solve"), "SCENARIO")
    assert_one_line_error(invoke("generate", "--children", "zero"), "--children")
    assert_one_line_error(invoke("demo", "--bogus"), "--bogus")


def test_unknown_region_exits_2(invoke: Callable[..., Outcome]) -> None:
    """Generating for a region that does not ship is invalid input."""
    assert_one_line_error(invoke("generate", "--region", "atlantis"), "atlantis")


def test_existing_output_is_untouched_on_error(invoke: Callable[..., Outcome], tmp_path: Path) -> None:
    """An earlier plan file survives a failed solve: output is written atomically or not at all."""
    out = tmp_path / "plan.json"
    out.write_text("earlier")
    bad = tmp_path / "bad.json"
    bad.write_text("[]")

    result = invoke("solve", str(bad), "--out", str(out))

    assert 2 == result.returncode
    assert "earlier" == out.read_text()


def test_help_lists_the_commands(invoke: Callable[..., Outcome]) -> None:
    """`placering --help` names demo, solve and generate."""
    result = invoke("--help")

    assert 0 == result.returncode
    for command in ("demo", "solve", "generate"):
        assert command in result.stdout


@pytest.mark.parametrize(("change", "entity", "field"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_solve_refuses_every_kind_of_invalid_scenario(
    invoke: Callable[..., Outcome], tmp_path: Path, change: Callable[[dict[str, Any]], None], entity: str, field: str
) -> None:
    """`placering solve` refuses each invalid scenario of design.md section 3: exit 2, one line
    naming the file, the entity and the field, and no plan file."""
    data = valid()
    change(data)
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "plan.json"

    result = invoke("solve", str(path), "--out", str(out))

    assert_one_line_error(result, str(path), entity, ALIASES.get(field, field))
    assert not out.exists()


@settings(
    max_examples=examples(15), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=scenario_dicts())
def test_solve_command_gives_valid_optimal_plans(
    invoke: Callable[..., Outcome], tmp_path: Path, data: dict[str, Any]
) -> None:
    """Random scenarios solved by `placering solve` are within the rules and lexicographically optimal."""
    path = tmp_path / "random.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "random.plan.json"

    result = invoke("solve", str(path), "--out", str(out))

    assert 0 == result.returncode, result.stderr
    scenario = placering.read_scenario(path)
    plan = placering.read_plan(out)
    assert "optimal" == plan.status
    assert [] == placering.check_plan(scenario, plan)
    assert same_vector(brute_force(scenario).vector, plan.totals.vector(scenario.policy.effective_objective()))
