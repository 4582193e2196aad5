"""Shares of ``v(N)``: the Shapley value (exact and sampled), the nucleolus, the population key,
and the core check of an allocation (design.md section 8)."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from placering.cooperation.coalition import codes_of
from placering.exceptions import SolverError
from placering.scenario import Scenario

__all__ = ["CORE_TOLERANCE", "CoreCheck", "Share", "core_check", "kr", "nucleolus", "orders", "population_shares",
           "prefixes", "shapley_exact", "shapley_sampled"]

#: An allocation is in the core when no coalition's excess is above this (to the krona).
CORE_TOLERANCE = 0.5


def kr(value: float) -> float:
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
            key: (kr(value) if isinstance(value, float) else value) for key, value in attrs.asdict(self).items()
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
            "max_excess": kr(self.excess),
            "worst": {"members": list(self.worst), "excess": kr(self.excess)},
        }



def shapley_exact(values: np.ndarray, n: int) -> np.ndarray:
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


def orders(n: int, samples: int, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    orders = []
    for _ in range(samples):
        order = list(range(n))
        rng.shuffle(order)
        orders.append(order)
    return orders


def prefixes(orders: Sequence[Sequence[int]]) -> set[int]:
    masks = set()
    for order in orders:
        mask = 0
        for i in order:
            mask |= 1 << i
            masks.add(mask)
    return masks


def shapley_sampled(
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


def core_check(allocation: np.ndarray, values: np.ndarray, members: Sequence[str]) -> CoreCheck:
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
    return CoreCheck(in_core=bool(best <= CORE_TOLERANCE), worst=codes_of(members, worst), excess=float(best) + 0.0)


def population_shares(scenario: Scenario, members: Sequence[str], pooled: float) -> list[float | None]:
    people = [scenario.region.municipality(code).population for code in members]
    if any(p is None for p in people) or not sum(p or 0 for p in people):
        return [None] * len(members)
    total = sum(p or 0 for p in people)
    return [pooled * (p or 0) / total for p in people]

