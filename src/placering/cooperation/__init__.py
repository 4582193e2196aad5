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

import uuid
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import attrs
import numpy as np

from placering.comparison import municipality_yearly_costs, yearly_cost
from placering.cooperation.coalition import Links, check_members, codes_of, default_members, restrict
from placering.cooperation.game import CostGame, fixes_yearly_cost
from placering.cooperation.shares import (
    CoreCheck,
    Share,
    core_check,
    kr,
    nucleolus,
    orders,
    population_shares,
    prefixes,
    shapley_exact,
    shapley_sampled,
)
from placering.exceptions import InvalidInputError
from placering.params import SolveParams
from placering.scenario import Scenario
from placering.sweep import Outcome, run

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
    "nucleolus",
    "pooled_yearly_cost",
    "restrict",
]

COOPERATION_FORMAT = "placering.cooperation/1"

#: How the game is evaluated: every coalition, or along random member orders.
METHODS = ("exact", "sampled")

#: The share methods whose allocations the core check looks at, in the file's order.
SHARE_METHODS = ("shapley", "population", "usage", "nucleolus")


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
            "yearly_cost": kr(self.yearly_cost),
            "status": self.status,
        }
        if self.bounds:
            data["bounds"] = dict(self.bounds)
        return data


#: The games a worker process has prepared, by token: a sweep sends its chunks one by one, and
#: each worker prepares the arcs of all members once, not once per chunk.
_GAMES: dict[str, CostGame] = {}


@attrs.frozen
class _CoalitionCosts:
    """The work a sweep sends out: ``v(S)`` for a chunk of coalitions (see :class:`CostGame`)."""

    scenario: Scenario
    members: tuple[str, ...]
    params: SolveParams
    token: str = attrs.field(factory=lambda: uuid.uuid4().hex, eq=False)

    def __call__(self, masks: Sequence[int]) -> list[Outcome]:
        game = _GAMES.get(self.token)
        if game is None:
            _GAMES.clear()  # one sweep at a time: keep no other scenario's arcs alive
            game = _GAMES[self.token] = CostGame(self.scenario, self.members, self.params)
        return [game.value(mask) for mask in masks]


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
    split = decompose and fixes_yearly_cost(scenario)
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
            members=codes_of(members, mask),
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
        "isolated": {"yearly_cost": kr(result.isolated)},
        "pooled": {
            "yearly_cost": kr(result.pooled),
            "status": result.pooled_status,
            "totals": dict(result.pooled_totals),
        },
        "saving": {"yearly_cost": kr(result.saving)},
        "shares": [s.to_dict() for s in result.shares],
        "core": {method: check.to_dict() for method, check in result.core.items()},
    }


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
    chosen = check_members(scenario, default_members(scenario) if members is None else members)
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
    drawn = orders(n, samples or 0, seed) if method == "sampled" else []
    wanted = set(range(1, full + 1)) if method == "exact" else prefixes(drawn) | {1 << i for i in range(n)}
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
        shapley, se = shapley_exact(values, n), np.zeros(n)
        nucleus: list[float | None] = list(nucleolus(values, n))
    else:
        shapley, se = shapley_sampled(cost, n, drawn)
        nucleus = [None] * n
    population = population_shares(scenario, chosen, pooled)
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
                core[name] = core_check(np.array(allocation, dtype=float), values, chosen)
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

