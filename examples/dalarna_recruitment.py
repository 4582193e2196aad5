"""What one more family home is worth in each Dalarna municipality, which consultant homes
to take back into own management, and what to recruit for 2 Mkr.

Run it with ``python examples/dalarna_recruitment.py [SCENARIO.json] [--workers N] [--years N]``:
without a file it generates the demo's synthetic Dalarna year (600 children, seed 1). It prints
the ten largest yearly savings of one more home of each shipped profile (design.md section 9)
in each municipality, the ten consultant homes of the county whose conversion into an own home
at 1 200 kr a day saves the most, and the recruitment plan for a 2 Mkr budget over ``--years``
demand years drawn for the scenario's homes (default 20; ``--budget`` another budget), weighed on as many held-out years
against the population and greedy baselines. Every row is an exact solve of its variant; on the
demo year the tables take a few minutes on two processes (CI runs it on a generated year of 120
children with fewer years).
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor

import placering
from placering.recruitment import RecruitmentPlan, conversions, default_profiles, marginal_values, recruitment_plan

TOP = 10

#: The recruitment plan's budget, kr.
BUDGET = 2_000_000


def mkr(amount: float) -> str:
    return f"{amount / 1e6:7.2f}"


def signed(change: float) -> str:
    return f"{change:+.0f}" if change else "0"


def print_plan(scenario: placering.Scenario, plan: RecruitmentPlan, budget: float) -> None:
    optimum = plan.optimum
    print(f"\nRecruitment for {mkr(budget).strip()} Mkr over {len(plan.training.outcomes)} demand years "
          f"({optimum.status}): {mkr(optimum.spent).strip()} Mkr spent, {optimum.seconds:.0f} s")
    print(f"{'municipality':<15}{'profile':<14}{'homes':>6}{'places':>7}{'used':>6}{'used held out':>14}")
    for row in plan.occupancy:
        held = "-" if row.holdout_mean_places_used is None else f"{row.holdout_mean_places_used:.1f}"
        print(f"{scenario.region.name_of(row.municipality):<15}{row.profile:<14}{row.count:>6}{row.places:>7}"
              f"{row.mean_places_used:>6.1f}{held:>14}")
    print(f"Training: mean yearly saving {mkr(plan.training.summary.mean).strip()} Mkr.")
    if plan.holdout is not None:
        s = plan.holdout.plan.summary
        print(f"Held out ({plan.holdout.years} years): mean {mkr(s.mean).strip()} Mkr, P10 {mkr(s.p10).strip()}, "
              f"P50 {mkr(s.p50).strip()}, P90 {mkr(s.p90).strip()}.")
        for name, evaluation in plan.holdout.baselines.items():
            mean = mkr(evaluation.summary.mean).strip()
            print(f"  baseline {name}: {evaluation.recruitment.total} homes, mean {mean} Mkr")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", help="a placering.scenario/1 file (default: the demo year)")
    parser.add_argument("--workers", type=int, default=2, help="local processes solving the variants")
    parser.add_argument("--years", type=int, default=20, help="demand years drawn for the plan, and held out")
    parser.add_argument("--budget", type=float, default=BUDGET, help="kr to spend on recruiting (default 2 Mkr)")
    args = parser.parse_args(argv[1:])
    scenario = placering.read_scenario(args.scenario) if args.scenario else placering.generate("dalarna", seed=1)
    county = [code for code in scenario.region.codes if code.startswith("20")]  # Dalarna's SCB codes

    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        table = marginal_values(scenario, default_profiles(), executor=pool)
        taken_back = conversions(scenario, 1200.0, members=county, executor=pool)
        plan = recruitment_plan(scenario, default_profiles(), args.budget, sample=args.years, holdout=args.years,
                                seed=1, executor=pool)

    print(f"Base: {mkr(table.base.yearly_cost).strip()} Mkr a year. One more home, the {TOP} largest savings:")
    print(f"{'municipality':<15}{'profile':<14}{'unplaced':>9}{'HVB':>5}{'consult.':>9}{'Mkr/year':>9}")
    for row in table.rows[:TOP]:
        c = row.change
        print(f"{scenario.region.name_of(row.municipality):<15}{row.profile:<14}{signed(c['unplaced']):>9}"
              f"{signed(c['hvb']):>5}{signed(c['consultant']):>9}{mkr(row.yearly_saving):>9}")
    print(f"\nConsultant homes in the county taken back at 1 200 kr a day ({len(taken_back.rows)} in all), "
          f"the {TOP} largest savings:")
    print(f"{'home':<10}{'municipality':<15}{'consult.':>9}{'Mkr/year':>9}")
    for conversion in taken_back.rows[:TOP]:
        print(f"{conversion.home:<10}{scenario.region.name_of(conversion.municipality):<15}"
              f"{signed(conversion.change['consultant']):>9}{mkr(conversion.yearly_saving):>9}")
    print_plan(scenario, plan, args.budget)
    unproven = sum(r.outcome.status != "optimal" for r in (*table.rows, *taken_back.rows))
    unproven += plan.status != "optimal"
    if unproven:
        print(f"{unproven} variants were not proven optimal", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
