"""The benchmark harness: placering against the floor and its peers, on the benchmark families.

    python benchmarks/bench.py --families dalarna,county-xl --seeds 1-3 \\
        --peers mcf,highs,cpsat-naive [--params FILE.toml ...] [--out benchmarks/results] \\
        [--plot] [--update-readme] [--record-best]

For each family, seed and configuration (a ``--params`` file, or placering's defaults) it
runs ``run_one.py`` in a fresh process, then each peer (``peers.py``) in a fresh process on
the same arcs, exported once per instance by ``run_one.py --export --no-solve``. Every run
gets the family's time budget (60 s at Dalarna size, 300 s at county-xl size, 600 s at
national size; ``--budget`` overrides). One CSV row per run is appended to
``OUT/results.csv``; a summary table closes the run. See ``benchmarks/README.md`` for the
protocol and the columns.

Exit status: 0, 2 on bad command-line input, 3 when methods disagree on a proven optimum or a
bound (a bug somewhere), 1 on anything else.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEERS = ("mcf", "highs", "cpsat-naive")
#: Time budget per instance size: Dalarna-sized families (600 children), county-xl (3 000), national.
BUDGETS = ((1_000, 60.0), (10_000, 300.0), (math.inf, 600.0))
#: Plan totals in objective order, and the term each one reports.
TOTALS = ("unplaced", "hvb", "consultant", "cost_per_day", "km")
TERM_TOTAL = {"unplaced": "unplaced", "hvb": "hvb", "consultant": "consultant", "cost": "cost_per_day", "km": "km"}
COLUMNS = (
    "batch", "family", "seed", "children", "units", "arcs", "method", "config", "params_hash", "status",
    *TOTALS, "bound_term", "bound", "gap_term", "gap_to_best_known",
    "build_s", "solve_s", "total_s", "peak_rss_mib", "budget_s",
    "ortools_version", "solver_version", "timestamp", "note",
)
README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"


class UsageError(Exception):
    """Bad command-line input: reported as one line, exit status 2."""


# --- command line ---------------------------------------------------------------------------------


def parse_seeds(text: str) -> list[int]:
    """``"1-3"`` -> [1, 2, 3]; ``"1,4,7"`` and ``"1-3,9"`` too."""
    seeds: list[int] = []
    for raw in text.split(","):
        part = raw.strip()
        try:
            if "-" in part:
                low, high = (int(p) for p in part.split("-", 1))
                if low > high:
                    raise UsageError(f"bad seed range {part!r}: {low} > {high}")
                seeds.extend(range(low, high + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise UsageError(f"bad seed range {text!r}: expected e.g. 1-3 or 1,4,7 (non-negative integers)") from None
    if not seeds:
        raise UsageError(f"bad seed range {text!r}: no seeds")
    if len(set(seeds)) != len(seeds):
        raise UsageError(f"bad seed range {text!r}: a seed repeats")
    return seeds


def parse_list(text: str, known: Iterable[str], what: str) -> list[str]:
    known = list(known)
    items = [t.strip() for t in text.split(",") if t.strip()]
    for item in items:
        if item not in known:
            raise UsageError(f"unknown {what} {item!r} (known: {', '.join(known)})")
    if len(set(items)) != len(items):
        raise UsageError(f"a {what} repeats in {text!r}")
    return items


def budget_for(children: int) -> float:
    return next(seconds for upto, seconds in BUDGETS if children <= upto)


def parse_budgets(values: Sequence[str], families: Sequence[str], default_children: dict[str, int]) -> dict[str, float]:
    budgets = {f: budget_for(default_children[f]) for f in families}
    for value in values:
        name, _, seconds = value.rpartition("=")
        try:
            s = float(seconds)
        except ValueError:
            raise UsageError(f"bad --budget {value!r}: expected SECONDS or FAMILY=SECONDS") from None
        if not s > 0 or not math.isfinite(s):
            raise UsageError(f"bad --budget {value!r}: seconds must be > 0")
        if not name:
            budgets = dict.fromkeys(families, s)
        elif name not in budgets:
            raise UsageError(f"bad --budget {value!r}: family {name!r} is not in --families")
        else:
            budgets[name] = s
    return budgets


def load_configs(paths: Sequence[Path]) -> list[tuple[str, Path | None, float | None]]:
    """(name, file, time limit in the file) per configuration; placering's defaults without files."""
    if not paths:
        return [("default", None, None)]
    import placering

    configs = []
    for path in paths:
        if not path.is_file():
            raise UsageError(f"{path}: no such parameters file")
        if not hasattr(placering.SolveParams, "from_file"):
            raise UsageError("this placering has no SolveParams.from_file, so --params cannot be read")
        try:
            params = placering.SolveParams.from_file(path)
        except placering.InvalidInputError as error:
            raise UsageError(str(error)) from None
        configs.append((path.stem, path, params.time_limit))
    names = [name for name, _, _ in configs]
    if len(set(names)) != len(names):
        raise UsageError(f"two --params files share a name ({', '.join(names)}); the file name names the configuration")
    return configs


# --- subprocesses ---------------------------------------------------------------------------------


def run_json(command: list[str], timeout: float) -> tuple[dict[str, Any] | None, str]:
    """Run a worker; its last stdout line as JSON (or None) and a one-line note on failure."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=HERE.parent, check=False)
    except subprocess.TimeoutExpired:
        return None, f"killed after {timeout:.0f} s"
    record = None
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            # A last JSON line cut short (a killed run) leaves no record, like no line at all.
            with contextlib.suppress(json.JSONDecodeError):
                record = json.loads(line)
            break
    note = ""
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        note = f"exit {done.returncode}: {lines[-1] if lines else 'no message'}"[:300]
    return record, note


# --- rows -----------------------------------------------------------------------------------------


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _num(value: Any, digits: int = 4) -> Any:
    if value is None or value == "":
        return ""
    if isinstance(value, float):
        return round(value, digits)
    return value


def lex_gap(totals: dict[str, Any], best: dict[str, Any]) -> tuple[str, float | str]:
    """The first term (in objective order) where ``totals`` differs from ``best``, and the gap
    relative to ``max(|best|, 1)``; ("", 0.0) when they are equal on every term both have."""
    for key in TOTALS:
        if totals.get(key) in (None, "") or best.get(key) is None:
            continue
        value, ref = float(totals[key]), float(best[key])
        if abs(value - ref) > 1e-9:
            return key, (value - ref) / max(abs(ref), 1.0)
    return "", 0.0


def peer_totals(record: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """A peer's integer term values as plan totals: (kept children's part + value) / scale."""
    totals = record.get("totals") or {}
    out: dict[str, Any] = {}
    for term, value in totals.items():
        if term not in TERM_TOTAL:
            continue
        scale, offset = meta["term_scale"][term], meta["term_offset"][term]
        total = (offset + value) / scale
        out[TERM_TOTAL[term]] = int(total) if float(total).is_integer() else total
    return out


class Bench:
    """One invocation: its options, the rows it wrote and the disagreements it found."""

    def __init__(self, args: argparse.Namespace, families: list[str], seeds: list[int], peers: list[str],
                 configs: list[tuple[str, Path | None, float | None]], budgets: dict[str, float]) -> None:
        self.args = args
        self.families, self.seeds, self.peers, self.configs, self.budgets = families, seeds, peers, configs, budgets
        self.out: Path = args.out
        self.csv_path = self.out / "results.csv"
        self.batch = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        self.rows: list[dict[str, Any]] = []
        self.disagreements: list[str] = []
        self.python = args.python
        from rich.console import Console

        # Wide enough for the summary table when the output is a file or a pipe.
        self.console = Console(width=None if sys.stdout.isatty() else 150)

    # CSV: appended row by row, header checked once.
    def check_csv(self) -> None:
        if self.csv_path.exists() and self.csv_path.stat().st_size:
            with self.csv_path.open(newline="", encoding="utf-8") as handle:
                header = next(csv.reader(handle), [])
            if tuple(header) != COLUMNS:
                raise UsageError(f"{self.csv_path} has other columns than this harness writes; use another --out")

    def append(self, row: dict[str, Any]) -> None:
        row = {k: _num(row.get(k)) for k in COLUMNS}
        self.out.mkdir(parents=True, exist_ok=True)
        new = not self.csv_path.exists() or self.csv_path.stat().st_size == 0
        with self.csv_path.open("a", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            if new:
                writer.writeheader()
            writer.writerow(row)
            handle.flush()
            os.fsync(handle.fileno())
        self.rows.append(row)

    def best_known(self, family: str, seed: int) -> dict[str, Any] | None:
        path = self.args.best_known / f"{family}-seed{seed}.json"
        if not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    # One instance: export, placering per configuration, then the peers.
    def run_instance(self, family: str, seed: int, progress: Any, task: Any) -> None:
        budget = self.budgets[family]
        base = {"batch": self.batch, "family": family, "seed": seed, "budget_s": budget}
        hard = 2 * budget + 180  # generation and model building come on top of the budget
        meta: dict[str, Any] | None = None
        sha = None
        arcs_path = self.out / "arcs" / f"{family}-seed{seed}.npz"
        if self.peers:
            progress.update(task, description=f"{family} seed {seed}: export")
            record, note = run_json(
                [self.python, str(HERE / "run_one.py"), family, str(seed), "--export", str(arcs_path), "--no-solve"],
                hard,
            )
            progress.advance(task)
            if record is None or "export" not in record:
                self.warn(f"{family} seed {seed}: export failed ({note}); peers skipped")
            else:
                meta = record["export"] | {"children": record["children"]}
                sha = record["scenario_sha256"]
        # Rows wait until the instance is done, so that the gap can use an optimum proven in this run.
        pending: list[dict[str, Any]] = []
        exact: list[dict[str, Any]] = []  # rows with a plan, for the cross-checks
        placering_records: list[tuple[str, dict[str, Any]]] = []
        for name, path, file_limit in self.configs:
            progress.update(task, description=f"{family} seed {seed}: placering ({name})")
            limit = budget if file_limit is None else min(budget, file_limit)
            command = [self.python, str(HERE / "run_one.py"), family, str(seed), "--time-limit", str(limit)]
            if path is not None:
                command += ["--params", str(path)]
            record, note = run_json(command, hard)
            progress.advance(task)
            row = base | {"method": "placering", "config": name, "timestamp": now(), "note": note}
            if record is None:
                row["status"] = "error" if "killed" not in note else "killed"
                pending.append(row)
                self.warn(f"{family} seed {seed} placering ({name}): {note}")
                continue
            sha = sha or record.get("scenario_sha256")
            totals = record.get("totals") or {}
            bound_term, bound = "", ""
            for key in TOTALS:  # the first term placering did not prove
                if key in record.get("bounds", {}):
                    bound_term, bound = key, record["bounds"][key]
                    break
            row |= {
                "children": record.get("children"), "units": record.get("units"), "arcs": record.get("arcs"),
                "params_hash": record.get("params_hash"), "status": record.get("status"),
                **{k: totals.get(k, "") for k in TOTALS},
                "bound_term": bound_term, "bound": bound,
                "build_s": record.get("build_s"), "solve_s": record.get("solve_s"), "total_s": record.get("wall_s"),
                "peak_rss_mib": record.get("peak_rss_mib"), "ortools_version": record.get("ortools_version"),
                "solver_version": f"placering {record.get('placering_version')}: {record.get('engine')}",
            }
            if record.get("status") == "check_failed":
                self.disagree(f"{family} seed {seed} placering ({name}): check_plan failed: {record.get('violations')}")
            pending.append(row)
            exact.append(row)
            placering_records.append((name, record))

        for peer in self.peers:
            if meta is None:
                break
            progress.update(task, description=f"{family} seed {seed}: {peer}")
            record, note = run_json(
                [self.python, str(HERE / "peers.py"), peer, str(arcs_path), "--time-limit", str(budget)], hard
            )
            progress.advance(task)
            row = base | {
                "method": peer, "config": "", "children": meta["children"], "units": meta["units"],
                "arcs": meta["arcs"], "timestamp": now(), "note": note,
            }
            if record is None:
                row["status"] = "error" if "killed" not in note else "killed"
                pending.append(row)
                self.warn(f"{family} seed {seed} {peer}: {note}")
                continue
            totals = peer_totals(record, meta)
            bound = record.get("bound")
            build, solve = record.get("build_s"), record.get("solve_s")
            version = record.get("solver_version", "")
            row |= {
                "status": record.get("status"), **{k: totals.get(k, "") for k in TOTALS},
                "build_s": build, "solve_s": solve,
                "total_s": None if build is None or solve is None else build + solve,
                "peak_rss_mib": record.get("peak_rss_mib"),
                "ortools_version": version.split()[1] if version.startswith("ortools") else "",
                "solver_version": version,
            }
            if bound:
                term = bound["term"]
                value = (meta["term_offset"][term] + bound["value"]) / meta["term_scale"][term]
                row["bound_term"], row["bound"] = TERM_TOTAL[term], value
            if str(record.get("status", "")).startswith("error"):
                self.warn(f"{family} seed {seed} {peer}: {record['status']}")
                if "breaks" in str(record["status"]):
                    self.disagree(f"{family} seed {seed} {peer}: {record['status']}")
            pending.append(row)
            if peer == "mcf":
                self.check_floor(family, seed, record, meta, exact)
            elif totals:
                exact.append(row)
        self.cross_check(family, seed, exact)
        if self.args.record_best:
            self.record_best(family, seed, sha, placering_records, exact)
        best = self.best_known(family, seed)
        if best is not None and best.get("scenario_sha256") != sha:
            self.warn(f"{family} seed {seed}: the best-known file is for another scenario (generator changed?); no gap")
            best = None
        for row in pending:
            if best is not None and any(row.get(k) not in (None, "") for k in TOTALS):
                row["gap_term"], row["gap_to_best_known"] = lex_gap(row, best["totals"])
            self.append(row)
        if not self.args.keep_arcs:
            arcs_path.unlink(missing_ok=True)

    # --- consistency --------------------------------------------------------------------------------

    def cross_check(self, family: str, seed: int, rows: list[dict[str, Any]]) -> None:
        """Two proven optima must be equal, no plan may beat a proven optimum, and no proven
        optimum may fall below another method's certified bound."""

        def vec(row: dict[str, Any]) -> tuple[float, ...]:
            return tuple(float(row[k]) for k in TOTALS)

        def label(row: dict[str, Any]) -> str:
            return row["method"] + (f" ({row['config']})" if row["config"] else "")

        plans = [r for r in rows if all(r.get(k) not in (None, "") for k in TOTALS)]
        where = f"{family} seed {seed}"
        for i, a in enumerate(plans):
            if a["status"] != "optimal":
                continue
            for j, b in enumerate(plans):
                if i == j:
                    continue
                if b["status"] == "optimal":
                    if i < j and vec(a) != vec(b):
                        self.disagree(f"{where}: {label(a)} and {label(b)} both proved an optimum, but "
                                      f"{dict(zip(TOTALS, vec(a), strict=True))} != "
                                      f"{dict(zip(TOTALS, vec(b), strict=True))}")
                elif vec(b) < vec(a):
                    self.disagree(f"{where}: {label(b)}'s plan {vec(b)} beats {label(a)}'s proven optimum {vec(a)}")
            for b in rows:
                if b is a or not b.get("bound_term"):
                    continue
                k = TOTALS.index(b["bound_term"])
                same_before = all(
                    b.get(key) not in (None, "") and float(b[key]) == vec(a)[n] for n, key in enumerate(TOTALS[:k])
                )
                if same_before and vec(a)[k] < float(b["bound"]) - 1e-6:
                    self.disagree(f"{where}: {label(b)} bounds {b['bound_term']} >= {b['bound']}, "
                                  f"but {label(a)} proved {vec(a)[k]}")

    def check_floor(
        self, family: str, seed: int, record: dict[str, Any], meta: dict[str, Any], rows: list[dict[str, Any]]
    ) -> None:
        """The flow relaxation's optimum must not exceed any plan's first-stage value."""
        if record.get("status") != "relaxation":
            return
        floor = record["stage_value"]
        weights = dict(zip(meta["objective"], meta["stage_weights"], strict=True))
        for row in rows:
            if any(row.get(TERM_TOTAL[t]) in (None, "") for t, w in weights.items() if w):
                continue
            value = sum(
                w * (round(float(row[TERM_TOTAL[t]]) * meta["term_scale"][t]) - meta["term_offset"][t])
                for t, w in weights.items() if w
            )
            if value < floor:
                self.disagree(f"{family} seed {seed}: {row['method']}'s plan has first-stage value {value} "
                              f"below the flow relaxation's {floor}")

    def record_best(self, family: str, seed: int, sha: str | None, records: list[tuple[str, dict[str, Any]]],
                    rows: list[dict[str, Any]]) -> None:
        proven = [(name, r) for name, r in records if r.get("status") == "optimal"]
        if not proven or sha is None:
            return
        name, record = min(proven, key=lambda item: item[1]["wall_s"])
        totals = record["totals"]
        proven_by = f"placering {record.get('placering_version')} ({record.get('engine')})"
        highs = [r for r in rows if r["method"] == "highs" and r["status"] == "optimal"]
        if highs and all(float(highs[0][k]) == float(totals[k]) for k in TOTALS):
            proven_by += f"; confirmed by HiGHS ({highs[0]['solver_version']})"
        measured = {"date": now(), "wall_s": record["wall_s"], "config": name, "batch": self.batch}
        disagreement = write_best_known(self.args.best_known, family, seed, sha, totals, proven_by, measured)
        if disagreement:
            self.disagree(disagreement)

    def warn(self, text: str) -> None:
        self.console.print(f"[yellow]warning:[/] {text}", highlight=False)

    def disagree(self, text: str) -> None:
        self.disagreements.append(text)
        self.console.print(f"[bold red]DISAGREEMENT (a bug):[/] {text}", highlight=False)


# --- summaries ------------------------------------------------------------------------------------


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


BEST_KNOWN_KEYS = ("unplaced", "hvb", "consultant", "split_siblings", "cost_per_day", "km")


def write_best_known(folder: Path, family: str, seed: int, sha: str, totals: dict[str, Any], proven_by: str,
                     measured: dict[str, Any]) -> str | None:
    """Write ``FOLDER/FAMILY-seedSEED.json`` for a proven optimum; or, when that file already
    holds another proven optimum of the same scenario, keep it and return why."""
    path = folder / f"{family}-seed{seed}.json"
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        if old.get("scenario_sha256") == sha and any(float(old["totals"][k]) != float(totals[k]) for k in TOTALS):
            return (f"{family} seed {seed}: placering proved { {k: totals[k] for k in BEST_KNOWN_KEYS} }, "
                    f"but {path} holds the proven {old['totals']}; file kept")
    data = {
        "family": family,
        "seed": seed,
        "scenario_sha256": sha,
        "totals": {k: totals[k] for k in BEST_KNOWN_KEYS},
        "bound": {k: totals[k] for k in BEST_KNOWN_KEYS},
        "status": "optimal",
        "proven_by": proven_by,
        "measured": measured,
    }
    write_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")
    return None


def method_label(row: dict[str, Any]) -> str:
    if row["method"] != "placering":
        return row["method"]
    return "placering" if row["config"] in ("", "default") else f"placering:{row['config']}"


def _f(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Median time and memory per family and method, and placering's ratios to the peers.

    A method's time in a group counts as unproven (``proven`` false) when any of its runs
    did not end optimal (or, for mcf, as the relaxation); its median is then a lower bound
    on its time to a proof, and a ratio against it an upper bound.
    """
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row["family"], method_label(row))].append(row)
    order = {"placering": 0, "mcf": 2, "highs": 3, "cpsat-naive": 4}
    summary = []
    for (family, label), members in groups.items():
        times = [t for t in (_f(r["total_s"]) for r in members) if t is not None]
        rss = [m for m in (_f(r["peak_rss_mib"]) for r in members) if m is not None]
        statuses: dict[str, int] = defaultdict(int)
        for r in members:
            statuses[str(r["status"]).split(":")[0]] += 1
        summary.append({
            "family": family,
            "method": label,
            "children": statistics.median(int(r["children"]) for r in members if _f(r["children"]) is not None)
            if any(_f(r["children"]) is not None for r in members) else None,
            "runs": len(members),
            "seeds": sorted({int(r["seed"]) for r in members}),
            "status": ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())),
            "median_s": statistics.median(times) if times else None,
            "median_rss": statistics.median(rss) if rss else None,
            "proven": all(r["status"] in ("optimal", "relaxation") for r in members),
            "skipped": all(str(r["status"]).startswith("skipped") for r in members),
        })
    by_key = {(s["family"], s["method"]): s for s in summary}
    for s in summary:
        s["ratios"] = {}
        if not s["method"].startswith("placering") or s["median_s"] is None:
            continue
        for peer in PEERS:
            other = by_key.get((s["family"], peer))
            if other is None:
                continue
            if other["skipped"] or not other["median_s"]:
                s["ratios"][peer] = ("skipped" if other["skipped"] else "n/a", False)
                continue
            s["ratios"][peer] = (s["median_s"] / other["median_s"], s["proven"] and other["proven"])
    summary.sort(key=lambda s: (s["children"] or 0, s["family"], order.get(s["method"].split(":")[0], 1), s["method"]))
    return summary


def _ratio_text(value: tuple[Any, bool] | None) -> str:
    if value is None:
        return "-"
    ratio, exact = value
    if isinstance(ratio, str):
        return ratio
    text = f"{ratio:.0f}x" if ratio >= 100 else f"{ratio:.3g}x"
    return text + ("" if exact else " †")


def _secs(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def _mib(value: float | None) -> str:
    return "-" if not value else f"{value:.0f}"


def print_summary(summary: list[dict[str, Any]], console: Any) -> None:
    from rich.table import Table

    table = Table(title="Median per family and method (this run)")
    headers = ("family", "children", "method", "runs", "status", "median s", "median MiB", *(f"÷ {p}" for p in PEERS))
    for name in headers:
        table.add_column(name, justify="right" if name not in ("family", "method", "status") else "left")
    for s in summary:
        table.add_row(
            s["family"], str(int(s["children"])) if s["children"] is not None else "-", s["method"], str(s["runs"]),
            s["status"], _secs(s["median_s"]), _mib(s["median_rss"]),
            *(_ratio_text(s["ratios"].get(p)) if s["method"].startswith("placering") else "" for p in PEERS),
        )
    console.print(table)
    if any("†" in _ratio_text(v) for s in summary for v in s["ratios"].values()):
        console.print("† a run on one side did not prove its optimum within the budget: its time is a lower bound.")


def latest_batches(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of the most recent batch that ran each family (so ratios never mix batches)."""
    latest: dict[str, str] = {}
    for row in rows:
        if row["batch"] > latest.get(row["family"], ""):
            latest[row["family"]] = row["batch"]
    return [r for r in rows if r["batch"] == latest[r["family"]]]


def read_csv(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def machine() -> dict[str, str]:
    cpu = "unknown CPU"
    memory = "unknown RAM"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    except OSError:
        pass
    return {"platform": platform.platform(), "python": platform.python_version(), "cpu": cpu,
            "cpus": str(os.cpu_count()), "ram": memory}


def results_markdown(rows: list[dict[str, Any]], image: str | None) -> str:
    """The README's results section: one table per run of the suite, medians and ratios."""
    rows = latest_batches(rows)
    summary = summarise(rows)
    info = machine()
    batches = sorted({r["batch"] for r in rows})
    ortools = sorted({r["ortools_version"] for r in rows if r["method"] == "placering" and r["ortools_version"]})
    highs = sorted({r["solver_version"] for r in rows if r["method"] == "highs" and r["solver_version"]})
    budgets = sorted({(r["family"], r["budget_s"]) for r in rows})
    lines = [
        (
            f"Machine: {info['platform']}, {info['cpu']}, {info['cpus']} CPUs, {info['ram']} RAM; "
            f"Python {info['python']}. "
            f"Batches: {', '.join(batches)} (UTC). OR-Tools {', '.join(ortools) or '-'}; "
            f"{'; '.join(highs) or 'HiGHS not run'}. "
            "placering with one worker, HiGHS with one thread, naive CP-SAT with its defaults."
        ),
        "",
        "Budgets: " + ", ".join(f"{f} {float(b):.0f} s" for f, b in budgets) + ". "
        "Seeds: " + "; ".join(f"{family} {_seed_text(seeds)}" for family, seeds in _seeds_by_family(summary)) + ".",
        "",
        "| family | children | method | runs | status | median s | median peak MiB | "
        + " | ".join(f"placering ÷ {p}" for p in PEERS) + " |",
        "|---|---:|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for s in summary:
        ratios = [_ratio_text(s["ratios"].get(p)) if s["method"].startswith("placering") else "" for p in PEERS]
        lines.append(
            f"| {s['family']} | {int(s['children']) if s['children'] is not None else '-'} | {s['method']} | "
            f"{s['runs']} | "
            f"{s['status']} | {_secs(s['median_s'])} | {_mib(s['median_rss'])} | "
            + " | ".join(ratios) + " |"
        )
    if any("†" in _ratio_text(v) for s in summary for v in s["ratios"].values()):
        lines += ["", ("† a run on one side did not prove its optimum within the budget, so its time is a lower bound "
                       "on its time to a proof.")]
    if image:
        lines += ["", f"![median time against instance size, log-log]({image})"]
    return "\n".join(lines)


def _seeds_by_family(summary: list[dict[str, Any]]) -> list[tuple[str, list[int]]]:
    seeds: dict[str, set[int]] = {}
    for s in summary:
        seeds.setdefault(s["family"], set()).update(s["seeds"])
    return [(family, sorted(found)) for family, found in seeds.items()]


def _seed_text(seeds: list[int]) -> str:
    if seeds and seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 2:
        return f"{seeds[0]}-{seeds[-1]}"
    return ",".join(map(str, seeds))


def update_readme(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if README_START in text and README_END in text:
        head, rest = text.split(README_START, 1)
        _, tail = rest.split(README_END, 1)
        text = f"{head}{README_START}\n{section}\n{README_END}{tail}"
    else:
        text = f"{text.rstrip()}\n\n{README_START}\n{section}\n{README_END}\n"
    write_atomic(path, text)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Median total time against children, log-log, one line per method; hollow: not proven."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Median over every run of a method at a size (all Dalarna-sized families share x = 600).
    by_method: dict[str, dict[float, list[tuple[float, bool]]]] = defaultdict(lambda: defaultdict(list))
    for row in latest_batches(rows):
        seconds, children = _f(row["total_s"]), _f(row["children"])
        if seconds and children:
            by_method[method_label(row)][children].append((seconds, row["status"] in ("optimal", "relaxation")))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method, points in sorted(by_method.items()):
        xs = sorted(points)
        ys = [statistics.median(t for t, _ in points[x]) for x in xs]
        proven = [all(p for _, p in points[x]) for x in xs]
        (line,) = ax.plot(xs, ys, "-", label=method)
        colour = line.get_color()
        for x, y, ok in zip(xs, ys, proven, strict=True):
            ax.plot([x], [y], "o", color=colour, markerfacecolor=colour if ok else "white")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("children in the scenario")
    ax.set_ylabel("median time, build + solve (s)")
    ax.set_title("placering and peers (hollow: some run not proven within budget)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=120)


def save_figure(fig: Any, path: Path, *, dpi: int) -> None:
    """Write a matplotlib figure as a PNG atomically (never a half-written image), and close it."""
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp.png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        plt.close(fig)


# --- main -----------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", default="dalarna", help="comma-separated benchmark families (default dalarna)")
    parser.add_argument("--seeds", default="1-3", help="seeds, e.g. 1-3 or 1,4,7 (default 1-3)")
    parser.add_argument("--peers", default="mcf,highs,cpsat-naive", help="comma-separated peers, or 'none'")
    parser.add_argument("--params", type=Path, nargs="+", default=[], action="extend",
                        help="SolveParams TOML files; each is one configuration named by its file name")
    parser.add_argument("--budget", action="append", default=[], metavar="[FAMILY=]SECONDS",
                        help="time budget per run, for all families or one (repeatable)")
    parser.add_argument("--out", type=Path, default=HERE / "results",
                        help="results folder (default benchmarks/results)")
    parser.add_argument("--plot", action="store_true", help="write OUT/time-vs-size.png")
    parser.add_argument("--update-readme", action="store_true", help="rewrite the results section of the README")
    parser.add_argument("--readme", type=Path, default=HERE / "README.md", help="the README to update")
    parser.add_argument("--record-best", action="store_true", help="write proven optima to --best-known")
    parser.add_argument("--best-known", type=Path, default=HERE / "best-known", help="folder of best-known totals")
    parser.add_argument("--keep-arcs", action="store_true", help="keep the exported .npz files in OUT/arcs")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the worker processes")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        from placering.synth import FAMILIES

        families = parse_list(args.families, FAMILIES, "family")
        if not families:
            raise UsageError("--families is empty")
        seeds = parse_seeds(args.seeds)
        peers = [] if args.peers.strip() in ("", "none") else parse_list(args.peers, PEERS, "peer")
        configs = load_configs(args.params)
        budgets = parse_budgets(args.budget, families, {f: FAMILIES[f].children for f in families})
        bench = Bench(args, families, seeds, peers, configs, budgets)
        bench.check_csv()
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    console = bench.console
    per_instance = len(configs) + (len(peers) + 1 if peers else 0)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        task = progress.add_task("starting", total=len(families) * len(seeds) * per_instance)
        for family in families:
            for seed in seeds:
                bench.run_instance(family, seed, progress, task)
        progress.update(task, description="done")

    print_summary(summarise(bench.rows), console)
    console.print(f"rows appended to {bench.csv_path}")
    all_rows = read_csv(bench.csv_path)
    image = bench.out / "time-vs-size.png"
    if args.plot:
        plot(all_rows, image)
        console.print(f"plot written to {image}")
    if args.update_readme:
        link = os.path.relpath(image, args.readme.resolve().parent) if args.plot or image.exists() else None
        update_readme(args.readme, results_markdown(all_rows, link))
        console.print(f"results section of {args.readme} updated")
    if bench.disagreements:
        console.print(f"[bold red]{len(bench.disagreements)} disagreement(s); see above. This is a bug.[/]")
        for text in bench.disagreements:
            print(f"disagreement: {text}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
