"""Record a best-known file from a plan that ``placering solve`` proved optimal.

    python benchmarks/record_best.py FAMILY SEED SCENARIO.json PLAN.json [--best-known DIR]

For instances whose proof takes longer than a harness run can wait (national), the proof
comes from one ``placering solve`` on the scenario ``placering generate --family FAMILY
--seed SEED --inline-region`` wrote. This checks that the scenario is the one the generator
makes today, that the plan is ``optimal`` and passes ``check_plan`` on it, and then writes
``DIR/FAMILY-seedSEED.json`` as ``bench.py --record-best`` would (``measured`` gives the
plan's own wall seconds). A file that holds another proven optimum of the same scenario is
kept, and the exit status is 3. Exit status 2: bad input (a message names the file).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import HERE, now, write_best_known
from run_one import _version


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("family")
    parser.add_argument("seed", type=int)
    parser.add_argument("scenario", type=Path, help="the scenario file the plan solves")
    parser.add_argument("plan", type=Path, help="the plan file placering solve wrote")
    parser.add_argument("--best-known", type=Path, default=HERE / "best-known", help="folder of best-known totals")
    args = parser.parse_args(argv)

    import placering

    try:
        scenario = placering.read_scenario(args.scenario)
        plan = placering.read_plan(args.plan)
    except placering.PlaceringError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    sha = placering.scenario_digest(scenario)
    if sha != placering.scenario_digest(placering.generate(family=args.family, seed=args.seed)):
        print(f"error: {args.scenario}: not the scenario of family {args.family} seed {args.seed}", file=sys.stderr)
        return 2
    if plan.status != "optimal":
        print(f"error: {args.plan}: status is {plan.status}, not optimal", file=sys.stderr)
        return 2
    violations = placering.check_plan(scenario, plan)
    if violations:
        print(f"error: {args.plan}: check_plan finds {len(violations)} violations, the first: {violations[0]}",
              file=sys.stderr)
        return 2
    totals = plan.totals.to_dict()
    proven_by = f"placering {_version()} ({plan.solver.engine}), one `placering solve` run; plan checked by check_plan"
    measured = {"date": now(), "wall_s": plan.solver.wall_s, "config": "default", "batch": "placering solve"}
    disagreement = write_best_known(args.best_known, args.family, args.seed, sha, totals, proven_by, measured)
    if disagreement:
        print(f"disagreement: {disagreement}", file=sys.stderr)
        return 3
    print(args.best_known / f"{args.family}-seed{args.seed}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
