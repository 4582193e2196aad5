"""Rules 1-6 of design.md section 2: which homes may take which child.

:func:`eligible_homes` yields the sparse child-home arcs without looking at every pair: homes
are indexed by kind and municipality, and a child only meets the homes in municipalities
within its distance limit. :func:`exclusion` names the first rule that excludes one pair.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterator

from placering.children import Child
from placering.homes import Home
from placering.policy import KINDS
from placering.scenario import Scenario

__all__ = ["RULES", "distance_limit", "eligible", "eligible_homes", "exclusion"]

#: The rules of design.md section 2, in order.
RULES = ("needs", "age", "care_level", "kin", "distance", "pooling")


def distance_limit(scenario: Scenario, child: Child, kind: str) -> float | None:
    """Rule 5: the child's own ``max_km`` for municipal and consultant homes, else the policy's."""
    if child.max_km is not None and kind in ("municipal", "consultant"):
        return child.max_km
    return scenario.policy.max_km[kind]


def exclusion(scenario: Scenario, child: Child, home: Home) -> str | None:
    """The first of rules 1-6 that forbids placing ``child`` in ``home``, or ``None``."""
    if not child.needs <= home.competences:
        return "needs"
    if not home.min_age <= child.age <= home.max_age:
        return "age"
    if child.care_level > home.max_care_level:
        return "care_level"
    if home.kind == "kin" and child.id not in home.reserved_for:
        return "kin"
    limit = distance_limit(scenario, child, home.kind)
    if limit is not None and scenario.km_between(child, home) > limit:
        return "distance"
    if scenario.policy.pooling == "isolated" and home.kind == "municipal" and home.owner != child.municipality:
        return "pooling"
    return None


def eligible(scenario: Scenario, child: Child, home: Home) -> bool:
    return exclusion(scenario, child, home) is None


class _HomeIndex:
    """Homes by kind and municipality, and municipalities sorted by distance from each other."""

    def __init__(self, scenario: Scenario) -> None:
        region = scenario.region
        self.by_place: dict[str, dict[str, list[int]]] = {kind: defaultdict(list) for kind in KINDS}
        self.by_owner: dict[str, list[int]] = defaultdict(list)
        self.kin_for: dict[str, list[int]] = defaultdict(list)
        for j, h in enumerate(scenario.homes):
            if h.kind == "kin":
                for cid in h.reserved_for:
                    self.kin_for[cid].append(j)
            else:
                self.by_place[h.kind][h.municipality].append(j)
            if h.kind == "municipal":
                self.by_owner[h.owner].append(j)
        places = {h.municipality for h in scenario.homes}
        origins = {c.municipality for c in scenario.children}
        # For each origin, the home municipalities by rising distance, for a bisect on the limit.
        self.ring: dict[str, tuple[list[float], list[str]]] = {}
        for a in origins:
            ordered = sorted((region.km(a, b), b) for b in places)
            self.ring[a] = ([km for km, _ in ordered], [b for _, b in ordered])

    def within(self, origin: str, limit: float | None) -> list[str]:
        kms, codes = self.ring[origin]
        return codes if limit is None else codes[: bisect.bisect_right(kms, limit)]


def eligible_homes(scenario: Scenario) -> list[tuple[int, ...]]:
    """For each child (in scenario order), the indices of the homes rules 1-6 allow, ascending."""
    index = _HomeIndex(scenario)
    homes = scenario.homes
    isolated = scenario.policy.pooling == "isolated"
    result: list[tuple[int, ...]] = []
    for child in scenario.children:
        found: list[int] = []
        for kind in KINDS:
            limit = distance_limit(scenario, child, kind)
            if kind == "kin":
                candidates: Iterator[int] = iter(index.kin_for.get(child.id, ()))
            elif kind == "municipal" and isolated:
                candidates = iter(index.by_owner.get(child.municipality, ()))
            else:
                by_place = index.by_place[kind]
                candidates = (j for code in index.within(child.municipality, limit) for j in by_place.get(code, ()))
            for j in candidates:
                h = homes[j]
                if (
                    child.needs <= h.competences
                    and h.min_age <= child.age <= h.max_age
                    and child.care_level <= h.max_care_level
                    and (limit is None or scenario.km_between(child, h) <= limit)
                ):
                    found.append(j)
        result.append(tuple(sorted(found)))
    return result
