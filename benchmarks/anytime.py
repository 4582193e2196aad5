"""placering under time limits: what a plan is worth when the clock stops (issue #17).

    python benchmarks/anytime.py                                  # national, seeds 1-3, 60/120/600 s
    python benchmarks/anytime.py --family county-xl --seeds 4 --limits 10,30 --plot

Each (seed, limit) runs ``run_one.py FAMILY SEED --time-limit L`` in a fresh process (so the
peak RSS is that solve's) and records when the solve returned against its limit, the totals,
each term's certified bound and relative gap, the peak memory and the anytime curve (the
solver statistics' ``progress``: each term's value in the best plan held against its bound,
over time). Writes ``OUT/anytime-FAMILY.json`` (every record, curves included) and
``OUT/anytime-FAMILY.csv`` (one row per run), prints the table the README shows, and with
``--plot`` draws ``OUT/anytime-FAMILY.png``: per term, the gap against time of each seed's
longest run.

A term's gap is ``(value - bound) / bound``; a proven term has none. Terms after the first
one a solve did not prove are bounded only by what the kept children contribute (the order is
lexicographic), which is what their gap then measures.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench import UsageError, machine, now, parse_seeds, run_json, save_figure, write_atomic

TERMS = ("unplaced", "hvb", "consultant", "cost_per_day", "km")


def gaps(totals: dict[str, Any], bounds: dict[str, Any]) -> dict[str, float | None]:
    """Each term's relative gap to its certified bound; ``None`` where it is proven."""
    found: dict[str, float | None] = {}
    for term in TERMS:
        if term not in bounds:
            found[term] = None
            continue
        value, bound = float(totals[term]), float(bounds[term])
        found[term] = (value - bound) / bound if bound > 0 else (0.0 if value == 0 else float("inf"))
    return found


def run(family: str, seed: int, limit: float, python: str) -> dict[str, Any]:
    """One time-limited solve in its own process, as a record (``error`` on failure)."""
    # The worker generates the scenario first (national: about 15 s) and may overrun: wait long.
    record, note = run_json(
        [python, str(HERE / "run_one.py"), family, str(seed), "--time-limit", str(limit)], timeout=3 * limit + 300
    )
    row: dict[str, Any] = {"family": family, "seed": seed, "limit_s": limit, "measured": now()}
    if record is None:
        return row | {"error": note or "no record"}
    returned = float(record["outer_s"])
    return row | {
        "status": record["status"],
        "returned_s": returned,
        "over_limit": (returned - limit) / limit,
        "peak_rss_mib": record["peak_rss_mib"],
        "totals": record["totals"],
        "bounds": record["bounds"],
        "gaps": gaps(record["totals"], record["bounds"]),
        "progress": record.get("progress", []),
        "error": note,
    }


def _pct(value: float | None) -> str:
    if value is None:
        return "proven"
    return "∞" if value == float("inf") else f"{100 * value:.2f} %"


def markdown(rows: list[dict[str, Any]]) -> str:
    """The results as the README's table."""
    out = io.StringIO()
    out.write("| seed | limit | returned | status | peak RSS | " + " | ".join(TERMS) + " |\n")
    out.write("|---|---|---|---|---|" + "---|" * len(TERMS) + "\n")
    for row in rows:
        if "status" not in row:
            out.write(f"| {row['seed']} | {row['limit_s']:.0f} s | {row['error']} |" + " |" * (len(TERMS) + 2) + "\n")
            continue
        terms = " | ".join(
            f"{row['totals'][t]:,.0f} ({_pct(row['gaps'][t])})".replace(",", " ") for t in TERMS
        )
        out.write(
            f"| {row['seed']} | {row['limit_s']:.0f} s | {row['returned_s']:.0f} s ({100 * row['over_limit']:+.0f} %) "
            f"| {row['status']} | {row['peak_rss_mib'] / 1024:.1f} GiB | {terms} |\n"
        )
    return out.getvalue()


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    fields = ["family", "seed", "limit_s", "status", "returned_s", "over_limit", "peak_rss_mib", "measured", "error"]
    fields += [f"{t}" for t in TERMS] + [f"{t}_bound" for t in TERMS] + [f"{t}_gap" for t in TERMS]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        flat = dict(row)
        for t in TERMS:
            flat[t] = row.get("totals", {}).get(t)
            flat[f"{t}_bound"] = row.get("bounds", {}).get(t)
            flat[f"{t}_gap"] = (row.get("gaps") or {}).get(t)
        writer.writerow(flat)
    write_atomic(path, text.getvalue())


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Per term, the relative gap of the best plan held against time, each seed's longest run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    longest: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row.get("progress") and row["limit_s"] >= longest.get(row["seed"], {}).get("limit_s", 0):
            longest[row["seed"]] = row
    terms = [t for t in TERMS if any(p["term"] == t for r in longest.values() for p in r["progress"])]
    fig, axes = plt.subplots(1, max(1, len(terms)), figsize=(max(6.0, 3.2 * len(terms)), 3.6), squeeze=False)
    for ax, term in zip(axes[0], terms, strict=False):
        for seed, row in sorted(longest.items()):
            points = [p for p in row["progress"] if p["term"] == term]
            xs = [p["seconds"] for p in points]
            ys = [max((p["value"] - p["bound"]) / p["bound"] if p["bound"] > 0 else 0.0, 1e-5) * 100 for p in points]
            ax.step(xs, ys, where="post", marker=".", label=f"seed {seed} ({row['limit_s']:.0f} s)")
        ax.set_yscale("log")
        ax.set_title(term, fontsize=10)
        ax.set_xlabel("seconds into the solve")
        ax.axhline(1.0, color="grey", lw=0.8, ls="--")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("gap to certified bound (%; 0 drawn at 0.001)")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"{rows[0]['family']}: best plan held against its bound (dashed: 1 %)", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", default="national")
    parser.add_argument("--seeds", default="1-3", help="e.g. 1-3 or 1,4 (default 1-3)")
    parser.add_argument("--limits", default="60,120,600", help="time limits in seconds (default 60,120,600)")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="folder for anytime-FAMILY.{json,csv,png}")
    parser.add_argument("--plot", action="store_true", help="draw OUT/anytime.png")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the worker processes")
    args = parser.parse_args(argv)
    try:
        seeds = parse_seeds(args.seeds)
        limits = [float(x) for x in args.limits.split(",")]
        if any(x <= 0 for x in limits):
            raise UsageError(f"bad --limits {args.limits!r}: every limit must be above 0")
    except ValueError:
        print(f"error: bad --limits {args.limits!r}: expected seconds such as 60,120", file=sys.stderr)
        return 2
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    rows = []
    for seed in seeds:
        for limit in limits:
            rows.append(run(args.family, seed, limit, args.python))
            print(markdown(rows[-1:]).splitlines()[-1], flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    name = f"anytime-{args.family}"
    write_atomic(args.out / f"{name}.json", json.dumps({"machine": machine(), "runs": rows}, indent=1) + "\n")
    write_csv(rows, args.out / f"{name}.csv")
    if args.plot:
        plot(rows, args.out / f"{name}.png")
    print(markdown(rows))
    return 1 if any(row.get("error") for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
