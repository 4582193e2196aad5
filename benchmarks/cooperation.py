"""Sweep benchmark: exact Shapley over every coalition, in process, on local processes and on Dask.

    python benchmarks/cooperation.py                       # Dalarna demo year, 1 and 2 workers
    python benchmarks/cooperation.py --family siblings-heavy --workers 2
    python benchmarks/cooperation.py --dask --workers 2    # also on a distributed.LocalCluster
    python benchmarks/cooperation.py --coalitions 2000     # a random sample of coalitions only

For each run it prints the coalitions solved, the wall time, coalitions per second and the peak
resident memory of this process and of its workers (``ru_maxrss``), and checks that every run
gives the same shares to the krona. ``--coalitions N`` times ``v(S)`` on N random connected
coalitions instead of the full game (a quick estimate: the full game solves every connected one).
Figures go in benchmarks/README.md ("Cooperation sweeps").
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import nullcontext
from typing import Any

import placering
from placering.cooperation import Links, coalition_values, default_members


def peak_mb() -> tuple[float, float]:
    """Peak resident memory (MB) of this process and of its largest finished child."""
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return me, children


def scenario_of(args: argparse.Namespace) -> placering.Scenario:
    if args.scenario:
        return placering.read_scenario(args.scenario)
    if args.family:
        return placering.generate(family=args.family, seed=args.seed)
    return placering.generate("dalarna", children=600, seed=1)  # the file `placering demo` writes


def timed(label: str, work: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    value = work()
    seconds = time.perf_counter() - start
    print(f"{label}: {seconds:.1f} s", flush=True)
    return value, seconds


def run_full(scenario: placering.Scenario, executor: Executor | None) -> tuple[placering.Cooperation, float]:
    return timed("  cooperate", lambda: placering.cooperate(scenario, executor=executor))


def run_sample(scenario: placering.Scenario, count: int, executor: Executor | None, seed: int) -> float:
    members = default_members(scenario)
    links = Links.of(scenario, members)
    rng = random.Random(seed)
    masks: set[int] = set()
    while len(masks) < count:
        mask = rng.randrange(1, 1 << len(members))
        if links.part_of(mask) == mask:
            masks.add(mask)
    _, seconds = timed("  v(S)", lambda: coalition_values(scenario, members, sorted(masks), executor=executor))
    return seconds


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", help="a scenario file (default: the demo's Dalarna year)")
    parser.add_argument("--family", help="a benchmark family instead (siblings-heavy, ...)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="local process counts to run")
    parser.add_argument("--dask", action="store_true", help="also run on a distributed.LocalCluster")
    parser.add_argument("--coalitions", type=int, default=0, help="time this many random coalitions only")
    args = parser.parse_args(argv[1:])
    scenario = scenario_of(args)
    members = default_members(scenario)
    links = Links.of(scenario, members)
    connected = sum(links.part_of(m) == m for m in range(1, 1 << len(members)))
    print(f"{len(scenario.children)} children, {len(members)} members, {(1 << len(members)) - 1} coalitions, "
          f"{connected} connected (solved; the rest add up)")
    shares: list[Any] = []
    for workers in args.workers:
        print(f"{workers} worker(s):", flush=True)
        context = ProcessPoolExecutor(max_workers=workers) if workers > 1 else nullcontext()
        with context as pool:
            if args.coalitions:
                seconds = run_sample(scenario, args.coalitions, pool, args.seed)
                print(f"  {args.coalitions / seconds:.1f} coalitions/s; the full game would take about "
                      f"{connected / (args.coalitions / seconds) / 60:.1f} min")
            else:
                result, seconds = run_full(scenario, pool)
                shares.append([(s.shapley, s.nucleolus) for s in result.shares])
                print(f"  {connected / seconds:.1f} coalitions/s; pooled {result.pooled:,.0f} kr, "
                      f"isolated {result.isolated:,.0f} kr; Shapley in the core: {result.core['shapley'].in_core}")
        me, child = peak_mb()
        print(f"  peak memory: this process {me:.0f} MB, largest worker {child:.0f} MB", flush=True)
    if args.dask:
        from distributed import LocalCluster

        from placering.sweep import executor_for

        print("Dask LocalCluster (2 worker processes):", flush=True)
        with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, executor_for(
            scheduler=cluster.scheduler_address
        ) as executor:
            if args.coalitions:
                run_sample(scenario, args.coalitions, executor, args.seed)
            else:
                result, _ = run_full(scenario, executor)
                shares.append([(s.shapley, s.nucleolus) for s in result.shares])
    if len(shares) > 1:
        same = all(
            abs(a - b) <= 1.0 for run in shares[1:] for x, y in zip(shares[0], run, strict=True)
            for a, b in zip(x, y, strict=True) if a is not None and b is not None
        )
        print(f"same shares (to the krona) in every run: {same}")
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
