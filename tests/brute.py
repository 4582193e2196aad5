"""An independent brute-force reference for small scenarios.

It restates the placement rules of design.md section 2 from the text (it imports neither
``placering.eligibility`` nor ``placering.checks``), enumerates every plan that puts each
child who is not kept in its current home either in one home or unplaced, and returns the
lexicographically smallest totals vector in the order of ``policy.effective_objective()``.
Only the region's shortest-path distances (``scenario.region.km``) are taken from placering.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs

from placering import Scenario

#: The totals of each objective term, in the order of design.md section 2.
TERMS = ("unplaced", "hvb", "consultant", "split_siblings", "cost", "km")


@attrs.frozen
class BruteResult:
    """The optimal vector (in ``terms`` order), one optimal plan and how many plans were feasible."""

    terms: tuple[str, ...]
    vector: tuple[float, ...]
    home_of: dict[str, str]
    totals: dict[str, float]
    feasible_plans: int


def cost_per_day(scenario: Scenario, home: Any) -> float:
    """The home's own cost, else the policy's cost for its kind."""
    return home.cost_per_day if home.cost_per_day is not None else scenario.policy.costs_per_day[home.kind]


def limit_for(scenario: Scenario, child: Any, home: Any) -> float | None:
    """Rule 5: the child's ``max_km`` for municipal and consultant homes, else the policy's limit."""
    if child.max_km is not None and home.kind in ("municipal", "consultant"):
        return child.max_km
    return scenario.policy.max_km[home.kind]


def may_place(scenario: Scenario, child: Any, home: Any) -> bool:
    """Rules 1-6 for one child and one home."""
    policy = scenario.policy
    limit = limit_for(scenario, child, home)
    return (
        set(child.needs) <= set(home.competences)  # rule 1
        and home.min_age <= child.age <= home.max_age  # rule 2
        and child.care_level <= home.max_care_level  # rule 3
        and (home.kind != "kin" or child.id in home.reserved_for)  # rule 4
        and (limit is None or scenario.region.km(child.municipality, home.municipality) <= limit)  # rule 5
        and (policy.pooling != "isolated" or home.kind != "municipal" or home.owner == child.municipality)  # rule 6
    )


def totals(scenario: Scenario, home_of: dict[str, str]) -> dict[str, float]:
    """Every term's total for a plan; km and costs are summed as exact decimals."""
    homes = {h.id: h for h in scenario.homes}
    kinds: Counter[str] = Counter()
    km = Decimal(0)
    cost = Decimal(0)
    for child in scenario.children:
        home_id = home_of.get(child.id)
        if home_id is None:
            continue
        home = homes[home_id]
        kinds[home.kind] += 1
        km += Decimal(repr(scenario.region.km(child.municipality, home.municipality)))
        cost += Decimal(repr(cost_per_day(scenario, home)))
    groups: dict[str, set[str]] = {}
    for child in scenario.children:
        if child.sibling_group is not None:
            members_homes = groups.setdefault(child.sibling_group, set())
            if child.id in home_of:
                members_homes.add(home_of[child.id])
    return {
        "unplaced": sum(1 for c in scenario.children if c.id not in home_of),
        "hvb": kinds["hvb"],
        "consultant": kinds["consultant"],
        "split_siblings": sum(max(0, len(h) - 1) for h in groups.values()),
        "cost": float(cost),
        "km": float(km),
    }


def brute_force(scenario: Scenario) -> BruteResult:
    """The lexicographic optimum over every plan that satisfies rules 1-9."""
    policy = scenario.policy
    terms = tuple(policy.effective_objective())
    homes = list(scenario.homes)
    load: Counter[str] = Counter()
    fixed: dict[str, str] = {}
    free_children = []
    for child in scenario.children:
        if policy.keep_current and child.current_home is not None:  # rule 9
            fixed[child.id] = child.current_home
            load[child.current_home] += 1
        else:
            free_children.append(child)
    options = [[h for h in homes if may_place(scenario, c, h)] for c in free_children]
    together = policy.siblings == "together"

    best: list[Any] = [None, None, None]  # vector, home_of, totals
    count = 0
    chosen: dict[str, str | None] = {}

    def visit(k: int) -> None:
        nonlocal count
        if k == len(free_children):
            home_of = dict(fixed)
            home_of.update({c: h for c, h in chosen.items() if h is not None})
            count += 1
            t = totals(scenario, home_of)
            vector = tuple(t[term] for term in terms)
            if best[0] is None or vector < best[0]:
                best[0], best[1], best[2] = vector, home_of, t
            return
        child = free_children[k]
        choices: list[Any] = [None, *options[k]]
        if together and child.sibling_group is not None:
            # Rule 8: a sibling who was already decided fixes where the others go.
            decided = [chosen[c.id] for c in free_children[:k] if c.sibling_group == child.sibling_group]
            if decided:
                choices = [d for d in choices if (d.id if d is not None else None) == decided[0]]
        for home in choices:
            if home is not None and load[home.id] >= home.capacity:  # rule 7
                continue
            chosen[child.id] = None if home is None else home.id
            if home is not None:
                load[home.id] += 1
            visit(k + 1)
            if home is not None:
                load[home.id] -= 1
            del chosen[child.id]

    visit(0)
    return BruteResult(terms=terms, vector=best[0], home_of=best[1], totals=best[2], feasible_plans=count)


def same_vector(a: Sequence[float], b: Sequence[float], tol: float = 1e-6) -> bool:
    """Equal term by term, within ``tol`` (km may carry float round-off)."""
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=0, abs_tol=tol) for x, y in zip(a, b, strict=True))


def lex_leq(a: Sequence[float], b: Sequence[float], tol: float = 1e-6) -> bool:
    """``a <= b`` lexicographically, treating values within ``tol`` as equal."""
    for x, y in zip(a, b, strict=True):
        if math.isclose(x, y, rel_tol=0, abs_tol=tol):
            continue
        return x < y
    return True
