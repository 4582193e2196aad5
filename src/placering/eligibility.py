"""Rules 1-6 of design.md section 2: which homes may take which child.

:func:`eligible_homes` yields the sparse child-home arcs without looking at every pair: homes
are indexed by kind and municipality, and a child only meets the homes in municipalities
within its distance limit. :func:`exclusion` names the first rule that excludes one pair.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterator

import numpy as np

from placering.children import Child
from placering.homes import Home
from placering.policy import KINDS
from placering.scenario import Scenario

__all__ = ["RULES", "arc_pairs", "distance_limit", "eligible", "eligible_homes", "exclusion"]

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


#: Need tags become bits of one integer; past this many distinct tags the arcs are found
#: child by child instead.
MAX_TAGS = 62

#: Children compared with homes at once, to bound the memory of one comparison block.
BLOCK = 1 << 22


def arc_pairs(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Every (child, home) pair rules 1-6 allow, as two index arrays sorted by child, then home.

    The same pairs as :func:`eligible_homes`, found with numpy: needs and competences become
    bit masks, and children are compared in blocks with the homes of each kind that lie
    within reach of their municipality, so that no Python code runs per pair.
    """
    children, homes = scenario.children, scenario.homes
    tags = sorted({t for c in children for t in c.needs} | {t for h in homes for t in h.competences})
    if len(tags) > MAX_TAGS or not children or not homes:
        found = _eligible_by_child(scenario)
        child = np.repeat(np.arange(len(found), dtype=np.int64), [len(f) for f in found])
        home = np.fromiter((j for f in found for j in f), dtype=np.int64, count=len(child))
        return child, home
    bit = {t: 1 << i for i, t in enumerate(tags)}
    region = scenario.region
    codes = list(region.codes)
    place = {code: i for i, code in enumerate(codes)}
    km = np.array([[region.km_units(a, b) for b in codes] for a in codes], dtype=np.int64) / region.km_scale

    def mask(values: frozenset[str]) -> int:
        return sum(bit[t] for t in values)

    c_need = np.array([mask(c.needs) for c in children], dtype=np.int64)
    c_age = np.array([c.age for c in children], dtype=np.int64)
    c_care = np.array([c.care_level for c in children], dtype=np.int64)
    c_from = np.array([place[c.municipality] for c in children], dtype=np.int64)
    c_limit = np.array([np.nan if c.max_km is None else c.max_km for c in children], dtype=np.float64)
    h_comp = np.array([mask(h.competences) for h in homes], dtype=np.int64)
    h_low = np.array([h.min_age for h in homes], dtype=np.int64)
    h_high = np.array([h.max_age for h in homes], dtype=np.int64)
    h_care = np.array([h.max_care_level for h in homes], dtype=np.int64)
    h_at = np.array([place[h.municipality] for h in homes], dtype=np.int64)
    h_owner = np.array([place.get(h.owner, -1) for h in homes], dtype=np.int64)
    kinds = np.array([h.kind for h in homes])
    isolated = scenario.policy.pooling == "isolated"
    pairs: list[tuple[np.ndarray, np.ndarray]] = []

    def keep(ci: np.ndarray, hj: np.ndarray, limit: np.ndarray | None) -> None:
        ok = (c_need[ci] & ~h_comp[hj]) == 0
        ok &= (h_low[hj] <= c_age[ci]) & (c_age[ci] <= h_high[hj]) & (c_care[ci] <= h_care[hj])
        if limit is not None:
            ok &= ~(km[c_from[ci], h_at[hj]] > limit)  # NaN (no limit) never excludes
        pairs.append((ci[ok], hj[ok]))

    # Kin homes: only the children they are reserved for (rule 4).
    index = {c.id: i for i, c in enumerate(children)}
    kin = [(index[cid], j) for j, h in enumerate(homes) if h.kind == "kin" for cid in h.reserved_for if cid in index]
    if kin:
        ci, hj = (np.array(v, dtype=np.int64) for v in zip(*kin, strict=True))
        limit = scenario.policy.max_km["kin"]
        keep(ci, hj, None if limit is None else np.full(len(ci), float(limit)))
    for kind in ("municipal", "consultant", "hvb"):
        of_kind = np.flatnonzero(kinds == kind)
        if not len(of_kind):
            continue
        policy_limit = scenario.policy.max_km[kind]
        personal = kind in ("municipal", "consultant")
        if personal:
            limits = np.where(np.isnan(c_limit), np.nan if policy_limit is None else float(policy_limit), c_limit)
        else:
            limits = np.full(len(children), np.nan if policy_limit is None else float(policy_limit))
        by_origin = np.argsort(c_from, kind="stable")
        starts = np.searchsorted(c_from[by_origin], np.arange(len(codes) + 1))
        for o in range(len(codes)):
            group = by_origin[starts[o] : starts[o + 1]]
            if not len(group):
                continue
            reach = limits[group]
            candidates = of_kind
            if not np.isnan(reach).any():
                candidates = of_kind[km[o, h_at[of_kind]] <= reach.max()]
            if isolated and kind == "municipal":
                candidates = candidates[h_owner[candidates] == o]
            if not len(candidates):
                continue
            step = max(1, BLOCK // len(candidates))
            for first in range(0, len(group), step):
                block = group[first : first + step]
                ci = np.repeat(block, len(candidates))
                hj = np.tile(candidates, len(block))
                keep(ci, hj, limits[ci])
    child = np.concatenate([c for c, _ in pairs]) if pairs else np.zeros(0, dtype=np.int64)
    home = np.concatenate([h for _, h in pairs]) if pairs else np.zeros(0, dtype=np.int64)
    order = np.lexsort((home, child))
    return child[order], home[order]


def eligible_homes(scenario: Scenario) -> list[tuple[int, ...]]:
    """For each child (in scenario order), the indices of the homes rules 1-6 allow, ascending."""
    child, home = arc_pairs(scenario)
    bounds = np.searchsorted(child, np.arange(len(scenario.children) + 1))
    homes = home.tolist()
    return [tuple(homes[bounds[i] : bounds[i + 1]]) for i in range(len(scenario.children))]


def _eligible_by_child(scenario: Scenario) -> list[tuple[int, ...]]:
    """:func:`eligible_homes` child by child, with the homes indexed by kind and municipality."""
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
