"""The benchmark families (benchmarks/README.md) and their best-known optima."""

from __future__ import annotations

import functools
import json
import math
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

import placering
from conftest import Outcome
from placering.synth import county_xl_region, national_region

BEST_KNOWN = Path(__file__).resolve().parents[1] / "benchmarks" / "best-known"

#: Families small enough to solve in the test suite (the larger ones are the benchmark's job).
SMALL = ("dalarna", "siblings-heavy", "scarce", "kin-heavy")


@functools.cache
def _family(family: str, seed: int) -> placering.Scenario:
    """A family's scenario, drawn once per session: scenarios are frozen, so tests may share them."""
    return placering.generate(family=family, seed=seed)


def _share_in_groups(scenario: placering.Scenario) -> float:
    return sum(len(m) for m in scenario.sibling_groups.values()) / len(scenario.children)


def test_the_dalarna_family_is_the_plain_dalarna_generator() -> None:
    """Family "dalarna" draws exactly what generate() draws for Dalarna without the national
    market: the market its best-known optima were recorded with."""
    from placering.synth import Calibration, _draw

    recorded = _draw(placering.load_region("dalarna"), Calibration(national_market=False), 600, 3)
    assert placering.generate(family="dalarna", seed=3) == recorded
    assert placering.generate(family="dalarna", seed=3) != placering.generate(children=600, seed=3)


@pytest.mark.parametrize("family", SMALL)
def test_small_families_are_valid_and_deterministic(family: str) -> None:
    """Each small family draws 600 children, is the same for the same seed and survives a file round trip."""
    scenario = _family(family, 1)
    assert 600 == len(scenario.children)
    assert scenario == placering.generate(family=family, seed=1)  # drawn afresh: the same again
    assert scenario != _family(family, 2)
    assert scenario == placering.scenario_from_dict(placering.scenario_to_dict(scenario))


def test_families_differ_where_their_calibration_says() -> None:
    """siblings-heavy has about half its children in groups of 2-5, scarce about half the own
    places, kin-heavy about twice the kin homes of plain Dalarna."""
    base = placering.generate(family="dalarna", seed=4)
    heavy = placering.generate(family="siblings-heavy", seed=4)
    assert 0.4 <= _share_in_groups(heavy) <= 0.6
    assert {len(m) for m in heavy.sibling_groups.values()} <= {2, 3, 4, 5}
    assert 5 in {len(m) for m in heavy.sibling_groups.values()}

    def places(scenario: placering.Scenario, kind: str) -> int:
        return sum(h.capacity for h in scenario.homes if h.kind == kind)

    scarce = placering.generate(family="scarce", seed=4)
    assert 0.35 <= places(scarce, "municipal") / places(base, "municipal") <= 0.65
    kin = placering.generate(family="kin-heavy", seed=4)
    assert 1.8 <= Counter(h.kind for h in kin.homes)["kin"] / Counter(h.kind for h in base.homes)["kin"] <= 3.2


def test_an_unknown_family_or_a_family_with_a_region_is_invalid_input() -> None:
    """An unknown family name, or a family together with a region, is invalid input."""
    with pytest.raises(placering.InvalidInputError, match="not a benchmark family"):
        placering.generate(family="sweden", seed=1)
    with pytest.raises(placering.InvalidInputError, match="own region"):
        placering.generate(placering.load_region("dalarna"), family="scarce", seed=1)


def test_synthetic_regions_have_the_stated_shape() -> None:
    """National: 290 connected municipalities over about 450 000 km² with three big metro cores;
    county-xl: 40 connected municipalities."""
    national = national_region()
    assert 290 == len(national.municipalities)
    assert nx.is_connected(national.graph())
    lats = [m.lat for m in national.municipalities]
    lons = [m.lon for m in national.municipalities]
    height = (max(lats) - min(lats)) * 111.2
    width = (max(lons) - min(lons)) * 111.2 * math.cos(math.radians(sum(lats) / len(lats)))
    assert 300_000 <= height * width <= 520_000
    populations = sorted((m.population or 0 for m in national.municipalities), reverse=True)
    assert populations[2] >= 300_000 > populations[3]
    assert 40 == len(county_xl_region().municipalities)
    assert nx.is_connected(county_xl_region().graph())


def test_the_national_family_has_swedens_volumes() -> None:
    """National seed 1: 26 500 children, about 20 000 family homes and about 600 HVB units,
    children from every municipality, and a scenario file that stands alone."""
    scenario = placering.generate(family="national", seed=1)
    kinds = Counter(h.kind for h in scenario.homes)
    assert 26_500 == len(scenario.children)
    assert 17_000 <= kinds["kin"] + kinds["municipal"] + kinds["consultant"] <= 23_000
    assert 500 <= kinds["hvb"] <= 700
    assert 290 == len({c.municipality for c in scenario.children})
    assert isinstance(placering.scenario_to_dict(scenario)["region"], dict)


def test_generate_family_on_the_command_line(invoke: Callable[..., Outcome], tmp_path: Path) -> None:
    """`placering generate --family scarce --seed 2` writes the family's scenario; --family with
    --region exits 2 with one line."""
    out = tmp_path / "s.json"
    assert 0 == invoke("generate", "--family", "scarce", "--seed", "2", "--out", str(out)).returncode
    assert placering.read_scenario(out) == placering.generate(family="scarce", seed=2)
    result = invoke("generate", "--family", "scarce", "--region", "dalarna")
    assert 2 == result.returncode
    assert 1 == len(result.stderr.strip().splitlines())


def _best_known() -> list[Path]:
    return sorted(p for p in BEST_KNOWN.glob("*.json") if json.loads(p.read_text())["family"] in SMALL)


def test_there_are_best_known_files_for_every_small_family() -> None:
    """benchmarks/best-known holds a proven optimum for each small family."""
    assert set(SMALL) <= {json.loads(p.read_text())["family"] for p in _best_known()}


@pytest.mark.parametrize("path", _best_known(), ids=lambda p: p.stem)
def test_best_known_optima_are_reproduced(path: Path) -> None:
    """Each small family's best-known file names the scenario placering still generates, and
    placering proves exactly those totals again."""
    best = json.loads(path.read_text())
    scenario = _family(best["family"], best["seed"])
    assert best["scenario_sha256"] == placering.scenario_digest(scenario)
    plan = placering.solve(scenario, explain=False)
    assert "optimal" == plan.status
    assert [] == placering.check_plan(scenario, plan)
    assert best["totals"] == {
        "unplaced": plan.totals.unplaced,
        "hvb": plan.totals.hvb,
        "consultant": plan.totals.consultant,
        "split_siblings": plan.totals.split_siblings,
        "cost_per_day": plan.totals.cost_per_day,
        "km": plan.totals.km,
    }


def _record_best(*args: str) -> Any:
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "record_best.py"
    command = [sys.executable, str(script), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)


def test_a_plan_placering_solve_proved_becomes_the_best_known_file(
    invoke: Callable[..., Outcome], tmp_path: Path
) -> None:
    """`benchmarks/record_best.py` turns a `placering solve` proof into the same best-known
    totals as the harness's; it refuses another family's scenario, and keeps a file holding a
    different proven optimum of the same scenario (exit status 3)."""
    scenario, plan = tmp_path / "s.json", tmp_path / "p.json"
    generated = invoke("generate", "--family", "scarce", "--seed", "1", "--inline-region", "--out", str(scenario))
    assert 0 == generated.returncode
    assert 0 == invoke("solve", str(scenario), "--out", str(plan)).returncode
    folder = tmp_path / "best"
    done = _record_best("scarce", "1", str(scenario), str(plan), "--best-known", str(folder))
    assert 0 == done.returncode, done.stderr
    written = json.loads((folder / "scarce-seed1.json").read_text())
    committed = json.loads((BEST_KNOWN / "scarce-seed1.json").read_text())
    assert (committed["scenario_sha256"], committed["totals"]) == (
        written["scenario_sha256"], written["totals"]
    )
    assert "optimal" == written["status"]

    wrong = _record_best("scarce", "2", str(scenario), str(plan), "--best-known", str(folder))
    assert 2 == wrong.returncode
    assert 1 == len(wrong.stderr.strip().splitlines())

    written["totals"]["km"] += 1
    (folder / "scarce-seed1.json").write_text(json.dumps(written))
    kept = _record_best("scarce", "1", str(scenario), str(plan), "--best-known", str(folder))
    assert 3 == kept.returncode
    assert written == json.loads((folder / "scarce-seed1.json").read_text())
