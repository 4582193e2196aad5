"""Regional cooperation (design.md section 8): what pooling the own family homes saves, for whom,
and how the cost ``v(N)`` is shared so that no group would rather leave.

- :func:`restrict` is the coalition scenario ``restrict(scenario, S)``;
- :func:`coalition_values` is the cost game ``v(S)``, the yearly cost of the optimal plan of
  ``restrict(scenario, S)``, for many coalitions through a sweep (:mod:`placering.sweep`);
- :func:`cooperate` evaluates the game (every coalition, or along random member orders) and
  shares ``v(N)`` by ``shapley``, ``population``, ``usage`` and ``nucleolus``, with ``alone``
  beside them and the core check of each method.

Members interact only through the homes they can share: an own family home that a child of
another member may use, a kin home reserved for children of two members, a child kept in a home
another member owns. Consultant and HVB homes never bind a coalition (``restrict`` raises their
capacity to its number of children), so a coalition whose members fall into groups that share
no such home is the sum of the groups' values: a lexicographic optimum of independent parts is
the sum of their optima. The sweep therefore solves only the connected coalitions and adds up
the rest (:class:`Links`), which gives exactly what a plain ``solve(restrict(scenario, S))`` gives.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import attrs
import numpy as np

from placering.comparison import municipality_yearly_costs, yearly_cost
from placering.exceptions import InvalidInputError, SolverError
from placering.params import SolveParams
from placering.scenario import Scenario
from placering.sweep import Outcome, outcome_of, run

__all__ = [
    "COOPERATION_FORMAT",
    "METHODS",
    "Coalition",
    "Cooperation",
    "CoreCheck",
    "Links",
    "Share",
    "coalition_values",
    "cooperate",
    "cooperation_to_dict",
    "default_members",
    "restrict",
]

COOPERATION_FORMAT = "placering.cooperation/1"

#: How the game is evaluated: every coalition, or along random member orders.
METHODS = ("exact", "sampled")

#: The share methods whose allocations the core check looks at, in the file's order.
SHARE_METHODS = ("shapley", "population", "usage", "nucleolus")

#: An allocation is in the core when no coalition's excess is above this (to the krona).
CORE_TOLERANCE = 0.5


# --- the coalition scenario ----------------------------------------------------------------


def default_members(scenario: Scenario) -> tuple[str, ...]:
    """Every municipality that has a child or owns a municipal home, in the region's order."""
    used = {c.municipality for c in scenario.children} | {h.owner for h in scenario.homes if h.kind == "municipal"}
    return tuple(code for code in scenario.region.codes if code in used)


def _check_members(scenario: Scenario, members: Iterable[str], field: str = "members") -> tuple[str, ...]:
    """The members in the region's order; an unknown code or none at all is invalid input."""
    chosen = set()
    for code in members:
        if code not in scenario.region:
            raise InvalidInputError(
                f"{field} names unknown municipality {code!r} (not in region {scenario.region.name!r})",
                entity="cooperation",
                field=field,
            )
        chosen.add(code)
    if not chosen:
        raise InvalidInputError(f"{field} must name at least one municipality", entity="cooperation", field=field)
    return tuple(code for code in scenario.region.codes if code in chosen)


def restrict(scenario: Scenario, members: Iterable[str]) -> Scenario:
    """The scenario of coalition ``members`` (design.md section 8).

    The children of the members; kin homes reserved for one of them (``reserved_for`` narrowed
    to them); the municipal homes the members own; every consultant and HVB home, its capacity
    raised to at least the coalition's number of children; an outsider's municipal home in which
    a member's child is kept, its capacity cut to those kept children; the policy with
    ``pooling: "pooled"``. A kin home in which a member's child is kept without being reserved
    for it stays too, reserved for the kept children only. With ``keep_current: false``, a child
    whose current home leaves the coalition's scenario loses it (as do its siblings): the
    matching ignores it anyway.
    """
    chosen = set(_check_members(scenario, members))
    children = [c for c in scenario.children if c.municipality in chosen]
    ids = {c.id for c in children}
    kept = Counter(c.current_home for c in children if scenario.is_kept(c))
    kept_ids: dict[str, set[str]] = {}
    for c in children:
        if scenario.is_kept(c) and c.current_home is not None:
            kept_ids.setdefault(c.current_home, set()).add(c.id)
    homes = []
    for h in scenario.homes:
        if h.kind == "kin":
            reserved = (h.reserved_for & ids) or frozenset(kept_ids.get(h.id, ()))
            if reserved:
                homes.append(attrs.evolve(h, reserved_for=reserved))
        elif h.kind == "municipal":
            if h.owner in chosen:
                homes.append(h)
            elif kept[h.id]:
                homes.append(attrs.evolve(h, capacity=kept[h.id]))
        else:
            homes.append(attrs.evolve(h, capacity=max(h.capacity, len(children))) if h.capacity < len(children) else h)
    present = {h.id for h in homes}
    lost = {c.sibling_group or c.id for c in children if c.current_home is not None and c.current_home not in present}
    if lost:
        children = [attrs.evolve(c, current_home=None) if (c.sibling_group or c.id) in lost else c for c in children]
    policy = scenario.policy if scenario.policy.pooling == "pooled" else attrs.evolve(scenario.policy, pooling="pooled")
    return Scenario(region=scenario.region, homes=homes, children=children, policy=policy)


# --- which members can share a home ----------------------------------------------------------


@attrs.frozen(kw_only=True)
class Links:
    """Which members can share a home, as one bit mask of neighbours per member.

    Two members are linked when a child of one may use (rules 1-6, pooled) a municipal home the
    other owns, when a kin home is reserved for children of both, or when a child of one is
    kept in a home the other owns. A coalition is the sum of its connected parts.
    """

    members: tuple[str, ...]
    neighbours: tuple[int, ...]

    @classmethod
    def of(cls, scenario: Scenario, members: Sequence[str]) -> Links:
        from placering.eligibility import arc_pairs

        pooled = restrict(scenario, members)
        bit = {code: 1 << i for i, code in enumerate(members)}
        masks = dict.fromkeys(members, 0)

        def link(a: str, b: str) -> None:
            if a != b and a in bit and b in bit:
                masks[a] |= bit[b]
                masks[b] |= bit[a]

        child, home = arc_pairs(pooled)
        pairs = {(pooled.children[c].municipality, pooled.homes[h].owner) for c, h in zip(
            child.tolist(), home.tolist(), strict=True) if pooled.homes[h].kind == "municipal"}
        for a, b in pairs:
            link(a, b)
        for h in pooled.homes:
            towns = sorted({pooled.child(c).municipality for c in h.reserved_for})
            for a in towns:
                for b in towns:
                    link(a, b)
        for c in pooled.children:
            if pooled.is_kept(c) and c.current_home is not None:
                link(c.municipality, pooled.home(c.current_home).owner)
        return cls(members=tuple(members), neighbours=tuple(masks[code] for code in members))

    def part_of(self, mask: int) -> int:
        """The connected part of coalition ``mask`` that holds its lowest member."""
        part = frontier = mask & -mask
        while frontier:
            low = frontier & -frontier
            frontier ^= low
            new = self.neighbours[low.bit_length() - 1] & mask & ~part
            part |= new
            frontier |= new
        return part

    def parts(self, mask: int) -> list[int]:
        """The connected parts of coalition ``mask``."""
        out = []
        while mask:
            part = self.part_of(mask)
            out.append(part)
            mask &= ~part
        return out


# --- the cost game -------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Coalition:
    """``v(S)``: a coalition's yearly cost, and the status of its solves (``feasible`` when a
    time limit stopped one before its proof; then ``bounds`` holds the certified lower bounds)."""

    members: tuple[str, ...]
    yearly_cost: float
    status: str = "optimal"
    bounds: Mapping[str, float] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "members": list(self.members),
            "yearly_cost": _kr(self.yearly_cost),
            "status": self.status,
        }
        if self.bounds:
            data["bounds"] = dict(self.bounds)
        return data


@attrs.frozen
class _CoalitionCosts:
    """The work a sweep sends out: solve ``restrict(scenario, S)`` for a chunk of coalitions."""

    scenario: Scenario
    members: tuple[str, ...]
    params: SolveParams

    def __call__(self, masks: Sequence[int]) -> list[Outcome]:
        return [outcome_of(restrict(self.scenario, _codes(self.members, mask)), self.params) for mask in masks]


def _codes(members: Sequence[str], mask: int) -> tuple[str, ...]:
    return tuple(code for i, code in enumerate(members) if mask >> i & 1)


def _decomposes(scenario: Scenario) -> bool:
    """Whether ``v`` of independent parts adds up: the objective fixes cost and unplaced."""
    objective = scenario.policy.effective_objective()
    return "cost" in objective and "unplaced" in objective


def coalition_values(
    scenario: Scenario,
    members: Sequence[str],
    coalitions: Iterable[int],
    params: SolveParams | None = None,
    *,
    executor: Executor | None = None,
    progress: bool | None = None,
    decompose: bool = True,
) -> dict[int, Coalition]:
    """``v(S)`` for each coalition, given as a bit mask over ``members`` (bit ``i`` is
    ``members[i]``), through ``executor``.

    Each connected part (:class:`Links`) is solved once, with ``params`` and one worker, and a
    coalition's value is the sum over its parts; ``decompose=False`` solves every coalition whole.
    """
    members = tuple(members)
    params = (params or SolveParams()).replace(workers=1)
    wanted = sorted(set(coalitions))
    split = decompose and _decomposes(scenario)
    links = Links.of(scenario, members) if split else None
    parts_of = {mask: (links.parts(mask) if links else [mask]) for mask in wanted}
    needed = sorted({part for parts in parts_of.values() for part in parts}, key=lambda m: (m.bit_count(), m))
    outcomes = run(
        _CoalitionCosts(scenario, members, params), needed, executor=executor, label="coalitions", progress=progress
    )
    by_part = dict(zip(needed, outcomes, strict=True))
    values = {}
    for mask in wanted:
        parts = [by_part[p] for p in parts_of[mask]]
        values[mask] = Coalition(
            members=_codes(members, mask),
            yearly_cost=float(sum(o.yearly_cost for o in parts)),
            status="optimal" if all(o.status == "optimal" for o in parts) else "feasible",
            bounds=_bounds(parts),
        )
    return values


def _bounds(parts: Sequence[Outcome]) -> dict[str, float]:
    """Lower bounds of a coalition whose parts were not all proven: per term, the parts' bounds,
    or their totals where proven."""
    if all(o.status == "optimal" for o in parts):
        return {}
    terms = sorted({t for o in parts for t in o.bounds})
    return {t: float(sum(o.bounds.get(t, o.totals.to_dict()[t]) for o in parts)) for t in terms}


# --- shares --------------------------------------------------------------------------------


def _kr(value: float) -> float:
    """To the öre, without a negative zero."""
    return round(value, 2) + 0.0


@attrs.frozen(kw_only=True)
class Share:
    """One member's shares of ``v(N)``; ``alone`` is ``v({i})``, the reference, not a share.
    A share is ``None`` where its method does not apply (``population`` without populations,
    ``nucleolus`` for the sampled method)."""

    municipality: str
    alone: float
    shapley: float
    shapley_se: float
    population: float | None
    usage: float
    nucleolus: float | None

    def of(self, method: str) -> float | None:
        value: float | None = getattr(self, method)
        return value

    def to_dict(self) -> dict[str, Any]:
        return {
            key: (_kr(value) if isinstance(value, float) else value) for key, value in attrs.asdict(self).items()
        }


@attrs.frozen(kw_only=True)
class CoreCheck:
    """The proper coalition with the largest excess ``sum(x_i, i in S) - v(S)`` under one method's
    allocation; the allocation is in the core when that excess is <= 0 (to the krona)."""

    in_core: bool
    worst: tuple[str, ...]
    excess: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "in_core": self.in_core,
            "max_excess": _kr(self.excess),
            "worst": {"members": list(self.worst), "excess": _kr(self.excess)},
        }


@attrs.frozen(kw_only=True)
class Cooperation:
    """The cooperation analysis of a scenario (design.md section 8), as the file states it."""

    members: tuple[str, ...]
    method: str
    samples: int | None
    seed: int | None
    coalitions: tuple[Coalition, ...]
    isolated: float
    pooled: float
    pooled_totals: Mapping[str, Any]
    pooled_status: str
    shares: tuple[Share, ...]
    core: Mapping[str, CoreCheck]

    @property
    def saving(self) -> float:
        """``isolated - pooled``: what pooling saves in all (negative when it costs more)."""
        return self.isolated - self.pooled

    def share(self, code: str) -> Share:
        return next(s for s in self.shares if s.municipality == code)


def cooperation_to_dict(result: Cooperation) -> dict[str, Any]:
    """The ``placering.cooperation/1`` file."""
    return {
        "format": COOPERATION_FORMAT,
        "members": list(result.members),
        "method": result.method,
        "samples": result.samples,
        "seed": result.seed,
        "coalitions": [c.to_dict() for c in result.coalitions],
        "isolated": {"yearly_cost": _kr(result.isolated)},
        "pooled": {
            "yearly_cost": _kr(result.pooled),
            "status": result.pooled_status,
            "totals": dict(result.pooled_totals),
        },
        "saving": {"yearly_cost": _kr(result.saving)},
        "shares": [s.to_dict() for s in result.shares],
        "core": {method: check.to_dict() for method, check in result.core.items()},
    }


def _shapley_exact(values: np.ndarray, n: int) -> np.ndarray:
    """``sum over S not holding i of |S|!(n-|S|-1)!/n! (v(S+i) - v(S))``, with ``values[mask] = v``."""
    masks = np.arange(1 << n, dtype=np.int64)
    sizes = np.array([int(m).bit_count() for m in masks.tolist()], dtype=np.int64)
    weight = np.array([math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)])
    shares = np.zeros(n)
    for i in range(n):
        without = masks[(masks >> i) & 1 == 0]
        marginal = values[without | (1 << i)] - values[without]
        shares[i] = float(np.dot(weight[sizes[without]], marginal))
    return shares


def _orders(n: int, samples: int, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    orders = []
    for _ in range(samples):
        order = list(range(n))
        rng.shuffle(order)
        orders.append(order)
    return orders


def _prefixes(orders: Sequence[Sequence[int]]) -> set[int]:
    masks = set()
    for order in orders:
        mask = 0
        for i in order:
            mask |= 1 << i
            masks.add(mask)
    return masks


def _shapley_sampled(
    values: Mapping[int, float], n: int, orders: Sequence[Sequence[int]]
) -> tuple[np.ndarray, np.ndarray]:
    """The mean marginal cost of each member along ``orders``, and its standard error."""
    marginals = np.zeros((len(orders), n))
    for k, order in enumerate(orders):
        mask, before = 0, 0.0
        for i in order:
            mask |= 1 << i
            marginals[k, i] = values[mask] - before
            before = values[mask]
    mean = marginals.mean(axis=0)
    se = marginals.std(axis=0, ddof=1) / math.sqrt(len(orders)) if len(orders) > 1 else np.zeros(n)
    return mean, se


def nucleolus(values: np.ndarray, n: int) -> np.ndarray:
    """The nucleolus of the cost game ``values[mask] = v(S)``: the allocation of ``v(N)`` that
    lexicographically minimises the largest excesses ``x(S) - v(S)`` over proper coalitions.

    Sequential LPs (Maschler's scheme): minimise the largest excess ``t`` of the coalitions not
    yet fixed; every coalition whose row has a positive dual keeps excess ``t`` in every optimum,
    so it is fixed at ``x(S) = v(S) + t``; coalitions whose indicator is spanned by the fixed
    ones drop out. The rank grows in every round, so at most ``n`` LPs; the allocation is then
    the unique solution of the fixed equations, solved in float64 for accuracy.
    """
    from placering._ortools import linear_minimum

    full = (1 << n) - 1
    if n == 1:
        return np.array([values[full]])
    rows = np.array([[(m >> i) & 1 for i in range(n)] for m in range(1, full)], dtype=float)
    rhs = values[1:full].astype(float)
    fixed_rows, fixed_rhs = [np.ones(n)], [float(values[full])]
    free = np.ones(len(rows), dtype=bool)
    scale = max(1.0, float(np.abs(values).max()))
    while np.linalg.matrix_rank(np.array(fixed_rows)) < n:
        basis = np.array(fixed_rows)
        index = np.flatnonzero(free)
        a_ub = np.hstack([rows[index], -np.ones((len(index), 1))])
        a_eq = np.hstack([basis, np.zeros((len(basis), 1))])
        c = np.zeros(n + 1)
        c[-1] = 1.0
        result = linear_minimum(c, a_ub, rhs[index] / scale, a_eq, np.array(fixed_rhs) / scale)
        t = result.objective * scale
        tight = index[np.abs(result.duals) > 1e-9]
        if not len(tight):
            raise SolverError("the nucleolus LP fixed no coalition (no positive dual): numerical trouble")
        for k in tight.tolist():
            fixed_rows.append(rows[k])
            fixed_rhs.append(rhs[k] + t)
        # Drop the coalitions whose indicator the fixed ones span: their excess is settled too.
        _, sv, vt = np.linalg.svd(np.array(fixed_rows), full_matrices=False)
        span = vt[sv > 1e-9 * sv[0]]
        residual = rows - (rows @ span.T) @ span
        free &= np.abs(residual).max(axis=1) > 1e-9
    solution, *_ = np.linalg.lstsq(np.array(fixed_rows), np.array(fixed_rhs), rcond=None)
    return np.asarray(solution, dtype=float)


def _core_check(allocation: np.ndarray, values: np.ndarray, members: Sequence[str]) -> CoreCheck:
    n = len(members)
    full = (1 << n) - 1
    masks = np.arange(1, full, dtype=np.int64)
    if not len(masks):
        return CoreCheck(in_core=True, worst=tuple(members), excess=0.0)
    bits = ((masks[:, None] >> np.arange(n)) & 1).astype(float)
    excess = bits @ allocation - values[masks]
    # The largest excess; among equal ones (to the öre) the smallest coalition, then the first.
    rounded = np.round(excess, 2)
    best = rounded.max()
    candidates = masks[rounded == best]
    worst = min(candidates.tolist(), key=lambda m: (m.bit_count(), m))
    return CoreCheck(in_core=bool(best <= CORE_TOLERANCE), worst=_codes(members, worst), excess=float(best) + 0.0)


def _population_shares(scenario: Scenario, members: Sequence[str], pooled: float) -> list[float | None]:
    people = [scenario.region.municipality(code).population for code in members]
    if any(p is None for p in people) or not sum(p or 0 for p in people):
        return [None] * len(members)
    total = sum(p or 0 for p in people)
    return [pooled * (p or 0) / total for p in people]


def cooperate(
    scenario: Scenario,
    members: Iterable[str] | None = None,
    *,
    method: str = "exact",
    samples: int | None = None,
    seed: int = 0,
    params: SolveParams | None = None,
    executor: Executor | None = None,
    progress: bool | None = None,
) -> Cooperation:
    """The cooperation analysis of design.md section 8.

    ``members`` defaults to :func:`default_members`. ``method="exact"`` evaluates all
    ``2^n - 1`` coalitions; ``"sampled"`` only the prefixes of ``samples`` random member orders
    (drawn from ``seed``), and gives each Shapley share a standard error. Each coalition is solved
    with ``params`` (one worker per solve) through ``executor``.
    """
    chosen = _check_members(scenario, default_members(scenario) if members is None else members)
    if method not in METHODS:
        raise InvalidInputError(f"method must be one of {', '.join(METHODS)}, got {method!r}", entity="cooperation",
                                field="method")
    if method == "sampled":
        if samples is None or isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
            raise InvalidInputError(f"samples must be a whole number >= 1, got {samples!r}", entity="cooperation",
                                    field="samples")
    elif samples is not None:
        raise InvalidInputError("samples is for the sampled method only", entity="cooperation", field="samples")
    params = (params or SolveParams()).replace(workers=1)
    n = len(chosen)
    full = (1 << n) - 1
    orders = _orders(n, samples or 0, seed) if method == "sampled" else []
    wanted = set(range(1, full + 1)) if method == "exact" else _prefixes(orders) | {1 << i for i in range(n)}
    game = coalition_values(scenario, chosen, wanted, params, executor=executor, progress=progress)
    cost = {mask: c.yearly_cost for mask, c in game.items()}
    pooled_scenario = restrict(scenario, chosen)
    from placering.solve import solve

    pooled_plan = solve(pooled_scenario, params, explain=False)
    pooled = cost[full]
    usage = municipality_yearly_costs(pooled_scenario, pooled_plan)
    alone = [cost[1 << i] for i in range(n)]
    if method == "exact":
        values = np.zeros(full + 1)
        for mask, value in cost.items():
            values[mask] = value
        shapley, se = _shapley_exact(values, n), np.zeros(n)
        nucleus: list[float | None] = list(nucleolus(values, n))
    else:
        shapley, se = _shapley_sampled(cost, n, orders)
        nucleus = [None] * n
    population = _population_shares(scenario, chosen, pooled)
    shares = tuple(
        Share(
            municipality=code,
            alone=alone[i],
            shapley=float(shapley[i]),
            shapley_se=float(se[i]),
            population=population[i],
            usage=usage[code],
            nucleolus=nucleus[i],
        )
        for i, code in enumerate(chosen)
    )
    core: dict[str, CoreCheck] = {}
    if method == "exact":
        for name in SHARE_METHODS:
            allocation = [s.of(name) for s in shares]
            if all(x is not None for x in allocation):
                core[name] = _core_check(np.array(allocation, dtype=float), values, chosen)
    coalitions = tuple(game[m] for m in sorted(game, key=lambda m: (m.bit_count(), _order_key(m, n))))
    return Cooperation(
        members=chosen,
        method=method,
        samples=samples if method == "sampled" else None,
        seed=seed if method == "sampled" else None,
        coalitions=coalitions,
        isolated=float(sum(alone)),
        pooled=pooled,
        pooled_totals=pooled_plan.totals.to_dict(),
        pooled_status=game[full].status,
        shares=shares,
        core=core,
    )


def _order_key(mask: int, n: int) -> tuple[int, ...]:
    """Coalitions of one size in the order of their sorted members (lexicographic over indices)."""
    return tuple(i for i in range(n) if mask >> i & 1)


def pooled_yearly_cost(scenario: Scenario, members: Iterable[str], params: SolveParams | None = None) -> float:
    """``v(N)`` by one plain solve of ``restrict(scenario, members)``: a check on the sweep."""
    from placering.solve import solve

    restricted = restrict(scenario, members)
    return yearly_cost(restricted, solve(restricted, params, explain=False))
