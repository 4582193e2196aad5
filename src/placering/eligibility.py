"""Rules 1-6 of design.md section 2: which homes may take which child.

Each rule is stated once, in :data:`RULE_TESTS`, as a predicate over :class:`Pairs`: the facts
the rules read of some children and some homes, each a numpy scalar or array, where the child
facts and the home facts broadcast against each other. The one statement so decides a single
pair (:func:`exclusion`), one child against many homes (:meth:`Facts.pairs` with
:func:`passes`, for the explanations) and blocks of children against blocks of homes
(:func:`arc_pairs`, for the solver and the generator).

Written for numpy, the predicates use ``&``, ``|`` and ``~`` on numpy booleans; facts are
therefore numpy scalars even for one pair (``~`` of a Python ``bool`` is an integer).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np

from placering.children import Child
from placering.homes import Home
from placering.policy import KINDS
from placering.scenario import Scenario

__all__ = [
    "RULES",
    "RULE_TESTS",
    "Facts",
    "Pairs",
    "arc_pairs",
    "distance_limit",
    "eligible",
    "eligible_homes",
    "exclusion",
    "may_be_used",
    "passes",
]

#: Each kind's code in the facts: its place on the ladder.
KIND_CODE = {k: i for i, k in enumerate(KINDS)}
_KIN, _MUNICIPAL, _CONSULTANT = KIND_CODE["kin"], KIND_CODE["municipal"], KIND_CODE["consultant"]

#: Need tags become bits of one int64 per child or home; past this many distinct tags the bit
#: masks are Python integers in object arrays instead: slower, but any number of tags fits.
MAX_TAGS = 62

#: Child-home comparisons made at once, to bound the memory of one comparison block.
BLOCK = 1 << 22


@attrs.frozen(kw_only=True)
class Pairs:
    """Children against homes: the facts rules 1-6 read, each a numpy scalar or array.

    Child facts and home facts broadcast against each other (one child against an array of
    homes, a column of children against a row of homes, or one pair); ``reserved`` and ``km``
    are facts of the pairs themselves.
    """

    # The children.
    need: Any  # need tags as a bit mask
    age: Any
    care_level: Any
    origin: Any  # municipality index (region.index)
    max_km: Any  # the child's own distance limit, NaN when it has none
    # The homes.
    competence: Any  # competence tags as a bit mask, with the children's bits
    min_age: Any
    max_age: Any
    max_care_level: Any
    kind: Any  # KIND_CODE
    owner: Any  # municipality index
    # The pairs.
    reserved: Any  # whether the home is reserved for the child (read for kin homes only)
    km: Any  # road distance between the child's municipality and the home's
    # The policy.
    policy_km: np.ndarray  # policy.max_km by KIND_CODE, NaN for no limit
    isolated: np.bool_


def _limit(kind: Any, max_km: Any, policy_km: np.ndarray) -> Any:
    """Rule 5's limit: the child's own ``max_km`` for municipal and consultant homes when it has
    one, else the policy's for the kind; NaN for no limit."""
    personal = ((kind == _MUNICIPAL) | (kind == _CONSULTANT)) & ~np.isnan(max_km)
    return np.where(personal, max_km, policy_km[kind])


def _needs(p: Pairs) -> Any:
    return (p.need & ~p.competence) == 0  # rule 1: needs within competences


def _age(p: Pairs) -> Any:
    return (p.min_age <= p.age) & (p.age <= p.max_age)  # rule 2


def _care_level(p: Pairs) -> Any:
    return p.care_level <= p.max_care_level  # rule 3


def _kin(p: Pairs) -> Any:
    return (p.kind != _KIN) | p.reserved  # rule 4: a kin home takes only its reserved children


def _distance(p: Pairs) -> Any:
    return ~(p.km > _limit(p.kind, p.max_km, p.policy_km))  # rule 5: a NaN limit (none) never excludes


def _pooling(p: Pairs) -> Any:
    return ~(p.isolated & (p.kind == _MUNICIPAL)) | (p.owner == p.origin)  # rule 6


#: Rules 1-6 in the order of design.md section 2: each rule's test over :class:`Pairs`.
RULE_TESTS: dict[str, Callable[[Pairs], Any]] = {
    "needs": _needs,
    "age": _age,
    "care_level": _care_level,
    "kin": _kin,
    "distance": _distance,
    "pooling": _pooling,
}

#: The rules of design.md section 2, in order.
RULES = tuple(RULE_TESTS)

#: The rules that read of the child only its municipality and its own distance limit: the
#: same for every child that shares those two, so :func:`arc_pairs` tests them once per such group.
_BY_PLACE = ("distance", "pooling")


def passes(pairs: Pairs, rules: tuple[str, ...] = RULES) -> Any:
    """Whether ``pairs`` pass every rule of ``rules``: a numpy boolean or boolean array."""
    ok: Any = np.True_
    for rule in rules:
        ok = ok & RULE_TESTS[rule](pairs)
    return ok


def _policy_km(scenario: Scenario) -> np.ndarray:
    limits = scenario.policy.max_km
    return np.array([math.nan if limits[k] is None else float(limits[k]) for k in KINDS], dtype=np.float64)


def _own_limit(child: Child) -> float:
    return math.nan if child.max_km is None else float(child.max_km)


def distance_limit(scenario: Scenario, child: Child, kind: str, policy_km: np.ndarray | None = None) -> float | None:
    """Rule 5: how far from ``child`` a home of ``kind`` may lie, ``None`` for any distance.
    ``policy_km``: the policy's limits as :class:`Facts` holds them, to save building them."""
    limits = _policy_km(scenario) if policy_km is None else policy_km
    limit = float(_limit(np.int64(KIND_CODE[kind]), np.float64(_own_limit(child)), limits))
    return None if math.isnan(limit) else limit


def _pair(scenario: Scenario, child: Child, home: Home) -> Pairs:
    """The facts of one child and one home, as numpy scalars."""
    bit = {t: 1 << i for i, t in enumerate(sorted(child.needs | home.competences))}
    index = scenario.region.index
    return Pairs(
        need=sum(bit[t] for t in child.needs),
        age=np.int64(child.age),
        care_level=np.int64(child.care_level),
        origin=np.int64(index[child.municipality]),
        max_km=np.float64(_own_limit(child)),
        competence=sum(bit[t] for t in home.competences),
        min_age=np.int64(home.min_age),
        max_age=np.int64(home.max_age),
        max_care_level=np.int64(home.max_care_level),
        kind=np.int64(KIND_CODE[home.kind]),
        owner=np.int64(index[home.owner]),
        reserved=np.bool_(child.id in home.reserved_for),
        km=np.float64(scenario.km_between(child, home)),
        policy_km=_policy_km(scenario),
        isolated=np.bool_(scenario.policy.pooling == "isolated"),
    )


def exclusion(scenario: Scenario, child: Child, home: Home) -> str | None:
    """The first of rules 1-6 (in the order of :data:`RULES`) that forbids placing ``child`` in
    ``home``, or ``None``."""
    pair = _pair(scenario, child, home)
    for rule, test in RULE_TESTS.items():
        if not test(pair):
            return rule
    return None


def eligible(scenario: Scenario, child: Child, home: Home) -> bool:
    return exclusion(scenario, child, home) is None


def _masks(values: list[frozenset[str]], bit: dict[str, int], dtype: Any) -> np.ndarray:
    return np.array([sum(bit[t] for t in tags) for tags in values], dtype=dtype)


@attrs.frozen(kw_only=True)
class Facts:
    """The facts rules 1-6 read of every child and home of a scenario, as numpy arrays.

    Child arrays follow ``scenario.children``, home arrays ``scenario.homes``; municipalities
    are indices into ``region.codes``. Build it once with :meth:`of` and take :meth:`pairs`.
    """

    scenario: Scenario
    child_index: dict[str, int]
    need: np.ndarray
    age: np.ndarray
    care_level: np.ndarray
    origin: np.ndarray
    max_km: np.ndarray
    competence: np.ndarray
    min_age: np.ndarray
    max_age: np.ndarray
    max_care_level: np.ndarray
    kind: np.ndarray
    at: np.ndarray  # the home's municipality index
    owner: np.ndarray
    #: ``child * len(homes) + home`` of every kin home and child it is reserved for, sorted.
    reservations: np.ndarray
    km_matrix: np.ndarray  # region.km_matrix
    policy_km: np.ndarray
    isolated: np.bool_

    @classmethod
    def of(cls, scenario: Scenario) -> Facts:
        children, homes = scenario.children, scenario.homes
        region = scenario.region
        index = region.index
        tags = sorted({t for c in children for t in c.needs} | {t for h in homes for t in h.competences})
        bit = {t: 1 << i for i, t in enumerate(tags)}
        dtype: Any = np.int64 if len(tags) <= MAX_TAGS else object
        child_index = {c.id: i for i, c in enumerate(children)}
        reservations = sorted(child_index[cid] * len(homes) + j for j, h in enumerate(homes) for cid in h.reserved_for)

        def ints(values: list[int]) -> np.ndarray:
            return np.array(values, dtype=np.int64)

        return cls(
            scenario=scenario,
            child_index=child_index,
            need=_masks([c.needs for c in children], bit, dtype),
            age=ints([c.age for c in children]),
            care_level=ints([c.care_level for c in children]),
            origin=ints([index[c.municipality] for c in children]),
            max_km=np.array([_own_limit(c) for c in children], dtype=np.float64),
            competence=_masks([h.competences for h in homes], bit, dtype),
            min_age=ints([h.min_age for h in homes]),
            max_age=ints([h.max_age for h in homes]),
            max_care_level=ints([h.max_care_level for h in homes]),
            kind=ints([KIND_CODE[h.kind] for h in homes]),
            at=ints([index[h.municipality] for h in homes]),
            owner=ints([index[h.owner] for h in homes]),
            reservations=ints(reservations),
            km_matrix=region.km_matrix,
            policy_km=_policy_km(scenario),
            isolated=np.bool_(scenario.policy.pooling == "isolated"),
        )

    def pairs(self, child: Any, home: Any) -> Pairs:
        """Children ``child`` against homes ``home``: indices (an int or an array each) that broadcast."""
        kind = self.kind[home]
        reserved: Any = np.False_
        if np.any(kind == _KIN):
            key = np.asarray(child * len(self.kind) + home)
            at = np.minimum(np.searchsorted(self.reservations, key), max(len(self.reservations) - 1, 0))
            reserved = self.reservations[at] == key if len(self.reservations) else np.zeros(key.shape, dtype=bool)
        origin = self.origin[child]
        return Pairs(
            need=self.need[child],
            age=self.age[child],
            care_level=self.care_level[child],
            origin=origin,
            max_km=self.max_km[child],
            competence=self.competence[home],
            min_age=self.min_age[home],
            max_age=self.max_age[home],
            max_care_level=self.max_care_level[home],
            kind=kind,
            owner=self.owner[home],
            reserved=reserved,
            km=self.km_matrix[origin, self.at[home]],
            policy_km=self.policy_km,
            isolated=self.isolated,
        )


def arc_pairs(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Every (child, home) pair rules 1-6 allow, as two int64 index arrays sorted by child, then home.

    Every pair returned passes every test of :data:`RULE_TESTS`; what is left to speed is which
    pairs are tested. Kin homes meet only the children they are reserved for. The other homes
    meet children in groups that share a municipality and an own distance limit: the rules that
    read nothing else of the child (:data:`_BY_PLACE`) are tested once per group against all
    those homes, and the group's children, in blocks, meet the homes that pass them, so that no
    Python code runs per pair.
    """
    children, homes = scenario.children, scenario.homes
    if not children or not homes:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    facts = Facts.of(scenario)
    found: list[tuple[np.ndarray, np.ndarray]] = []
    if len(facts.reservations):
        ci, hj = np.divmod(facts.reservations, len(homes))
        ok = passes(facts.pairs(ci, hj))
        found.append((ci[ok], hj[ok]))
    others = np.flatnonzero(facts.kind != _KIN)
    # Children grouped by municipality and own limit (NaNs are one value to np.unique).
    _, limit_no = np.unique(facts.max_km, return_inverse=True)
    _, group_of = np.unique(facts.origin * len(children) + limit_no.ravel(), return_inverse=True)
    by_group = np.argsort(group_of.ravel(), kind="stable")
    starts = np.searchsorted(group_of.ravel()[by_group], np.arange(group_of.max() + 2))
    child_rules = tuple(r for r in RULES if r not in _BY_PLACE)
    for g in range(len(starts) - 1):
        group = by_group[starts[g] : starts[g + 1]]
        candidates = others[passes(facts.pairs(group[0], others), _BY_PLACE)] if len(others) else others
        if not len(candidates):
            continue
        step = max(1, BLOCK // len(candidates))
        for first in range(0, len(group), step):
            block = group[first : first + step]
            ok = passes(facts.pairs(block[:, None], candidates), child_rules)
            rows, cols = np.nonzero(np.broadcast_to(ok, (len(block), len(candidates))))
            found.append((block[rows], candidates[cols]))
    child = np.concatenate([c for c, _ in found]) if found else np.zeros(0, dtype=np.int64)
    home = np.concatenate([h for _, h in found]) if found else np.zeros(0, dtype=np.int64)
    order = np.lexsort((home, child))
    return child[order].astype(np.int64, copy=False), home[order].astype(np.int64, copy=False)


def may_be_used(scenario: Scenario, home: int) -> bool:
    """Whether rules 1-6 let any child of ``scenario`` use home ``home`` (an index): a home none
    may use has no arc, so what-ifs that add it need not build every arc to see that."""
    if not scenario.children:
        return False
    facts = Facts.of(scenario)
    return bool(np.any(passes(facts.pairs(np.arange(len(scenario.children)), home))))


def eligible_homes(scenario: Scenario) -> list[tuple[int, ...]]:
    """For each child (in scenario order), the indices of the homes rules 1-6 allow, ascending."""
    child, home = arc_pairs(scenario)
    bounds = np.searchsorted(child, np.arange(len(scenario.children) + 1))
    homes = home.tolist()
    return [tuple(homes[bounds[i] : bounds[i + 1]]) for i in range(len(scenario.children))]
