"""Recruitment benchmark (design.md section 9): the marginal table and the recruitment plan.

    python benchmarks/recruitment.py                          # demo year, both parts
    python benchmarks/recruitment.py --children 120 --plan-only
    python benchmarks/recruitment.py --years 20 --holdout 20 --budget 2000000 --time-limit 120

Prints, for the marginal table (15 x 5 variants, one worker), the wall time and the number of
variants proven; for the plan, the status, the homes, the time to the answer, the training
totals against today's, and on held-out years the mean yearly saving of the plan and of the
population and greedy baselines (``--holdout 0`` skips them). Figures go in
benchmarks/README.md ("Recruitment").
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import time

import placering
from placering.recruitment import default_profiles, marginal_values
from placering.recruitment.plan import RecruitmentPlan, recruitment_plan, recruitment_to_dict


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=600)
    parser.add_argument("--seed", type=int, default=1, help="the scenario's seed (the demo's is 1)")
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--holdout", type=int, default=20)
    parser.add_argument("--budget", type=float, default=2_000_000)
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--plan-only", action="store_true")
    parser.add_argument("--log", action="store_true", help="the library's progress on stderr")
    args = parser.parse_args(argv[1:])
    if args.log:
        logging.basicConfig(level=logging.INFO, format="%(relativeCreated)8d ms %(name)s %(message)s")
    scenario = placering.generate("dalarna", seed=args.seed, children=args.children)
    profiles = default_profiles()

    if not args.plan_only:
        began = time.perf_counter()
        table = marginal_values(scenario, profiles)
        proven = sum(r.outcome.status == "optimal" for r in table.rows)
        print(f"marginal table: {len(table.rows)} variants, {proven} proven, {time.perf_counter() - began:.1f} s")

    params = placering.SolveParams(time_limit=args.time_limit)
    began = time.perf_counter()
    plan = recruitment_plan(scenario, profiles, args.budget, sample=args.years, seed=args.seed,
                            holdout=args.holdout, params=params)
    seconds = time.perf_counter() - began
    best = plan.optimum
    today = sum(p.totals.consultant for p in best.base), sum(p.totals.hvb for p in best.base)
    print(f"plan: {best.status} in {best.seconds:.1f} s ({'priced' if best.priced else 'whole'} program, "
          f"{best.variables} variables, {best.pricing_rounds} pricing rounds, {best.arcs_priced_in} arcs priced in), "
          f"{best.recruitment.total} homes, {best.spent:.0f} kr, peak {peak_mb():.0f} MB")
    print(f"  homes: {best.recruitment.homes}")
    print(f"  training totals: {best.totals.to_dict()} (today consultant {today[0]}, hvb {today[1]})")
    if best.bounds:
        print(f"  bounds: {dict(best.bounds)}")
    print(f"  training mean yearly saving {plan.training.summary.mean:.0f} kr")
    if args.holdout:
        print(f"held out: {plan_summary(plan)}")
    print(f"all of recruitment_plan: {seconds:.1f} s")
    return 0


def plan_summary(plan: RecruitmentPlan) -> str:
    data = recruitment_to_dict(plan)
    held = data.get("holdout", {})
    saving = held.get("yearly_saving", {})
    base = held.get("baselines", {})
    return (f"plan mean {saving.get('mean')} (P10 {saving.get('p10')}, P90 {saving.get('p90')}), "
            f"population {base.get('population', {}).get('mean')}, greedy {base.get('greedy', {}).get('mean')}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
