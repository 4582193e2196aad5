"""Hardening (issue 16): every class of bad or extreme input refused in one line, or handled.

Each class has API tests and CLI tests (in process through ``invoke``; a real process only
where one matters: signals and terminal encodings).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import placering
from conftest import Outcome, scenario_data
from conftest import assert_one_line_error as _one_line
from placering import explain


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


# --- helpers ---------------------------------------------------------------------------------


def _valid() -> dict[str, Any]:
    """A small valid scenario: Alby's child C1 and an own home, an HVB unit in Bryn."""
    return scenario_data(
        homes=[
            {"id": "H1", "kind": "municipal", "municipality": "A", "capacity": 1},
            {"id": "HV", "kind": "hvb", "municipality": "B", "capacity": 2},
        ],
        children=[
            {"id": "C1", "municipality": "A", "age": 15, "care_level": 4},
            {"id": "C2", "municipality": "A", "age": 8},
        ],
    )


def _write(tmp_path: Path, text: str, name: str = "s.json") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


Invoke = Callable[..., Outcome]


# --- 1. repeated keys ------------------------------------------------------------------------

_DUPLICATE_HOME = (
    '{"region": "dalarna", "homes": [{"id": "H1", "kind": "hvb", "municipality": "2080",'
    ' "capacity": 1, "capacity": 3}], "children": []}'
)
_DUPLICATE_LIST = '{"region": "dalarna", "homes": [], "children": [], "children": []}'
_DUPLICATE_POLICY = (
    '{"region": "dalarna", "policy": {"costs_per_day": {"hvb": 1, "hvb": 2}}, "homes": [], "children": []}'
)


@pytest.mark.parametrize(
    ("text", "entity", "key"),
    [
        (_DUPLICATE_HOME, "homes[0] 'H1'", "capacity"),
        (_DUPLICATE_LIST, "scenario", "children"),
        (_DUPLICATE_POLICY, "policy costs_per_day", "hvb"),
    ],
)
def test_a_repeated_key_is_refused_naming_entity_and_key(
    tmp_path: Path, invoke: Invoke, text: str, entity: str, key: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(placering.InvalidInputError) as caught:
        placering.read_scenario(path)
    assert (str(path), entity, key) == (caught.value.file, caught.value.entity, caught.value.field)
    _one_line(invoke("solve", str(path)), str(path), entity, repr(key), "twice")


def test_a_repeated_key_in_a_plan_is_refused(tmp_path: Path) -> None:
    plan = placering.plan_to_dict(placering.solve(placering.scenario_from_dict(_valid())))
    text = json.dumps(plan).replace('"status": "optimal"', '"status": "optimal", "status": "feasible"')
    with pytest.raises(placering.InvalidInputError, match="'status' is given twice"):
        placering.read_plan(_write(tmp_path, text, "plan.json"))


# --- 2. inputs that crashed the reader --------------------------------------------------------


@pytest.mark.parametrize("depth", [100, 100_000])
def test_deep_nesting_is_refused(tmp_path: Path, invoke: Invoke, depth: int) -> None:
    path = _write(tmp_path, '{"region": "dalarna", "homes": ' + "[" * depth + "]" * depth + ', "children": []}')
    with pytest.raises(placering.InvalidInputError, match="deeper than 64 levels"):
        placering.read_scenario(path)
    _one_line(invoke("solve", str(path)), str(path), "deeper than 64 levels")


def test_an_integer_of_thousands_of_digits_is_refused(tmp_path: Path, invoke: Invoke) -> None:
    data = json.dumps(_valid()).replace('"capacity": 1', '"capacity": ' + "9" * 5000)
    path = _write(tmp_path, data)
    with pytest.raises(placering.InvalidInputError, match="5000 digits"):
        placering.read_scenario(path)
    _one_line(invoke("solve", str(path)), str(path), "5000 digits")


# --- 3. numbers that overflowed inside the solver -----------------------------------------------


def _home(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["homes"][0].update(changes)


@pytest.mark.parametrize(
    ("change", "field", "limit"),
    [
        (_home(capacity=2**63), "capacity", "10000"),
        (_home(cost_per_day=1e300), "cost_per_day", "1000000"),
        (_home(cost_per_day=1e19), "cost_per_day", "1000000"),
        (lambda d: d["region"]["roads"][0].update(km=1e300), "km", "10000"),
        (lambda d: d["children"][0].update(max_km=1e300), "max_km", "10000"),
        (lambda d: d.update(policy={"costs_per_day": {"hvb": 1e19}}), "costs_per_day.hvb", "1000000"),
        (lambda d: d.update(policy={"max_km": {"municipal": 1e300}}), "max_km.municipal", "10000"),
    ],
)
def test_numbers_beyond_the_limits_are_refused_with_the_limit(
    tmp_path: Path, invoke: Invoke, change: Callable[[dict[str, Any]], None], field: str, limit: str
) -> None:
    data = _valid()
    change(data)
    with pytest.raises(placering.InvalidInputError) as caught:
        placering.scenario_from_dict(data)
    assert field == caught.value.field
    assert limit in str(caught.value)
    _one_line(invoke("solve", str(_write(tmp_path, json.dumps(data)))), field, limit)


def test_a_scenario_at_every_limit_solves_exactly() -> None:
    """The largest capacity, road, cost and distance limit accepted go through the solver and the
    checker without overflow."""
    region = {
        "name": "far",
        "municipalities": [{"code": c, "name": c, "lat": 60.0, "lon": 15.0} for c in "ABC"],
        "roads": [{"from": "A", "to": "B", "km": 9999.999999}, {"from": "B", "to": "C", "km": 10000}],
    }
    homes = [
        {"id": "H1", "kind": "consultant", "municipality": "B", "capacity": 10_000, "cost_per_day": 999_999.999999},
        {"id": "H2", "kind": "hvb", "municipality": "C", "capacity": 10_000, "cost_per_day": 1_000_000},
    ]
    children = [{"id": f"C{i}", "municipality": "A", "age": 15, "care_level": 3 + i % 2, "max_km": 10_000}
                for i in range(300)]
    policy = {"max_km": {"consultant": 10_000, "hvb": None}, "costs_per_day": {"kin": 1_000_000}}
    scenario = placering.scenario_from_dict(scenario_data(homes, children, policy, region))
    plan = placering.solve(scenario)
    assert ("optimal", 0, 150, 150) == (plan.status, plan.totals.unplaced, plan.totals.hvb, plan.totals.consultant)
    assert [] == placering.check_plan(scenario, plan)


# --- 4. strings that cannot be written ---------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "what"),
    [
        (lambda d: d["children"][0].update(id="C\ud800"), "id", "lone surrogate"),
        (lambda d: d["region"]["municipalities"][0].update(name="Alby\udfff"), "name", "lone surrogate"),
        (lambda d: d["children"][0].update(needs=["npf\ud800"]), "needs", "lone surrogate"),
        (lambda d: d["homes"][0].update(id="H\x1b[31m"), "id", "control characters"),
        (lambda d: d["homes"][0].update(id="H" * 201), "id", "at most 200 characters"),
    ],
)
def test_strings_that_cannot_be_written_are_refused(
    tmp_path: Path, invoke: Invoke, change: Callable[[dict[str, Any]], None], field: str, what: str
) -> None:
    data = _valid()
    change(data)
    with pytest.raises(placering.InvalidInputError, match=what) as caught:
        placering.scenario_from_dict(data)
    assert field == caught.value.field
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data), encoding="utf-8")  # json escapes the surrogate as \ud800
    _one_line(invoke("solve", str(path), "--out", str(tmp_path / "plan.json")), field, what)
    assert not (tmp_path / "plan.json").exists()


# --- 5. markup in what reaches the terminal ----------------------------------------------------


def test_markup_in_ids_names_and_paths_is_shown_as_it_is(tmp_path: Path, invoke: Invoke) -> None:
    data = _valid()
    data["children"][0]["id"] = "[bold]C1"
    data["homes"][1]["id"] = "[/]HV:cat:"
    data["region"]["municipalities"][0]["name"] = "Alby[red]"
    folder = tmp_path / "[bold]in["
    folder.mkdir()
    path = folder / "]s.json"  # the path holds [bold] and [/]
    path.write_text(json.dumps(data), encoding="utf-8")

    result = invoke("solve", str(path))

    assert 0 == result.returncode, result.stderr
    words = " ".join(result.stdout.split())  # as read, whatever the terminal's width wraps
    assert "For example [bold]C1 in [/]HV:cat:" in words
    assert "Alby[red]" in words
    # The table's title folds a long path at the table's width, wherever the temporary folder puts it.
    assert "[bold]in[/]s.json" in result.stdout.replace("\n", "")


# --- 7. requests that eat the machine ------------------------------------------------------------


def test_generate_refuses_sizes_beyond_its_limit(invoke: Invoke) -> None:
    with pytest.raises(placering.InvalidInputError, match="30000"):
        placering.generate(children=1_000_000_000)
    _one_line(invoke("generate", "--children", "1000000000"), "--children", "30000")
    _one_line(invoke("demo", "--children", "1000000000"), "--children", "30000")


# --- 9. output paths ---------------------------------------------------------------------------


@pytest.fixture
def no_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    """A solve fails the test: output paths must be refused before any solving."""
    import placering.cli

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("solved before the output path was checked")

    monkeypatch.setattr(placering.cli, "solve_scenario", refuse)


def test_out_equal_to_the_input_is_refused_before_solving(tmp_path: Path, invoke: Invoke, no_solve: None) -> None:
    path = _write(tmp_path, json.dumps(_valid()))
    before = path.read_text()
    _one_line(invoke("solve", str(path), "--out", str(path)), str(path), "would replace")
    _one_line(invoke("solve", str(path), "--out", str(tmp_path / "." / "s.json")), "would replace")
    link = tmp_path / "link.json"
    link.symlink_to(path)
    _one_line(invoke("solve", str(path), "--out", str(link)), str(link), "would replace")
    assert before == path.read_text()


def test_out_an_existing_folder_is_refused_naming_the_users_path(
    tmp_path: Path, invoke: Invoke, no_solve: None
) -> None:
    path = _write(tmp_path, json.dumps(_valid()))
    folder = tmp_path / "plans"
    folder.mkdir()
    result = invoke("solve", str(path), "--out", str(folder))
    _one_line(result, str(folder), "is a folder")
    assert ".tmp" not in result.stderr
    assert [] == list(folder.iterdir())
    _one_line(invoke("generate", "--out", str(folder)), str(folder), "is a folder")


def test_out_that_cannot_be_created_is_refused_before_solving(tmp_path: Path, invoke: Invoke, no_solve: None) -> None:
    path = _write(tmp_path, json.dumps(_valid()))
    blocker = _write(tmp_path, "not a folder", "file")
    _one_line(invoke("solve", str(path), "--out", str(blocker / "plan.json")), str(blocker), "not a folder")
    _one_line(invoke("demo", "--out", str(blocker)), str(blocker), "must be a folder")
    assert "not a folder" == blocker.read_text()


# --- 10. parameters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ('[cpsat]\nsubsolvers = ["bogus"]\n', "subsolver 'bogus'"),
        ('strategy = "flow"\n[cpsat]\nmax_deterministic_time = -1.0\n', "max_deterministic_time"),
        ("[tuning]\ndive = 3\n", "dive"),
        ("seed = -1\n", "seed"),
    ],
)
def test_the_whole_params_file_is_checked_up_front_naming_it(
    tmp_path: Path, invoke: Invoke, no_solve: None, text: str, part: str
) -> None:
    """Even where CP-SAT would never run (a flow-settled scenario), a bad passthrough is refused."""
    params = _write(tmp_path, text, "p.toml")
    with pytest.raises(placering.InvalidInputError) as caught:
        placering.SolveParams.from_file(params)
    assert str(params) == caught.value.file
    path = _write(tmp_path, json.dumps(_valid()))
    _one_line(invoke("solve", str(path), "--params", str(params)), str(params), part)


# --- 11. the Python API ------------------------------------------------------------------------


def test_solve_refuses_what_is_not_a_scenario() -> None:
    with pytest.raises(TypeError, match="read_scenario"):
        placering.solve("file.json")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="SolveParams"):
        placering.solve(placering.scenario_from_dict(_valid()), {"seed": 1})  # type: ignore[arg-type]


def _plan_dict() -> dict[str, Any]:
    return placering.plan_to_dict(placering.solve(placering.scenario_from_dict(_valid())))


@pytest.mark.parametrize(
    ("change", "entity", "field"),
    [
        (lambda p: p.update(assignments={"C1": "HV"}), "plan", "assignments"),
        (lambda p: p.update(unplaced="C2"), "plan", "unplaced"),
        (lambda p: p["assignments"].__setitem__(0, ["C1", "HV"]), "assignments[0]", ""),
        (lambda p: p["assignments"][0].update(km="far"), "assignments[0]", "km"),
        (lambda p: p["assignments"][0].update(cost_per_day=True), "assignments[0]", "cost_per_day"),
        (lambda p: p["assignments"][0].update(child=7), "assignments[0]", "child"),
        (lambda p: p["totals"].update(hvb=1.5), "totals", "hvb"),
        (lambda p: p.update(explanations=["C1"]), "plan", "explanations"),
        (lambda p: p.update(bounds={"cost": "low"}), "bounds", "cost"),
        (lambda p: p.update(format="placering.plan/9"), "plan", "format"),
    ],
)
def test_plan_from_dict_validates_like_scenario_from_dict(
    change: Callable[[dict[str, Any]], None], entity: str, field: str
) -> None:
    data = _plan_dict()
    change(data)
    with pytest.raises(placering.InvalidInputError) as caught:
        placering.plan_from_dict(data, file="plan.json")
    assert ("plan.json", entity, field) == (caught.value.file, caught.value.entity, caught.value.field)


def test_check_plan_refuses_entries_of_the_wrong_type() -> None:
    import attrs

    scenario = placering.scenario_from_dict(_valid())
    plan = placering.solve(scenario)
    bad = attrs.evolve(plan, assignments=(attrs.evolve(plan.assignments[0], km="far"),))
    with pytest.raises(placering.InvalidInputError) as caught:
        placering.check_plan(scenario, bad)
    assert ("assignments[0]", "km") == (caught.value.entity, caught.value.field)
    with pytest.raises(TypeError, match="Plan"):
        placering.check_plan(scenario, placering.plan_to_dict(plan))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Scenario"):
        placering.check_plan("s.json", plan)  # type: ignore[arg-type]


def test_generate_refuses_a_region_it_cannot_use() -> None:
    with pytest.raises(TypeError, match="Region"):
        placering.generate(42, children=5)  # type: ignore[arg-type]


# --- beyond the classes ------------------------------------------------------------------


def test_a_huge_bad_value_still_gives_a_short_line(tmp_path: Path, invoke: Invoke) -> None:
    """A value the size of a file (a 100 000-character id) is refused in a line of readable length."""
    data = _valid()
    data["children"][0]["id"] = "C" * 100_000
    result = invoke("solve", str(_write(tmp_path, json.dumps(data))))
    _one_line(result, "at most 200 characters")
    assert len(result.stderr) < 500


def test_the_cli_never_exits_1_on_user_input(tmp_path: Path, invoke: Invoke) -> None:
    """Every bad file above, through the command: 2, never 1."""
    texts = [
        _DUPLICATE_HOME, _DUPLICATE_LIST, _DUPLICATE_POLICY, "[" * 5000 + "]" * 5000, '{"a": 1e999}',
        json.dumps(_valid()).replace('"age": 15', '"age": 1e400'), "\ufeff{}", '{"region": "\\ud800"}', "null",
    ]
    for i, text in enumerate(texts):
        result = invoke("solve", str(_write(tmp_path, text, f"{i}.json")))
        assert 2 == result.returncode, (text[:80], result.stderr)


# --- 8. signals (real processes) -----------------------------------------------------------------


def _python(code: str, *args: str, env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}, **kwargs,
    )


def test_sigterm_while_the_plan_is_written_leaves_no_temporary_file(tmp_path: Path) -> None:
    """SIGTERM arriving while the plan file is being written: exit 143, one line, no temp file, no plan."""
    code = (
        "import os, pathlib, sys, time\n"
        "def stalled(fd):\n"
        "    pathlib.Path(sys.argv[1]).touch()\n"
        "    time.sleep(120)\n"
        "os.fsync = stalled\n"
        "from placering.cli import main\n"
        "sys.exit(main(sys.argv[2:]))\n"
    )
    flag, out = tmp_path / "writing", tmp_path / "out" / "plan.json"
    scenario = _write(tmp_path, json.dumps(_valid()))
    process = _python(code, str(flag), "solve", str(scenario), "--out", str(out))
    deadline = time.monotonic() + 120
    while not flag.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert flag.exists(), process.communicate()
    assert [p.name for p in out.parent.iterdir() if p.name.endswith(".tmp")]  # the write is under way

    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)

    _one_line(Outcome(process.returncode, stdout, stderr), "terminated", status=143)
    assert [] == list(out.parent.iterdir())


def test_sigint_during_start_up_prints_one_line(tmp_path: Path) -> None:
    """Ctrl-C while the command imports its modules: exit 130 and one line, not a traceback."""
    code = (
        "import os, signal, sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'placering.io':\n"
        "            os.kill(os.getpid(), signal.SIGINT)\n"
        "        return None\n"
        "sys.meta_path.insert(0, Interrupt())\n"
        "from placering.cli import main\n"  # what the installed script runs
        "sys.exit(main(sys.argv[1:]))\n"
    )
    process = _python(code, "solve", str(_write(tmp_path, json.dumps(_valid()))))
    stdout, stderr = process.communicate(timeout=120)
    _one_line(Outcome(process.returncode, stdout, stderr), "interrupted", status=130)


def test_an_interrupt_during_a_solve_exits_130(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import placering.cli

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(placering.cli, "solve_scenario", interrupted)
    out = tmp_path / "plan.json"
    scenario = _write(tmp_path, json.dumps(_valid()))
    _one_line(invoke("solve", str(scenario), "--out", str(out)), "interrupted", status=130)
    assert not out.exists()


# --- 12. terminals that cannot show å, ä, ö ------------------------------------------------------


def test_an_ascii_terminal_gets_the_summary_and_valid_json(tmp_path: Path) -> None:
    main = "import sys\nfrom placering.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    ascii_only = {"PYTHONIOENCODING": "ascii", "LC_ALL": "C"}

    demo = _python(main, "demo", "--children", "60", "--out", str(tmp_path / "demo"), env=ascii_only)
    stdout, stderr = demo.communicate(timeout=300)
    assert 0 == demo.returncode, stderr
    assert "Borl?nge" in stdout

    generate = _python(main, "generate", "--children", "20", env=ascii_only)
    stdout, stderr = generate.communicate(timeout=300)
    assert 0 == generate.returncode, stderr
    assert stdout.isascii()
    assert 20 == len(json.loads(stdout)["children"])


# --- the demo year: a national market ----------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_in_the_demo_year_only_children_no_home_could_take_stay_unplaced(seed: int) -> None:
    """With the national market, no child is unplaced for want of places: every unplaced child's
    explanation is a rule that excludes every home, or siblings whom no home suits together."""
    scenario = placering.generate(seed=seed)
    plan = placering.solve(scenario)
    assert plan.totals.unplaced <= 0.05 * len(scenario.children)
    for u in plan.unplaced:
        e = plan.explanations[u.child]
        assert e.rule not in ("full", "siblings", "objective", "tie"), e.text
    towns = {m.name for m in scenario.region.municipalities if m.population is None}
    assert {"Stockholm", "Göteborg", "Malmö"} <= towns
    assert not {c.municipality for c in scenario.children} & {m.code for m in scenario.region.municipalities
                                                               if m.population is None}


def test_the_benchmark_families_keep_the_market_they_were_recorded_with() -> None:
    from placering.synth import FAMILIES

    assert not any(f.calibration.national_market for f in FAMILIES.values())
    assert "dalarna" == placering.scenario_to_dict(placering.generate(family="dalarna", seed=1))["region"]


def test_the_demo_summary_says_what_unplaced_means_and_costs(invoke: Invoke, tmp_path: Path) -> None:
    from types import SimpleNamespace

    from placering import cli

    result = invoke("demo", "--out", str(tmp_path / "demo"))
    assert 0 == result.returncode, result.stderr
    assert "Unplaced means that no home of the scenario can take the child" in " ".join(result.stdout.split())
    priced = SimpleNamespace(policy=SimpleNamespace(costs_per_day=SimpleNamespace(unplaced=8000)))
    assert "8 000 kr per day that is 24 000 kr per day for 3" in cli._unplaced_note(priced, 3)  # type: ignore[arg-type]
