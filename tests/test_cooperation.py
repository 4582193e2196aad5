"""Regional cooperation (design.md section 8): the coalition scenario, the cost game and its shares.

Games are built from real scenarios (small regions drawn by Hypothesis, the contract cases and a
generated Dalarna year), so every coalition value is a real optimal solve.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import placering
from conftest import assert_one_line_error, examples
from placering.cooperation import (
    Links,
    coalition_values,
    cooperate,
    cooperation_to_dict,
    nucleolus,
    pooled_yearly_cost,
    restrict,
)
from strategies import scenario_dicts

COOP_CASES = ("coop-01", "coop-02", "coop-03")

# --- small games from real scenarios ----------------------------------------------------------

NEEDS = ("npf", "trauma")


@st.composite
def town(draw: st.DrawFn, code: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Children and homes of one municipality: own family homes, a consultant home, maybe kin."""
    children: list[dict[str, Any]] = []
    for k in range(draw(st.integers(0, 4))):
        child: dict[str, Any] = {"id": f"{code}c{k}", "municipality": code, "age": draw(st.integers(0, 17))}
        needs = draw(st.lists(st.sampled_from(NEEDS), max_size=1, unique=True))
        if needs:
            child["needs"] = needs
        if draw(st.booleans()) and k < 2:
            child["sibling_group"] = f"{code}g"
        children.append(child)
    if sum("sibling_group" in c for c in children) == 1:  # a group of one is just a child
        for c in children:
            c.pop("sibling_group", None)
    homes: list[dict[str, Any]] = []
    for k in range(draw(st.integers(0, 2))):
        homes.append({
            "id": f"{code}h{k}", "kind": "municipal", "municipality": code, "capacity": draw(st.integers(0, 3)),
            "competences": draw(st.lists(st.sampled_from(NEEDS), max_size=2, unique=True)),
        })
    if draw(st.booleans()):
        homes.append({"id": f"{code}k", "kind": "consultant", "municipality": code,
                      "capacity": draw(st.integers(0, 2)), "competences": list(NEEDS)})
    if children and draw(st.booleans()):
        homes.append({"id": f"{code}kin", "kind": "kin", "municipality": code, "capacity": 1,
                      "reserved_for": [children[-1]["id"]]})
    return children, homes


def region(codes: str, roads: list[tuple[str, str, float]]) -> dict[str, Any]:
    return {
        "name": "game",
        "municipalities": [
            {"code": c, "name": f"{c}by", "lat": 60.0 + i / 10, "lon": 15.0, "population": 1000 * (i + 1)}
            for i, c in enumerate(codes)
        ],
        "roads": [{"from": a, "to": b, "km": km} for a, b, km in roads],
    }


def scenario_of(reg: dict[str, Any], parts: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]) -> Any:
    homes = [h for _, hs in parts for h in hs]
    children = [c for cs, _ in parts for c in cs]
    homes.append({"id": "HVB", "kind": "hvb", "municipality": reg["municipalities"][0]["code"], "capacity": 1,
                  "competences": list(NEEDS)})
    data = {"format": "placering.scenario/1", "region": reg, "homes": homes, "children": children}
    return placering.scenario_from_dict(data)


def renamed(part: tuple[list[dict[str, Any]], list[dict[str, Any]]], old: str, new: str) -> Any:
    """A municipality's children and homes copied to another: the mirror image."""
    text = json.dumps(part).replace(f'"{old}', f'"{new}')
    return tuple(json.loads(text))


@st.composite
def mirror_games(draw: st.DrawFn) -> Any:
    """A, B mirror images (A-C and B-C equally long), C drawn, D with nothing at all (a dummy)."""
    a = draw(town("A"))
    c = draw(town("C"))
    x, z = draw(st.sampled_from([30, 60, 100])), draw(st.sampled_from([40, 120]))
    reg = region("ABCD", [("A", "C", x), ("B", "C", x), ("A", "B", z), ("C", "D", 150)])
    return scenario_of(reg, [a, renamed(a, "A", "B"), c])


@st.composite
def split_games(draw: st.DrawFn) -> Any:
    """{A, B} and {C, D} 400 km apart: no child of one group may use an own home of the other."""
    parts = [draw(town(code)) for code in "ABCD"]
    reg = region("ABCD", [("A", "B", 40), ("C", "D", 50), ("B", "C", 400)])
    return scenario_of(reg, parts)


def game(scenario: Any, members: tuple[str, ...]) -> np.ndarray:
    """``values[mask] = v(S)`` over every coalition of ``members``."""
    n = len(members)
    values = np.zeros(1 << n)
    for mask, c in coalition_values(scenario, members, range(1, 1 << n)).items():
        values[mask] = c.yearly_cost
    return values


def brute_shapley(values: np.ndarray, n: int) -> list[float]:
    """The Shapley value as the mean marginal cost over every member order."""
    shares = [0.0] * n
    orders = list(itertools.permutations(range(n)))
    for order in orders:
        mask = 0
        for i in order:
            shares[i] += values[mask | 1 << i] - values[mask]
            mask |= 1 << i
    return [s / len(orders) for s in shares]


def shares_of(result: Any, method: str) -> list[float]:
    return [s.of(method) for s in result.shares]


KR = 1.0  # shares are compared to the krona

SETTINGS = settings(max_examples=examples(15), suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(mirror_games())
def test_shapley_efficiency_symmetry_and_dummy(scenario: Any) -> None:
    """Shares sum to v(N); mirror images A and B pay alike; D, with nothing, pays 0."""
    result = cooperate(scenario, ["A", "B", "C", "D"])
    shapley = dict(zip(result.members, shares_of(result, "shapley"), strict=True))
    for method in ("shapley", "population", "usage", "nucleolus"):
        assert math.isclose(sum(shares_of(result, method)), result.pooled, abs_tol=KR)
    assert shapley["A"] == pytest.approx(shapley["B"], abs=KR)
    assert shapley["D"] == pytest.approx(0.0, abs=KR)
    assert result.share("D").alone == 0.0


@SETTINGS
@given(split_games())
def test_shapley_additive_over_groups_that_share_no_home(scenario: Any) -> None:
    """With {A, B} and {C, D} unable to share any home, v is the sum of two games, and each
    member's Shapley share is its share in its own group's game."""
    whole = cooperate(scenario, ["A", "B", "C", "D"])
    assert Links.of(scenario, ("A", "B", "C", "D")).parts(0b1111) in ([0b0011, 0b1100], [0b0011, 0b0100, 0b1000],
                                                                       [0b0001, 0b0010, 0b1100],
                                                                       [0b0001, 0b0010, 0b0100, 0b1000])
    for group in (["A", "B"], ["C", "D"]):
        alone = cooperate(scenario, group)
        for share in alone.shares:
            assert whole.share(share.municipality).shapley == pytest.approx(share.shapley, abs=KR)


@SETTINGS
@given(mirror_games())
def test_exact_shapley_matches_the_formula_over_all_orders(scenario: Any) -> None:
    members = ("A", "B", "C", "D")
    values = game(scenario, members)
    result = cooperate(scenario, members)
    assert shares_of(result, "shapley") == pytest.approx(brute_shapley(values, 4), abs=KR)


def brute_nucleolus(values: np.ndarray, n: int) -> np.ndarray:
    """The textbook sequential LPs: minimise the largest free excess t, then fix every coalition
    whose excess cannot go below t (one LP per coalition), until none is free."""
    from placering._ortools import linear_minimum

    full = (1 << n) - 1
    bits = {m: np.array([(m >> i) & 1 for i in range(n)], dtype=float) for m in range(1, full + 1)}
    fixed = {full: float(values[full])}
    free = set(range(1, full))
    x = np.zeros(n)
    while free:
        order = sorted(free)
        a_ub = np.array([np.append(bits[m], -1.0) for m in order])
        b_ub = np.array([values[m] for m in order], dtype=float)
        a_eq = np.array([np.append(bits[m], 0.0) for m in fixed])
        b_eq = np.array(list(fixed.values()))
        c = np.zeros(n + 1)
        c[-1] = 1
        t = linear_minimum(c, a_ub, b_ub, a_eq, b_eq).objective
        pinned = np.vstack([a_eq, np.append(np.zeros(n), 1.0)])
        for m in order:
            cm = np.append(bits[m], 0.0)
            lowest = linear_minimum(cm, a_ub, b_ub + 0.0, pinned, np.append(b_eq, t)).objective - values[m]
            if lowest >= t - 1e-6:
                fixed[m] = float(values[m] + t)
                free.discard(m)
        x = linear_minimum(c, a_ub, b_ub, a_eq, b_eq).x[:n] if free else x
    a = np.array([bits[m] for m in fixed])
    solution, *_ = np.linalg.lstsq(a, np.array(list(fixed.values())), rcond=None)
    return np.asarray(solution)


@SETTINGS
@given(mirror_games())
def test_nucleolus_equals_the_textbook_lps_on_three_members(scenario: Any) -> None:
    members = ("A", "B", "C")
    values = game(scenario, members)
    assert nucleolus(values, 3) == pytest.approx(brute_nucleolus(values, 3), abs=KR)


@SETTINGS
@given(st.one_of(mirror_games(), split_games()))
def test_nucleolus_lies_in_the_core_whenever_the_core_is_not_empty(scenario: Any) -> None:
    from placering._ortools import linear_minimum

    members = ("A", "B", "C", "D")
    values = game(scenario, members)
    full = 15
    a_ub = np.array([[(m >> i) & 1 for i in range(4)] + [-1] for m in range(1, full)], dtype=float)
    least = linear_minimum(
        np.array([0, 0, 0, 0, 1.0]), a_ub, values[1:full], np.array([[1, 1, 1, 1, 0.0]]), values[[full]]
    ).objective
    result = cooperate(scenario, members)
    if least <= 0.5:  # the core is not empty
        assert result.core["nucleolus"].in_core
    assert result.core["nucleolus"].excess == pytest.approx(least, abs=KR)


# --- the contract cases and restrict -----------------------------------------------------------


@pytest.mark.parametrize("name", COOP_CASES)
def test_contract_case_values_shares_and_core(contract_dir: Path, name: str) -> None:
    scenario = placering.read_scenario(contract_dir / f"{name}.json")
    expected = json.loads((contract_dir / f"{name}.expected.json").read_text())
    data = cooperation_to_dict(cooperate(scenario, expected["members"]))

    got = {tuple(c["members"]): c["yearly_cost"] for c in data["coalitions"]}
    assert {tuple(c["members"]): c["yearly_cost"] for c in expected["coalitions"]} == pytest.approx(got, abs=KR)
    assert data["pooled"]["yearly_cost"] == pytest.approx(expected["pooled"], abs=KR)
    assert data["isolated"]["yearly_cost"] == pytest.approx(expected["isolated"], abs=KR)
    shares = {s["municipality"]: s for s in data["shares"]}
    for share in expected["shares"]:
        for key in ("alone", "shapley", "population", "nucleolus"):
            assert shares[share["municipality"]][key] == pytest.approx(share[key], abs=KR), (share, key)
    for method, check in expected["core"].items():
        assert data["core"][method]["in_core"] == check["in_core"]
        assert data["core"][method]["max_excess"] == pytest.approx(check["max_excess"], abs=KR)


def test_restrict_keeps_what_section_8_says(contract_dir: Path) -> None:
    """coop-03 for {C}: C's children, its kin home, every market home raised to 3 places, B's
    home HB cut to the one child of C kept in it, A's home gone, pooling pooled."""
    scenario = placering.read_scenario(contract_dir / "coop-03.json")
    scenario = attrs.evolve(scenario, policy=attrs.evolve(scenario.policy, pooling="isolated"))
    coalition = restrict(scenario, ["C"])
    assert [c.id for c in coalition.children] == ["c1", "c2", "c3"]
    homes = {h.id: h for h in coalition.homes}
    assert sorted(homes) == ["HB", "HV", "KB", "KIN1"]
    assert homes["HB"].capacity == 1
    assert homes["KB"].capacity == 3 and homes["HV"].capacity == 3
    assert homes["KIN1"].reserved_for == frozenset({"c1"})
    assert coalition.policy.pooling == "pooled"
    assert coalition.policy.costs_per_day.unplaced == 9000


def test_unknown_member_is_invalid_input(contract_dir: Path) -> None:
    scenario = placering.read_scenario(contract_dir / "coop-01.json")
    with pytest.raises(placering.InvalidInputError, match="'X'"):
        restrict(scenario, ["A", "X"])
    with pytest.raises(placering.InvalidInputError, match="samples"):
        cooperate(scenario, method="sampled", samples=0)


def test_negative_savings_are_reported_not_clipped(contract_dir: Path) -> None:
    """coop-01: B hosts A's child, so B's Shapley share is below zero and stays there."""
    result = cooperate(placering.read_scenario(contract_dir / "coop-01.json"))
    assert result.share("B").shapley < 0
    assert result.share("B").alone - result.share("B").shapley > result.share("B").alone


# --- sampled, and the sweep against plain solves -------------------------------------------------


@pytest.fixture(scope="module")
def dalarna() -> Any:
    return placering.generate("dalarna", children=120, seed=3)


def test_sampled_shapley_lies_within_three_standard_errors(contract_dir: Path) -> None:
    """Fixed seeds, so the test is deterministic: each sampled share within 3 SE of the exact one."""
    for name, seed in (("coop-03", 1), ("coop-02", 2), ("coop-01", 3)):
        scenario = placering.read_scenario(contract_dir / f"{name}.json")
        exact = cooperate(scenario, scenario.region.codes)
        sampled = cooperate(scenario, scenario.region.codes, method="sampled", samples=300, seed=seed)
        assert sum(shares_of(sampled, "shapley")) == pytest.approx(exact.pooled, abs=KR)
        for e, s in zip(exact.shares, sampled.shares, strict=True):
            assert abs(s.shapley - e.shapley) <= 3 * s.shapley_se + KR, (name, e, s)
        assert all(s.nucleolus is None for s in sampled.shares)
        assert sampled.core == {}


def test_sweep_values_equal_plain_solves_of_restrict(dalarna: Any) -> None:
    """v(S) from the sweep (parts solved once, added up) is a plain solve of restrict(S)."""
    members = placering.cooperation.default_members(dalarna)
    rng = np.random.default_rng(5)
    masks = sorted({int(m) for m in rng.integers(1, 1 << len(members), size=6)} | {(1 << len(members)) - 1})
    values = coalition_values(dalarna, members, masks)
    for mask in masks:
        codes = [c for i, c in enumerate(members) if mask >> i & 1]
        assert values[mask].yearly_cost == pytest.approx(pooled_yearly_cost(dalarna, codes), abs=0.01)
        assert values[mask].status == "optimal"
    whole = coalition_values(dalarna, members, masks, decompose=False)
    assert {m: c.yearly_cost for m, c in whole.items()} == pytest.approx({m: c.yearly_cost for m, c in values.items()})


@settings(max_examples=examples(60), suppress_health_check=[HealthCheck.too_slow])
@given(scenario_dicts(max_children=8, max_homes=6) | scenario_dicts(max_children=7, max_homes=5, decimals=True))
def test_every_shortcut_gives_the_plain_solve_of_restrict(data: dict[str, Any]) -> None:
    """Arcs masked from all members', one market arc per unit, settled units, parts added up:
    on random scenarios (kept children, kin homes, siblings, any policy), every coalition's value
    is the yearly cost of a plain solve of restrict(scenario, S)."""
    scenario = placering.scenario_from_dict(data)
    objective = scenario.policy.effective_objective()
    assume("cost" in objective and "unplaced" in objective)  # else v(S) depends on the tie-break
    members = scenario.region.codes
    values = coalition_values(scenario, members, range(1, 1 << len(members)))
    for mask, coalition in values.items():
        codes = [c for i, c in enumerate(members) if mask >> i & 1]
        assert coalition.yearly_cost == pytest.approx(pooled_yearly_cost(scenario, codes), abs=1e-6), codes


def test_process_pool_gives_the_same_game(dalarna: Any) -> None:
    from concurrent.futures import ProcessPoolExecutor

    members = ("2080", "2081", "2082", "2083")
    here = cooperate(dalarna, members)
    with ProcessPoolExecutor(max_workers=2) as pool:
        there = cooperate(dalarna, members, executor=pool)
    assert cooperation_to_dict(here) == cooperation_to_dict(there)


def test_dask_local_cluster_gives_the_same_game(dalarna: Any) -> None:
    """The --scheduler path on a real distributed.LocalCluster (threads, so it starts quickly)."""
    distributed = pytest.importorskip("distributed")
    from placering.sweep import executor_for

    members = ("2080", "2081", "2082")
    here = cooperate(dalarna, members)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster, executor_for(scheduler=cluster.scheduler_address) as executor:
        there = cooperate(dalarna, members, executor=executor)
    assert cooperation_to_dict(here) == cooperation_to_dict(there)


# --- the command ---------------------------------------------------------------------------------


def test_cooperate_writes_the_file(contract_dir: Path, tmp_path: Path, invoke: Callable[..., Any]) -> None:
    out = tmp_path / "c.json"
    result = invoke("cooperate", str(contract_dir / "coop-02.json"), "--members", "A,B,C,D", "--out", str(out))
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert data["format"] == "placering.cooperation/1"
    assert data["members"] == ["A", "B", "C", "D"] and data["method"] == "exact" and data["samples"] is None
    assert len(data["coalitions"]) == 15
    assert all(c["status"] == "optimal" for c in data["coalitions"])
    assert data["pooled"]["yearly_cost"] == 1460000.0
    assert sum(s["shapley"] for s in data["shares"]) == pytest.approx(1460000.0, abs=KR)
    assert all(s["shapley_se"] == 0.0 for s in data["shares"])
    assert data["core"]["shapley"]["worst"]["members"]


def test_cooperate_prints_the_table(contract_dir: Path, invoke: Callable[..., Any]) -> None:
    result = invoke("cooperate", str(contract_dir / "coop-03.json"))
    assert result.returncode == 0, result.stderr
    assert "Shapley" in result.stdout and "nucleolus" in result.stdout
    assert "not in the core" in result.stdout  # coop-03's Shapley allocation
    assert result.stderr == ""


def test_cooperate_on_processes_and_sampled(contract_dir: Path, tmp_path: Path, invoke: Callable[..., Any]) -> None:
    """--workers 2 writes the same file as one process; --method sampled gives standard errors."""
    case = str(contract_dir / "coop-03.json")
    one, two, sampled = tmp_path / "1.json", tmp_path / "2.json", tmp_path / "s.json"
    assert invoke("cooperate", case, "--out", str(one)).returncode == 0
    assert invoke("cooperate", case, "--workers", "2", "--out", str(two)).returncode == 0
    assert json.loads(one.read_text()) == json.loads(two.read_text())
    result = invoke("cooperate", case, "--method", "sampled", "--samples", "40", "--seed", "7", "--out", str(sampled))
    assert result.returncode == 0, result.stderr
    data = json.loads(sampled.read_text())
    assert (data["method"], data["samples"], data["seed"]) == ("sampled", 40, 7)
    assert all(s["nucleolus"] is None for s in data["shares"]) and data["core"] == {}
    assert any(s["shapley_se"] > 0 for s in data["shares"])


@pytest.mark.parametrize(
    ("args", "parts"),
    [
        (["--members", "A,Q"], ["'Q'", "members"]),
        (["--method", "sampled", "--samples", "0"], ["--samples"]),
        (["--samples", "5"], ["--samples"]),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], ["--scheduler"]),
    ],
)
def test_cooperate_bad_input_is_one_line_and_writes_nothing(
    contract_dir: Path, tmp_path: Path, invoke: Callable[..., Any], args: list[str], parts: list[str]
) -> None:
    out = tmp_path / "c.json"
    result = invoke("cooperate", str(contract_dir / "coop-01.json"), *args, "--out", str(out))
    assert_one_line_error(result, *parts)
    assert not out.exists()
