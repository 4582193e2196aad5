"""Match a synthetic Dalarna year and show the three most expensive placements, and why.

Run it with ``python examples/dalarna_matching.py [SCENARIO.json]``: without an argument it
generates the shipped synthetic Dalarna scenario; with one it reads that scenario file.
"""

from __future__ import annotations

import sys

import placering


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        scenario = placering.read_scenario(argv[1])
    else:
        scenario = placering.generate("dalarna", children=600, seed=1)
    plan = placering.solve(scenario, placering.SolveParams(seed=0, workers=1))

    problems = placering.check_plan(scenario, plan)
    if problems:  # the independent checker is the referee of every plan
        print("\n".join(str(p) for p in problems), file=sys.stderr)
        return 1

    t = plan.totals
    print(
        f"{len(scenario.children)} children: {t.hvb} in HVB, {t.consultant} in consultant homes, "
        f"{t.unplaced} unplaced; {t.cost_per_day:,.0f} kr per day ({plan.status}, {plan.solver.wall_s:.2f} s)."
    )
    newly_placed = [a for a in plan.assignments if not a.kept]
    expensive = sorted(newly_placed, key=lambda a: (-a.cost_per_day, a.child))[:3]
    for a in expensive:
        why = plan.explanations[a.child].text if a.child in plan.explanations else "a cheaper home suits best"
        print(f"- {a.child} in {a.kind} home {a.home}, {a.cost_per_day:,.0f} kr/day, {a.km:g} km: {why}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
