"""Solver parameters: the CP-SAT passthrough, TOML files, the digest and the --params option."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from ortools.sat import sat_parameters_pb2
from ortools.sat.python import cp_model

import placering
from conftest import assert_one_line_error, run
from placering import InvalidInputError, SolveParams

FULL = SolveParams(
    time_limit=12.5,
    seed=7,
    workers=2,
    log=False,
    strategy="cp-sat",
    cpsat={"linearization_level": 0, "subsolvers": ["max_lp", "core"], "search_branching": "FIXED_SEARCH"},
)

FULL_TOML = """\
time_limit = 12.5
seed = 7
workers = 2
log = false
strategy = "cp-sat"

[cpsat]
linearization_level = 0
subsolvers = ["max_lp", "core"]
search_branching = "FIXED_SEARCH"
"""


def write(tmp_path: Path, text: str, name: str = "p.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def small(make_scenario: Callable[..., placering.Scenario]) -> placering.Scenario:
    """Four children and three homes with room for five: CP-SAT proves it in milliseconds."""
    return make_scenario(
        homes=[
            {"id": "M", "kind": "municipal", "municipality": "A", "capacity": 1},
            {"id": "S", "kind": "consultant", "municipality": "B", "capacity": 2},
            {"id": "V", "kind": "hvb", "municipality": "C", "capacity": 2},
        ],
        children=[{"id": f"C{i}", "municipality": "ABC"[i % 3], "age": 5 + i} for i in range(4)],
    )


# --- the class -----------------------------------------------------------------------------


def test_cpsat_is_frozen_and_equal_parameters_hash_equal() -> None:
    """Equal parameters (any key order, lists or tuples) are equal and hash equal; nothing can be changed."""
    other = SolveParams(
        time_limit=12.5,
        seed=7,
        workers=2,
        strategy="cp-sat",
        cpsat={"search_branching": "FIXED_SEARCH", "subsolvers": ("max_lp", "core"), "linearization_level": 0},
    )

    assert FULL == other
    assert hash(FULL) == hash(other)
    assert len({FULL, other, SolveParams()}) == 2
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        FULL.cpsat = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        FULL.cpsat["linearization_level"] = 2  # type: ignore[index]
    assert ("max_lp", "core") == FULL.cpsat["subsolvers"]


def test_cpsat_copies_the_given_mapping() -> None:
    """Changing the dict a SolveParams was built from leaves the parameters as they were."""
    given: dict[str, Any] = {"linearization_level": 1}
    params = SolveParams(cpsat=given)
    given["linearization_level"] = 2

    assert 1 == params.cpsat["linearization_level"]


@pytest.mark.parametrize(
    ("cpsat", "expected"),
    [
        ({"linearisation_level": 2}, "parameters: cpsat.linearisation_level is not a CP-SAT parameter"),
        ({"linearization_level": "2"}, "parameters: cpsat.linearization_level must be an integer, got '2'"),
        ({"linearization_level": True}, "parameters: cpsat.linearization_level must be an integer, got True"),
        ({"use_lns": 1}, "parameters: cpsat.use_lns must be true or false, got 1"),
        ({"max_deterministic_time": "1"}, "parameters: cpsat.max_deterministic_time must be a number, got '1'"),
        ({"log_prefix": 3}, "parameters: cpsat.log_prefix must be a string, got 3"),
        ({"subsolvers": "max_lp"}, "parameters: cpsat.subsolvers must be a list, got 'max_lp'"),
        ({"subsolvers": ["max_lp", 3]}, "parameters: cpsat.subsolvers must be a string, got 3"),
        ({"search_branching": "FASTEST"}, "parameters: cpsat.search_branching must be one of AUTOMATIC_SEARCH,"),
        ({"search_branching": 1}, "parameters: cpsat.search_branching must be one of"),
        ({"num_workers": 4}, "parameters: cpsat.num_workers is set by placering, use workers instead"),
        ({"num_search_workers": 4}, "parameters: cpsat.num_search_workers is set by placering, use workers instead"),
        ({"random_seed": 4}, "parameters: cpsat.random_seed is set by placering, use seed instead"),
        ({"max_time_in_seconds": 4.0}, "parameters: cpsat.max_time_in_seconds is set by placering, use time_limit"),
        ({"log_search_progress": True}, "parameters: cpsat.log_search_progress is set by placering, use log instead"),
        ({"subsolver_params": []}, "parameters: cpsat.subsolver_params cannot be set through placering"),
        (["linearization_level"], "parameters: cpsat must map CP-SAT parameter names to values"),
    ],
)
def test_cpsat_names_and_types_are_checked(cpsat: Any, expected: str) -> None:
    """A wrong name, a wrong type or a field placering owns fails at construction, naming the field."""
    with pytest.raises(InvalidInputError) as caught:
        SolveParams(cpsat=cpsat)

    assert str(caught.value).startswith(expected)
    assert caught.value.field.startswith("cpsat")
    assert "\n" not in str(caught.value)


def test_cpsat_accepts_every_kind_of_field() -> None:
    """Ints, floats (also given as ints), bools, strings, enums by name and repeated fields pass."""
    params = SolveParams(
        cpsat={
            "linearization_level": 2,
            "max_deterministic_time": 5,
            "relative_gap_limit": 0.01,
            "use_lns": False,
            "log_prefix": "x",
            "search_branching": "PORTFOLIO_SEARCH",
            "restart_algorithms": ["LUBY_RESTART", "NO_RESTART"],
            "subsolvers": [],
        }
    )

    assert 8 == len(params.cpsat)


# --- files, to_dict and digest -------------------------------------------------------------


def test_from_file_reads_what_to_dict_describes(tmp_path: Path) -> None:
    """A hand-written TOML file with to_dict's keys and values reads back as equal parameters."""
    assert {
        "time_limit": 12.5,
        "seed": 7,
        "workers": 2,
        "log": False,
        "strategy": "cp-sat",
        "cpsat": {"linearization_level": 0, "search_branching": "FIXED_SEARCH", "subsolvers": ["max_lp", "core"]},
    } == FULL.to_dict()

    params = SolveParams.from_file(write(tmp_path, FULL_TOML))

    assert FULL == params
    assert FULL.to_dict() == params.to_dict()
    assert FULL.digest() == params.digest()


def test_from_file_fills_missing_keys_with_the_defaults(tmp_path: Path) -> None:
    """An empty file is the default parameters; no time_limit means none, and to_dict leaves it out."""
    params = SolveParams.from_file(write(tmp_path, ""))

    assert SolveParams() == params
    assert {"seed": 0, "workers": 1, "log": False, "strategy": "flow", "cpsat": {}} == params.to_dict()
    assert 10.0 == SolveParams.from_file(write(tmp_path, "time_limit = 10\n")).time_limit


def test_tuning_reads_from_its_table_and_round_trips(tmp_path: Path) -> None:
    """A ``[tuning]`` table sets the pipeline's knobs, the rest keep their defaults; to_dict
    leaves tuning out at its defaults and writes it in full otherwise, and reads back equal."""
    text = "[tuning]\nbranch_budget = 10\ndive = false\n[tuning.first_arcs]\nhvb = 1\n"

    params = SolveParams.from_file(write(tmp_path, text))

    assert 10 == params.tuning.branch_budget
    assert not params.tuning.dive
    assert {"kin": 4, "municipal": 8, "consultant": 6, "hvb": 1} == dict(params.tuning.first_arcs)
    assert placering.Tuning().greedy_budget == params.tuning.greedy_budget
    assert "tuning" not in SolveParams().to_dict()
    assert SolveParams(**params.to_dict()) == params
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        params.tuning.dive = True  # type: ignore[misc]


def test_tuning_reaches_the_pipeline(small: placering.Scenario) -> None:
    """Knobs set in ``tuning`` change how stages are settled, never what they settle to."""
    default = placering.solve(small, SolveParams(), explain=False)
    priced = placering.solve(small, SolveParams(tuning=placering.Tuning(price_above=0)), explain=False)

    assert 0 == default.solver.pricing_rounds
    assert priced.solver.pricing_rounds > 0
    assert default.totals == priced.totals


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("time_limt = 10\n", ("parameters: unknown field 'time_limt'",)),
        ("[cpsat]\nlinearisation_level = 2\n", ("parameters: cpsat.linearisation_level is not a CP-SAT parameter",)),
        ("seed = '3'\n", ("parameters: seed must be an integer, got '3'",)),
        ("workers = 0\n", ("parameters: workers must be >= 1, got 0",)),
        ("strategy = 'fast'\n", ("parameters: strategy must be one of",)),
        ("cpsat = 3\n", ("parameters: cpsat must be a table, got 3",)),
        ("[cpsat]\nlinearization_level = 2.5\n", ("cpsat.linearization_level must be an integer, got 2.5",)),
        ("[cpsat]\nsubsolvers = 'max_lp'\n", ("cpsat.subsolvers must be a list",)),
        ("[cpsat]\nnum_workers = 8\n", ("cpsat.num_workers is set by placering, use workers instead",)),
        ("[cpsat]\nrandom_seed = 8\n", ("cpsat.random_seed", "use seed instead")),
        ("[cpsat]\nmax_time_in_seconds = 8\n", ("cpsat.max_time_in_seconds", "use time_limit instead")),
        ("[cpsat]\nlog_search_progress = true\n", ("cpsat.log_search_progress", "use log instead")),
        ("[cpsat.search_branching]\nx = 1\n", ("cpsat.search_branching must be one of",)),
        ("seed = \n", ("is not valid TOML", "line 1")),
        ("[cpsat]\n[cpsat]\n", ("is not valid TOML",)),
        ("tuning = 3\n", ("parameters: tuning must be a table, got 3",)),
        ("[tuning]\nbranch_budjet = 5\n", ("tuning: unknown field 'branch_budjet'",)),
        ("[tuning]\ngap_growth = 0\n", ("tuning: gap_growth must be >= 1, got 0",)),
        ("[tuning]\ndive = 1\n", ("tuning: dive must be",)),
        ("[tuning.first_arcs]\nkinship = 2\n", ("tuning: first_arcs.kinship is not a kind of home",)),
        ("[tuning.first_arcs]\nhvb = -1\n", ("tuning: first_arcs.hvb must be a whole number from 0",)),
    ],
)
def test_from_file_is_strict(tmp_path: Path, text: str, parts: tuple[str, ...]) -> None:
    """Unknown keys, wrong types, owned fields and bad TOML fail with one sentence naming the file and key."""
    path = write(tmp_path, text)

    with pytest.raises(InvalidInputError) as caught:
        SolveParams.from_file(path)

    message = str(caught.value)
    assert caught.value.file == str(path)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message
    for part in parts:
        assert part in message


@pytest.mark.parametrize(("name", "message"), [("missing.toml", "no such file"), (".", "is a directory, not a file")])
def test_from_file_reports_unreadable_files(tmp_path: Path, name: str, message: str) -> None:
    """A missing path or a directory is invalid input naming the path."""
    path = tmp_path / name

    with pytest.raises(InvalidInputError) as caught:
        SolveParams.from_file(path)

    assert f"{path}: {message}" == str(caught.value)


def test_digest_is_stable_and_tracks_every_value() -> None:
    """The digest is 12 hex digits, ignores key order and int/float spelling, and changes with any value."""
    digest = FULL.digest()

    assert 12 == len(digest)
    assert int(digest, 16) >= 0
    assert digest == attrs.evolve(FULL, cpsat=dict(reversed(list(FULL.to_dict()["cpsat"].items())))).digest()
    assert SolveParams(time_limit=10).digest() == SolveParams(time_limit=10.0).digest()
    assert "72a77b0a9abf" == SolveParams().digest()  # recorded by benchmarks: must not drift
    changed = [
        FULL.replace(time_limit=13),
        FULL.replace(seed=8),
        FULL.replace(workers=3),
        FULL.replace(log=True),
        FULL.replace(strategy="flow"),
        FULL.replace(cpsat={**FULL.cpsat, "linearization_level": 1}),
        FULL.replace(cpsat={**FULL.cpsat, "subsolvers": ["core", "max_lp"]}),
        attrs.evolve(FULL, time_limit=None),
        attrs.evolve(FULL, tuning=placering.Tuning(branch_budget=1)),
        attrs.evolve(FULL, tuning=placering.Tuning(first_arcs={"hvb": 1})),
    ]
    assert len({digest, *(p.digest() for p in changed)}) == len(changed) + 1


# --- reaching CP-SAT -----------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_cpsat_values_reach_the_solver(
    monkeypatch: pytest.MonkeyPatch, small: placering.Scenario, workers: int
) -> None:
    """Each CP-SAT call sees the user's values over placering's, and placering's own seed and workers."""
    seen: list[dict[str, Any]] = []

    class Recording(cp_model.CpSolver):
        def solve(self, model: cp_model.CpModel, *args: Any, **kwargs: Any) -> Any:
            sat = self.parameters
            seen.append(
                {
                    "subsolvers": list(sat.subsolvers),
                    "linearization_level": sat.linearization_level,
                    "use_lns": sat.use_lns,
                    "search_branching": int(sat.search_branching),
                    "random_seed": sat.random_seed,
                    "num_workers": sat.num_workers,
                }
            )
            return super().solve(model, *args, **kwargs)

    monkeypatch.setattr(cp_model, "CpSolver", Recording)
    cpsat = {
        "subsolvers": ["no_lp", "max_lp"],
        "linearization_level": 1,
        "use_lns": False,
        "search_branching": "PORTFOLIO_SEARCH",
    }
    # The time limit only guards the suite; the scenario is proven in milliseconds.
    params = SolveParams(seed=5, workers=workers, time_limit=60, strategy="cp-sat", cpsat=cpsat)

    plan = placering.solve(small, params, explain=False)

    assert seen
    for sat in seen:
        # subsolvers replaces placering's ["max_lp", "core"] (2 workers); linearization_level its 2 (1 worker).
        assert {**cpsat, "search_branching": sat_parameters_pb2.SatParameters.PORTFOLIO_SEARCH} == {
            k: v for k, v in sat.items() if k in cpsat
        }
        assert (5, workers) == (sat["random_seed"], sat["num_workers"])
    reference = placering.solve(small, SolveParams(strategy="cp-sat"), explain=False)
    assert ("optimal", reference.totals) == (plan.status, plan.totals)


@pytest.mark.parametrize("strategy", ["cp-sat", "flow"])
def test_cpsat_value_cp_sat_refuses_is_invalid_input(strategy: str) -> None:
    """A value of the right type that CP-SAT itself refuses (a negative budget) is refused up front,
    with CP-SAT's reason, whether or not a solve would ever call CP-SAT."""
    with pytest.raises(InvalidInputError, match="max_deterministic_time must be non-negative") as caught:
        SolveParams(strategy=strategy, cpsat={"max_deterministic_time": -1.0})

    assert "cpsat" == caught.value.field


# --- the command line ----------------------------------------------------------------------


def test_cli_solve_reads_the_params_file_and_explicit_options_win(tmp_path: Path, contract_dir: Path) -> None:
    """`solve --params` takes seed and workers from the file unless given on the command line."""
    case = contract_dir / "case-03.json"
    params = write(tmp_path, 'seed = 7\nworkers = 2\nstrategy = "cp-sat"\n[cpsat]\nlinearization_level = 1\n')

    result = run("solve", str(case), "--params", str(params), "--workers", "1", "--out", str(tmp_path / "plan.json"))

    assert result.returncode == 0, result.stderr
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert "optimal" == plan["status"]
    assert (7, 1) == (plan["solver"]["seed"], plan["solver"]["workers"])
    assert {"cp-sat"} == {stage["method"] for stage in plan["solver"]["by_stage"]}


def test_cli_solve_summary_with_params(tmp_path: Path, contract_dir: Path) -> None:
    """Without --out, solve --params prints the summary."""
    params = write(tmp_path, "time_limit = 60\n")

    result = run("solve", str(contract_dir / "case-03.json"), "--params", str(params))

    assert result.returncode == 0, result.stderr
    assert "Status: optimal" in result.stdout


@pytest.mark.parametrize("command", ["solve", "demo"])
@pytest.mark.parametrize(
    ("text", "part"), [("time_limt = 5\n", "unknown field 'time_limt'"), ("[cpsat]\nrandom_seed = 1\n", "use seed")]
)
def test_cli_bad_params_file_is_exit_2(tmp_path: Path, contract_dir: Path, command: str, text: str, part: str) -> None:
    """An invalid parameters file exits with status 2 and one line naming the file and the key, writing nothing."""
    params = write(tmp_path, text)
    args = [str(contract_dir / "case-03.json")] if command == "solve" else []

    result = run(command, *args, "--params", str(params), "--out", str(tmp_path / "out"))

    assert_one_line_error(result, str(params), part)
    assert not (tmp_path / "out").exists()


def test_cli_missing_params_file_is_exit_2(tmp_path: Path, contract_dir: Path) -> None:
    """A --params path that does not exist is invalid input naming the path."""
    missing = tmp_path / "nope.toml"

    result = run("solve", str(contract_dir / "case-03.json"), "--params", str(missing))

    assert_one_line_error(result, str(missing), "no such file")
