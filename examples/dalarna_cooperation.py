"""Thirteen Dalarna municipalities pool their own family homes: who gains what, and is it fair?

Run it with ``python examples/dalarna_cooperation.py [SCENARIO.json] [--workers N]``: without a
file it generates the demo's synthetic Dalarna year (600 children, seed 1). Which 13 of the 15
signed the Falun declaration is not public (domain.md section 4.4); this example leaves out Säter
and Vansbro, two of the three that declined to fund Dala Ungdom in 2006-07, as a planning premise.
It prints every member's yearly cost alone and its share of the pooled cost under each method,
and whether the Shapley allocation is in the core (no group of members would rather leave).
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor

import placering

#: Every Dalarna municipality but Säter (2082) and Vansbro (2021).
MEMBERS = ("2023", "2026", "2029", "2031", "2034", "2039", "2061", "2062", "2080", "2081", "2083", "2084", "2085")


def mkr(amount: float) -> str:
    return f"{amount / 1e6:8.2f}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", help="a placering.scenario/1 file (default: the demo year)")
    parser.add_argument("--workers", type=int, default=2, help="local processes solving coalitions")
    args = parser.parse_args(argv[1:])
    scenario = placering.read_scenario(args.scenario) if args.scenario else placering.generate("dalarna", seed=1)

    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        result = placering.cooperate(scenario, MEMBERS, executor=pool)

    print(f"{len(result.members)} members, {len(result.coalitions)} coalitions solved, Mkr per year.")
    print(f"{'municipality':<14}{'alone':>9}{'Shapley':>9}{'pop.':>9}{'usage':>9}{'nucl.':>9}{'gain':>9}")
    for share in result.shares:
        name = scenario.region.name_of(share.municipality)
        cells = [share.alone, share.shapley, share.population or 0.0, share.usage, share.nucleolus or 0.0]
        gain = share.alone - share.shapley
        print(f"{name:<14}" + "".join(f"{mkr(x):>9}" for x in cells) + f"{mkr(gain):>9}")
    print(f"Isolated {mkr(result.isolated).strip()} Mkr, pooled {mkr(result.pooled).strip()} Mkr: "
          f"pooling saves {mkr(result.saving).strip()} Mkr a year.")
    for method, check in result.core.items():
        group = ", ".join(scenario.region.name_of(code) for code in check.worst)
        if check.in_core:
            print(f"{method:>10}: in the core (largest excess {check.excess:,.0f} kr).")
        else:
            print(f"{method:>10}: NOT in the core: {group} would pay {check.excess:,.0f} kr less on their own.")
    if not result.core["nucleolus"].in_core:  # the nucleolus minimises the largest excess
        print("The core is empty: no sharing keeps every group of members from doing better alone.")

    shapley = result.core["shapley"]
    if abs(sum(s.shapley for s in result.shares) - result.pooled) > 1.0:  # efficiency, to the krona
        print("Shapley shares do not add up to the pooled cost", file=sys.stderr)
        return 1
    print(f"Shapley allocation in the core: {'yes' if shapley.in_core else 'no'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
