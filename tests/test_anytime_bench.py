"""`benchmarks/anytime.py`: time-limited runs, their gaps per term, files and curve."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import anytime  # noqa: E402  (the benchmark scripts are not a package)


def test_gaps_are_relative_to_the_bound_and_none_where_proven() -> None:
    totals = {"unplaced": 102, "hvb": 10, "consultant": 0, "cost_per_day": 150.0, "km": 7.0}
    bounds = {"unplaced": 100, "consultant": 0, "km": 0}
    gaps = anytime.gaps(totals, bounds)
    assert gaps["unplaced"] == pytest.approx(0.02)
    assert gaps["hvb"] is None and gaps["cost_per_day"] is None  # proven: no bound reported
    assert gaps["consultant"] == 0.0
    assert gaps["km"] == float("inf")


def test_a_time_limited_run_writes_its_rows_files_and_curve(tmp_path: Path) -> None:
    """One small family under a short limit: a row per run with its status, time, memory and
    a gap per term, the JSON with the anytime curve, the CSV and the plot."""
    command = [sys.executable, str(BENCHMARKS / "anytime.py"), "--family", "dalarna", "--seeds", "1",
               "--limits", "30", "--out", str(tmp_path), "--plot"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert 0 == done.returncode, done.stderr
    runs = json.loads((tmp_path / "anytime-dalarna.json").read_text())["runs"]
    assert 1 == len(runs)
    run = runs[0]
    assert run["status"] == "optimal" and not run["error"]
    assert 0 < run["returned_s"] < 30 and run["peak_rss_mib"] > 0
    assert set(run["gaps"]) == set(anytime.TERMS) and all(g is None for g in run["gaps"].values())
    assert run["progress"] and all(p["bound"] <= p["value"] for p in run["progress"])
    rows = list(csv.DictReader((tmp_path / "anytime-dalarna.csv").open()))
    assert "1" == rows[0]["seed"] and "optimal" == rows[0]["status"]
    assert (tmp_path / "anytime-dalarna.png").stat().st_size > 0
    assert "| 1 | 30 s |" in done.stdout


def test_bad_limits_are_one_line_errors() -> None:
    for limits in ("0", "ten"):
        done = subprocess.run([sys.executable, str(BENCHMARKS / "anytime.py"), "--limits", limits],
                              capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
        assert 2 == done.returncode
        assert done.stderr.startswith("error: bad --limits") and 1 == len(done.stderr.strip().splitlines())
