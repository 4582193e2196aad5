"""The recruitment plan (design.md section 9): evaluation on demand years, the population and
greedy baselines, the placering.recruitment/1 file and ``placering recruit --budget``.

The plan's optimum is checked here against :func:`_brute`, an exhaustive search by plain solves
(tests/test_recruitment_optimum.py checks it on many more drawn cases).
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import placering
from conftest import TEST_REGION, assert_one_line_error, profiles_file
from placering.exceptions import InvalidInputError
from placering.params import SolveParams
from placering.recruitment import (
    Profile,
    Recruitment,
    Summary,
    evaluate,
    fixed_totals,
    greedy_recruitment,
    population_recruitment,
    recruitment_plan,
    recruitment_to_dict,
)
from placering.recruitment import optimum as optimum_module
from placering.recruitment.decision import oere
from placering.result import Totals

PROFILES = (
    Profile(name="plain", kind="municipal", capacity=1, cost_per_day=700, recruitment_cost=100_000),
    Profile(name="teen", kind="municipal", capacity=1, min_age=13, max_age=20, cost_per_day=900,
            recruitment_cost=50_000),
)

POPULATIONS = {"A": 10_000, "B": 30_000, "C": 5_000}


def _region(populations: dict[str, int] | None = POPULATIONS) -> dict[str, Any]:
    region = copy.deepcopy(TEST_REGION)
    for m in region["municipalities"]:
        if populations is not None:
            m["population"] = populations[m["code"]]
    return region


def _year(make_scenario: Callable[..., placering.Scenario], ages: Sequence[tuple[str, int]],
          populations: dict[str, int] | None = POPULATIONS) -> placering.Scenario:
    """A demand year of the test region: an expensive consultant home in B and these children."""
    return make_scenario(
        homes=[{"id": "K1", "kind": "consultant", "municipality": "B", "capacity": 10, "cost_per_day": 3000}],
        children=[{"id": f"C{i}", "municipality": m, "age": age} for i, (m, age) in enumerate(ages, start=1)],
        region=_region(populations),
    )


@pytest.fixture
def years(make_scenario: Callable[..., placering.Scenario]) -> tuple[placering.Scenario, ...]:
    return (
        _year(make_scenario, [("A", 5), ("A", 14), ("B", 15), ("C", 3)]),
        _year(make_scenario, [("A", 8), ("C", 16), ("C", 17), ("B", 2)]),
    )


def _cost(scenario: placering.Scenario) -> float:
    return placering.yearly_cost(scenario, placering.solve(scenario, explain=False))


def _brute(
    years: Sequence[placering.Scenario],
    profiles: Sequence[Profile],
    budget: float,
    *,
    members: Iterable[str] | None = None,
    max_per_municipality: int = 5,
    params: SolveParams | None = None,
) -> optimum_module.Optimum:
    """Every affordable decision solved on every year; the lexicographically least summed
    totals, then the least spent, then the first in enumeration order."""
    chosen = tuple(members or years[0].region.codes)
    pairs = [(m, p) for m in chosen for p in profiles]
    objective = years[0].policy.effective_objective()
    start = time.perf_counter()
    best: Any = None
    for counts in itertools.product(range(max_per_municipality + 1), repeat=len(pairs)):
        spent = sum(c * oere(p.recruitment_cost) for c, (_, p) in zip(counts, pairs, strict=True))
        if spent > oere(budget):
            continue
        decision = Recruitment.of({(m, p.name): c for c, (m, p) in zip(counts, pairs, strict=True)}, chosen,
                                  profiles)
        plans = tuple(placering.solve(decision.apply(y, profiles), params, explain=False) for y in years)
        totals = Totals(**{k: sum(getattr(p.totals, k) for p in plans) for k in
                           ("unplaced", "hvb", "consultant", "split_siblings", "cost_per_day", "km")})
        key = (totals.vector(objective), spent)
        if best is None or key < best[0]:
            best = (key, decision, totals, plans)
    _, decision, totals, plans = best
    base = tuple(placering.solve(y, params, explain=False) for y in years)
    return optimum_module.Optimum(status="optimal", recruitment=decision, spent=decision.spent(profiles),
                                  totals=totals, bounds={}, plans=plans, base=base,
                                  seconds=time.perf_counter() - start)


# --- summary and population ---------------------------------------------------------------------


def test_summary_percentiles_are_numpys_linear_ones() -> None:
    summary = Summary.of([30.0, 0.0, 10.0, 20.0])
    assert (summary.mean, summary.p10, summary.p50, summary.p90) == pytest.approx((15.0, 3.0, 15.0, 27.0))
    one = Summary.of([7.0])
    assert (one.mean, one.p10, one.p50, one.p90) == (7.0, 7.0, 7.0, 7.0)


def test_population_baseline_splits_the_budget_by_population_and_caps_each_member(
    years: tuple[placering.Scenario, ...],
) -> None:
    # Shares of 1 Mkr: A 222 222 -> 2 homes, B 666 667 -> 6, capped at 5, C 111 111 -> 1.
    decision = population_recruitment(years[0], PROFILES, 1_000_000, ("A", "B", "C"), 5)
    assert decision.homes == (("A", "plain", 2), ("B", "plain", 5), ("C", "plain", 1))
    # Exactly at a home's price: 45 000 kr split 10:30:5 gives C exactly 5 000 kr.
    cheap = (Profile(name="cheap", kind="municipal", capacity=1, recruitment_cost=5_000),)
    assert population_recruitment(years[0], cheap, 45_000, ("A", "B", "C"), 5).homes == (
        ("A", "cheap", 2), ("B", "cheap", 5), ("C", "cheap", 1))
    assert population_recruitment(years[0], PROFILES, 99_999, ("B",), 5).homes == ()


def test_population_baseline_needs_every_members_population(make_scenario: Callable[..., placering.Scenario]) -> None:
    year = _year(make_scenario, [("A", 5)], populations=None)
    with pytest.raises(InvalidInputError, match="population") as caught:
        population_recruitment(year, PROFILES, 1_000_000, ("A", "B"), 5)
    assert caught.value.field == "population" and "'A'" in caught.value.entity


# --- evaluation -----------------------------------------------------------------------------------


def test_evaluation_is_plain_solves_and_does_not_depend_on_the_executor(
    years: tuple[placering.Scenario, ...],
) -> None:
    decisions = [Recruitment(homes=(("A", "plain", 1),)), Recruitment(homes=(("C", "teen", 2),)), Recruitment()]
    here = evaluate(decisions, years, PROFILES)
    with ThreadPoolExecutor(max_workers=2) as pool:
        there = evaluate(decisions, years, PROFILES, executor=pool)
    assert here == there
    for decision, evaluation in zip(decisions, here, strict=True):
        expected = [_cost(y) - _cost(decision.apply(y, PROFILES)) for y in years]
        assert evaluation.savings == pytest.approx(expected, abs=1e-6)
        assert evaluation.statuses == ("optimal", "optimal") and evaluation.proven
    assert here[0].savings[0] > 0  # one plain home in A takes a child out of the consultant home
    assert here[2].savings == (0.0, 0.0)
    # Two teen homes in C: year 2 has two teenagers in C, who fill both.
    assert here[1].outcomes[1].used == (2,)


def test_a_year_not_proven_optimal_keeps_its_status(
    years: tuple[placering.Scenario, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    import attrs

    solve_module = sys.modules["placering.solve"]

    real = solve_module.solve_and_start

    def unproven(scenario: placering.Scenario, *args: Any, **kwargs: Any) -> Any:
        plan, start = real(scenario, *args, **kwargs)
        return attrs.evolve(plan, status="feasible"), start

    monkeypatch.setattr(solve_module, "solve_and_start", unproven)
    (evaluation,) = evaluate([Recruitment(homes=(("A", "plain", 1),))], years, PROFILES)
    assert evaluation.statuses == ("feasible", "feasible") and not evaluation.proven


# --- greedy -----------------------------------------------------------------------------------------


def _hand_greedy(years: Sequence[placering.Scenario], profiles: Sequence[Profile], budget: float,
                 members: Sequence[str], cap: int) -> Recruitment:
    """Section 9's greedy written out plainly: every candidate solved on every year."""
    counts: dict[tuple[str, str], int] = {}
    left = oere(budget)

    def costs(c: dict[tuple[str, str], int]) -> list[int]:
        decision = Recruitment.of(c, members, profiles)
        return [oere(_cost(decision.apply(y, profiles))) for y in years]

    while True:
        now = costs(counts)
        best, best_pair = None, None
        for m in members:
            for p in profiles:
                if counts.get((m, p.name), 0) >= cap or oere(p.recruitment_cost) > left:
                    continue
                after = costs({**counts, (m, p.name): counts.get((m, p.name), 0) + 1})
                saving = sum(now) - sum(after)
                ratio = saving / oere(p.recruitment_cost)
                if saving > 0 and (best is None or ratio > best):
                    best, best_pair = ratio, (m, p)
        if best_pair is None:
            return Recruitment.of(counts, members, profiles)
        m, p = best_pair
        counts[m, p.name] = counts.get((m, p.name), 0) + 1
        left -= oere(p.recruitment_cost)


@pytest.mark.parametrize("budget", [0, 120_000, 300_000])
def test_greedy_equals_a_hand_rolled_greedy_of_plain_solves(
    years: tuple[placering.Scenario, ...], budget: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also where later rounds start each year from the chosen decision's plan (warm starts)."""
    solve_module = sys.modules["placering.solve"]
    real = solve_module.solve_and_start
    started: list[bool] = []

    def recorded(scenario: placering.Scenario, *args: Any, **kwargs: Any) -> Any:
        started.append(kwargs.get("start") is not None)
        return real(scenario, *args, **kwargs)

    monkeypatch.setattr(solve_module, "solve_and_start", recorded)
    members = ("A", "B", "C")
    expected = _hand_greedy(years, PROFILES, budget, members, 2)
    got = greedy_recruitment(years, PROFILES, budget, members, 2)
    assert got == expected
    assert got.spent(PROFILES) <= budget
    if budget == 300_000:
        assert got.total >= 2
        assert fixed_totals(years[0]) and any(started)  # the rounds after the first start warm


def test_greedy_takes_a_home_no_child_may_use_as_saving_nothing_without_a_solve(
    years: tuple[placering.Scenario, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    solve_module = sys.modules["placering.solve"]

    rare = (Profile(name="rare", kind="municipal", capacity=1, min_age=20, max_age=20, recruitment_cost=1),)
    real = solve_module.solve_and_start
    calls = []

    def counted(scenario: placering.Scenario, *args: Any, **kwargs: Any) -> Any:
        calls.append(scenario)
        return real(scenario, *args, **kwargs)

    monkeypatch.setattr(solve_module, "solve_and_start", counted)
    assert greedy_recruitment(years, rare, 1_000, ("A", "B", "C"), 2) == Recruitment()
    assert len(calls) == len(years)  # the base years only


# --- the plan and its file ------------------------------------------------------------------------


@pytest.mark.parametrize(("budget", "most"), [(150_000, 1), (300_000, 2), (0, 5)])
def test_the_optimum_is_the_exhaustive_searchs(years: tuple[placering.Scenario, ...], budget: float, most: int) -> None:
    best = optimum_module.optimal_recruitment(years, PROFILES, budget, members=["A", "C"],
                                              max_per_municipality=most)
    brute = _brute(years, PROFILES, budget, members=["A", "C"], max_per_municipality=most)
    objective = years[0].policy.effective_objective()
    assert best.status == "optimal"
    assert best.totals.vector(objective) == pytest.approx(brute.totals.vector(objective))
    assert best.spent == brute.spent
    for year, plan in zip(years, best.plans, strict=True):
        assert placering.check_plan(best.recruitment.apply(year, PROFILES), plan) == []


def test_plan_on_scenario_files_matches_the_training_years(
    years: tuple[placering.Scenario, ...],
) -> None:
    plan = recruitment_plan(years, PROFILES, 150_000, members=["A", "C"], max_per_municipality=1)
    data = recruitment_to_dict(plan)
    assert set(data) == {"format", "status", "budget", "spent", "homes", "training", "occupancy", "members",
                         "profiles", "max_per_municipality"}
    assert data["format"] == "placering.recruitment/1" and data["budget"] == 150_000
    assert data["spent"] <= 150_000 and data["members"] == ["A", "C"]
    training = data["training"]
    assert set(training) == {"years", "totals", "yearly_cost_mean", "yearly_saving_mean", "statuses"}
    with_homes = [_cost(plan.recruitment.apply(y, PROFILES)) for y in years]
    assert training["yearly_cost_mean"] == pytest.approx(sum(with_homes) / 2, abs=0.01)
    base = [_cost(y) for y in years]
    assert training["yearly_saving_mean"] == pytest.approx((sum(base) - sum(with_homes)) / 2, abs=0.01)
    assert [set(row) for row in data["occupancy"]] == [
        {"municipality", "profile", "count", "places", "mean_places_used"}] * len(data["homes"])
    assert json.loads(json.dumps(data)) == data


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"budget": -1.0}, "budget"),
        ({"budget": math.nan}, "budget"),
        ({"sample": 2}, "sample"),
        ({"holdout": -1}, "holdout"),
        ({"max_per_municipality": -1}, "max_per_municipality"),
        ({"baselines": ("greedy", "greedy")}, "baselines"),
        ({"baselines": ("median",)}, "baselines"),
    ],
)
def test_plan_refuses_bad_arguments_naming_the_field(
    years: tuple[placering.Scenario, ...], kwargs: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {"budget": 100_000.0} | kwargs
    budget = arguments.pop("budget")
    with pytest.raises(InvalidInputError) as caught:
        recruitment_plan(years, PROFILES, budget, **arguments)
    assert caught.value.field == field and caught.value.entity == "recruitment"


# --- the command ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plan") / "small.json"
    path.write_text(json.dumps(placering.scenario_to_dict(placering.generate("dalarna", seed=3, children=40))))
    return path


def test_recruit_budget_writes_the_file_the_report_reads(
    small_file: Path, tmp_path: Path, invoke: Callable[..., Any]
) -> None:
    out = tmp_path / "r.json"
    result = invoke("recruit", str(small_file), "--budget", "200000", "--sample", "2", "--holdout", "2",
                    "--members", "2080,2021,2062", "--out", str(out))
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert set(data) >= {"format", "status", "budget", "spent", "homes", "training", "holdout", "occupancy"}
    assert set(data) <= {"format", "status", "budget", "spent", "homes", "training", "holdout", "occupancy",
                         "bounds", "members", "profiles", "max_per_municipality"}
    assert data["training"]["years"] == 2 and data["holdout"]["years"] == 2
    assert set(data["holdout"]["yearly_saving"]) == {"mean", "p10", "p50", "p90"}
    assert set(data["holdout"]["baselines"]) == {"population", "greedy"}
    assert all("mean" in b for b in data["holdout"]["baselines"].values())
    assert data["spent"] <= 200_000
    assert {h["municipality"] for h in data["homes"]} <= {"2080", "2021", "2062"}
    assert [row.get("holdout_mean_places_used") is not None for row in data["occupancy"]] == [True] * len(
        data["homes"])
    plan, html = tmp_path / "plan.json", tmp_path / "report.html"
    assert invoke("solve", str(small_file), "--out", str(plan)).returncode == 0
    rendered = invoke("report", str(small_file), str(plan), "--recruitment", str(out), "--out", str(html))
    assert rendered.returncode == 0, rendered.stderr
    assert "Held-out years: 2" in html.read_text()
    shown = invoke("recruit", str(small_file), "--budget", "200000", "--sample", "2", "--holdout", "1",
                   "--members", "2080,2021,2062")
    assert shown.returncode == 0, shown.stderr
    assert "Recruitment plan" in shown.stdout and "Baseline greedy" in shown.stdout and "P90" in shown.stdout


@pytest.mark.parametrize(
    ("args", "parts"),
    [
        (["--budget", "-5"], ["--budget", "budget"]),
        (["--budget", "nan"], ["--budget", "nan"]),
        (["--budget", "100000", "--sample", "2", "@again"], ["--sample", "2 files"]),
        (["--budget", "100000", "--holdout", "-1"], ["--holdout"]),
        (["--budget", "100000", "--sample", "0"], ["--sample"]),
        (["--budget", "100000", "--max-per-municipality", "-1"], ["--max-per-municipality"]),
        (["--budget", "100000", "--marginal"], ["--budget"]),
        (["--budget", "100000", "--convert"], ["--budget"]),
        (["--marginal", "--sample", "2"], ["--sample", "--budget"]),
        (["--marginal", "@again"], ["one scenario file"]),
        (["--budget", "100000", "--holdout", "1", "--baselines", "greedy,median"], ["--baselines", "median"]),
        (["--budget", "100000", "--baselines", "greedy"], ["--baselines", "--holdout"]),
        (["--marginal", "--baselines", "greedy"], ["--baselines", "--budget"]),
        (["--budget", "1e5", "--profiles", {"name": "p", "kind": "municipal", "capacity": 1, "colour": "red"}],
         ["p.json", "unknown field 'colour'"]),
        (["--budget", "1e5", "--profiles", {"name": "p", "kind": "kin", "capacity": 1}], ["p.json", "kind"]),
    ],
)
def test_recruit_budget_bad_input_is_one_line_and_writes_nothing(
    small_file: Path, tmp_path: Path, invoke: Callable[..., Any], args: list[Any], parts: list[str]
) -> None:
    out = tmp_path / "out.json"
    argv = [
        profiles_file(tmp_path, a) if isinstance(a, dict) else str(small_file) if a == "@again" else a for a in args
    ]
    result = invoke("recruit", str(small_file), *argv, "--out", str(out))
    assert_one_line_error(result, *parts)
    assert not out.exists()


def test_the_held_out_check_weighs_only_the_baselines_asked_for(
    years: tuple[placering.Scenario, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    import placering.recruitment.plan as plan_module

    def no_greedy(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the greedy baseline was computed though not asked for")

    monkeypatch.setattr(plan_module, "greedy_recruitment", no_greedy)
    plan = recruitment_plan(years, PROFILES, 150_000, members=["A", "C"], sample=None, holdout=1,
                            baselines=("population",))
    data = recruitment_to_dict(plan)
    assert set(data["holdout"]["baselines"]) == {"population"}
    with pytest.raises(AssertionError, match="greedy"):
        recruitment_plan(years, PROFILES, 150_000, members=["A", "C"], holdout=1)
