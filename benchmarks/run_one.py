"""Solve one benchmark instance with placering, in this process, and print one JSON line.

    python benchmarks/run_one.py FAMILY SEED [--params FILE.toml] [--time-limit S]
    python benchmarks/run_one.py FAMILY SEED --export ARCS.npz --no-solve

Generates ``placering.generate(family=FAMILY, seed=SEED)``, then times ``placering.solve``
end to end (model building, the lexicographic solve and the explanations), checks the plan
with ``placering.check_plan`` (a violation is a failure: exit status 1), and prints one JSON
line: status, totals, bounds, wall/build/solve seconds, peak RSS, versions, the parameters'
digest and the instance's sizes. Run it in a fresh process per solve, so the peak RSS is
this solve's (it includes the scenario itself, which the solve needs).

``--export`` writes the matching as arrays for ``peers.py`` (see ``export.py``); with
``--no-solve`` nothing else runs, so an export never inflates a solve's peak memory.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import attrs

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers import _rss_mib  # peers imports neither placering nor a solver when loaded


def params_digest(params: Any) -> str:
    """``SolveParams.digest()`` where it exists, else a SHA-256 of its fields."""
    if hasattr(params, "digest"):
        return str(params.digest())

    def plain(value: Any) -> Any:
        return dict(value) if hasattr(value, "items") else str(value)

    text = json.dumps(attrs.asdict(params), sort_keys=True, default=plain)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def load_params(path: Path | None) -> Any:
    import placering

    if path is None:
        return placering.SolveParams()
    if not hasattr(placering.SolveParams, "from_file"):
        raise SystemExit("error: this placering has no SolveParams.from_file; cannot read --params")
    return placering.SolveParams.from_file(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("family")
    parser.add_argument("seed", type=int)
    parser.add_argument("--params", type=Path, default=None, help="a SolveParams TOML file")
    parser.add_argument("--time-limit", type=float, default=None, help="overrides the parameters' time limit")
    parser.add_argument("--export", type=Path, default=None, help="write the arcs .npz for peers.py here")
    parser.add_argument("--no-solve", action="store_true", help="only generate (and export)")
    args = parser.parse_args(argv)

    import ortools

    import placering
    from placering.synth import FAMILIES

    if args.family not in FAMILIES:
        print(f"error: unknown family {args.family!r} (known: {', '.join(FAMILIES)})", file=sys.stderr)
        return 2
    if args.seed < 0:
        print(f"error: seed must be >= 0, got {args.seed}", file=sys.stderr)
        return 2
    try:
        params = load_params(args.params)
        if args.time_limit is not None:
            params = attrs.evolve(params, time_limit=args.time_limit)
    except placering.InvalidInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    record: dict[str, Any] = {
        "method": "placering",
        "family": args.family,
        "seed": args.seed,
        "placering_version": _version(),
        "ortools_version": ortools.__version__,
        "params_hash": params_digest(params),
        "params": params.to_dict() if hasattr(params, "to_dict") else attrs.asdict(params, value_serializer=_plain),
    }
    t0 = time.perf_counter()
    scenario = placering.generate(family=args.family, seed=args.seed)
    record |= {
        "generate_s": round(time.perf_counter() - t0, 4),
        "children": len(scenario.children),
        "homes": len(scenario.homes),
        "rss_after_generate_mib": _rss_mib(),
    }

    if args.export is not None:
        from export import export_arcs

        t0 = time.perf_counter()
        record["export"] = export_arcs(scenario, args.export)
        record["export_s"] = round(time.perf_counter() - t0, 4)
        record |= {k: record["export"][k] for k in ("units", "arcs")}
    if args.no_solve:
        record["scenario_sha256"] = placering.scenario_digest(scenario)
        record["peak_rss_mib"] = _rss_mib()
        print(json.dumps(record, sort_keys=True))
        return 0

    t0 = time.perf_counter()
    plan = placering.solve(scenario, params)
    outer = time.perf_counter() - t0
    peak = _rss_mib()  # before the checker, which is not part of the solve
    stats = plan.solver
    build_s = getattr(stats, "build_s", None)
    record |= {
        "status": plan.status,
        "totals": plan.totals.to_dict(),
        "bounds": dict(plan.bounds),
        "wall_s": stats.wall_s,
        "outer_s": round(outer, 4),
        "build_s": build_s,
        "solve_s": round(stats.wall_s - build_s, 4) if build_s is not None else None,
        "peak_rss_mib": peak,
        "units": stats.units,
        "arcs": stats.arcs,
        "stages": stats.stages,
        # The engine and how each stage was settled, as the results table shows them.
        "engine": f"{stats.engine} (stages by {', '.join(stage.method for stage in stats.by_stage) or 'none'})",
        "by_stage": [stage.to_dict() for stage in stats.by_stage],
        "progress": [point.to_dict() for point in stats.progress],
        "workers": stats.workers,
        "objective": list(scenario.policy.effective_objective()),
    }
    violations = placering.check_plan(scenario, plan)
    record["scenario_sha256"] = placering.scenario_digest(scenario)
    if violations:
        record["status"] = "check_failed"
        record["violations"] = [str(v) for v in violations[:20]]
        print(json.dumps(record, sort_keys=True))
        print(
            f"error: check_plan found {len(violations)} violations in {args.family} seed {args.seed}; "
            f"first: {violations[0]}",
            file=sys.stderr,
        )
        return 1
    print(json.dumps(record, sort_keys=True))
    return 0


def _plain(inst: Any, field: Any, value: Any) -> Any:
    return dict(value) if hasattr(value, "items") else value


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("placering")
    except PackageNotFoundError:
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
