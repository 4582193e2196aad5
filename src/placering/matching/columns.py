"""Column generation: the exact matching of a national scenario on a restricted set of arcs.

A national scenario has about 10^7 arcs, most of them to HVB units hundreds of kilometres away
that no optimal plan uses. Above ``Tuning.price_above`` arcs the matching starts from each
unit's cheapest and nearest few arcs of each kind and prices the others
(:func:`placering.matching.pricing.price`), stage by stage, taking in what pricing wants:

1. the restricted LP grows until pricing certifies it is the whole LP at every stage;
2. the exact pipeline solves the restricted program, from the last round's plan;
3. pricing against that plan either certifies it or names the left-out arcs that could still
   beat it (those priced below the plan's excess over the LP in the parts of the program they
   touch), which join before the next round: ``gap_arcs_per_round`` per unit, ``gap_growth``
   times as many after each round that did not improve the plan.

Under a time limit pricing may use half of it, so that the exact solve always makes a plan; an
uncertified plan comes with the whole LP's bounds, or the first stage's Lagrangian one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import attrs
import numpy as np

from placering.matching.lexicographic import lexicographic_minimum
from placering.matching.model import Arcs, MatchingModel, build_matching, stage_term
from placering.matching.pricing import Outside, Pricing, price
from placering.matching.start import WarmStart, start_arcs, start_plan
from placering.params import SolveParams
from placering.policy import KINDS
from placering.program import LexResult
from placering.scenario import Scenario

__all__ = ["ColumnStats", "by_columns", "minimise"]

logger = logging.getLogger(__name__)

Stages = list[list[tuple[str, int]]]


def minimise(
    model: MatchingModel,
    stages: Stages,
    params: SolveParams,
    deadline: float | None,
    incumbent: list[int] | None = None,
) -> LexResult:
    """The lexicographic minimum of ``model`` over ``stages``, under ``params``."""
    return lexicographic_minimum(
        model.program,
        [stage_term(model, stage) for stage in stages],
        n_arcs=model.n_arcs,
        arc_unit=model.arc_unit,
        arc_home=model.arc_home,
        unit_size=[unit.size for unit in model.units],
        home_free=model.free_places,
        time_limit=None if deadline is None else max(0.0, deadline - time.perf_counter()),
        seed=params.seed,
        workers=params.workers,
        log=params.log,
        strategy=params.strategy,
        tuning=params.tuning,
        cpsat=params.cpsat,
        incumbent=incumbent,
        names=[tuple(name for name, _ in stage) for stage in stages],
        weights=[tuple(weight for _, weight in stage) for stage in stages],
    )


@attrs.frozen(kw_only=True)
class ColumnStats:
    """What column generation did: its rounds of pricing and whether pricing certified the plan."""

    rounds: int
    certified: bool


def by_columns(
    scenario: Scenario,
    arcs: Arcs,
    stages: Stages,
    params: SolveParams,
    deadline: float | None,
    start: WarmStart | None = None,
) -> tuple[MatchingModel, LexResult, ColumnStats]:
    """The lexicographic optimum by column generation (see this module's docstring), from the
    arcs and plan of ``start`` when given."""
    generation = _Generation.of(scenario, arcs, stages, params, deadline)
    if start is not None:
        generation.begin_at(start)
    while True:
        generation.grow_lp()
        model = build_matching(scenario, arcs=arcs, keep=generation.keep)
        # The last restricted optimum is a plan here too (arcs only join), and it settles at
        # once every stage where it meets the LP bound (a round re-solves from the start).
        result = minimise(model, stages, params, deadline, generation.incumbent(model))
        whole = len(stages)
        if generation.whole_lp is not None and result.proven == whole and result.stage_values == generation.whole_lp:
            return model, result, generation.stats(certified=True)  # at the whole LP's bound
        if result.proven < whole or generation.past(deadline):
            break
        check = generation.check(model, result)
        if check.certified and not check.wanted.size:
            return model, result, generation.stats(certified=True)
        if generation.past(generation.pricing_deadline):
            # Another round re-solves a larger program from the start (on national, 3.3 million
            # arcs): past half the time limit, keep this plan and the whole LP's bounds instead.
            break
        generation.take(check)
    return model, generation.uncertified(result), generation.stats(certified=False)


@attrs.define
class _Generation:
    """Column generation in progress: the arcs taken in (``keep``) and what pricing found."""

    scenario: Scenario
    arcs: Arcs
    stages: Stages
    params: SolveParams
    keep: np.ndarray
    costs: list[np.ndarray]  # each stage's per-child cost on every arc, computed once
    unplaced: list[np.ndarray]  # and per unit left unplaced
    tail: list[tuple[str, int]] | None  # how equally priced arcs are ranked
    pricing_deadline: float | None
    begun: float
    rounds: int = 0
    per_unit: int = 0
    placed: np.ndarray | None = None  # the last restricted optimum: each unit's arc in ``arcs``, or -1
    first_bound: int | None = None
    whole_lp: tuple[int, ...] | None = None  # the whole program's lexicographic LP bounds
    last: tuple[int, ...] | None = None  # the last restricted optimum's stage values
    out: np.ndarray = attrs.field(factory=lambda: np.zeros(0, dtype=np.int64))  # arcs left out at the last pricing

    @classmethod
    def of(
        cls, scenario: Scenario, arcs: Arcs, stages: Stages, params: SolveParams, deadline: float | None
    ) -> _Generation:
        n_units = len(arcs.units)
        # Equally priced arcs are taken in by the later terms, cost before km, merged like a stage.
        span = int(arcs.per_child["km"].max(initial=0)) + 1
        now = time.perf_counter()
        return cls(
            scenario=scenario,
            arcs=arcs,
            stages=stages,
            params=params,
            keep=_first_arcs(scenario, arcs, params.tuning.first_arcs),
            costs=[arcs.stage_cost(stage) for stage in stages],
            unplaced=[np.full(n_units, dict(stage).get("unplaced", 0), dtype=np.int64) for stage in stages],
            tail=[("cost", span), ("km", 1)] if arcs.ranges["cost"] * span < 2**62 else None,
            # Pricing may use half the time limit, so that the exact solve always gets to make a plan.
            pricing_deadline=None if deadline is None else (now + deadline) / 2,
            begun=now,
            per_unit=params.tuning.gap_arcs_per_round,
        )

    @staticmethod
    def past(limit: float | None) -> bool:
        return limit is not None and time.perf_counter() > limit

    def grow_lp(self) -> None:
        """Take in the arcs priced below 0 until pricing certifies the restricted LP."""
        tuning = self.params.tuning
        per_unit = tuning.arcs_per_round if self.pricing_deadline is None else tuning.arcs_per_round_limited
        while not self.past(self.pricing_deadline):
            pricing = self.priced(None, per_unit)
            self.first_bound = pricing.first_bound
            if not pricing.wanted.size:
                self.whole_lp = pricing.lower if pricing.certified else None
                self.keep[self.out[pricing.alternatives]] = True
                return
            self.keep[self.out[pricing.wanted]] = True

    def begin_at(self, start: WarmStart) -> None:
        """Take in the start's arcs, and its plan as the first round's incumbent."""
        self.keep |= start_arcs(start, self.scenario, self.arcs)
        placed = start_plan(start, self.scenario, self.arcs)
        if placed is not None:
            self.keep[placed[placed >= 0]] = True
            self.placed = placed

    def incumbent(self, model: MatchingModel) -> list[int] | None:
        """The last plan (each unit's arc in all arcs, -1: unplaced) as the arc and unplaced
        values of ``model``, built on the arcs ``keep``."""
        if self.placed is None:
            return None
        base = np.zeros(model.n_arcs + len(self.placed), dtype=np.int64)
        on = self.placed >= 0
        base[np.searchsorted(np.flatnonzero(self.keep), self.placed[on])] = 1
        base[model.n_arcs + np.flatnonzero(~on)] = 1
        return base.tolist()

    def check(self, model: MatchingModel, result: LexResult) -> Pricing:
        """Price the left-out arcs against the restricted optimum ``result``."""
        # The plan as each unit's arc (-1: unplaced), for pricing to split its excess by part.
        on = np.flatnonzero(np.asarray(result.values[: model.n_arcs], dtype=bool))
        plan = np.full(len(self.arcs.units), -1, dtype=np.int64)
        plan[np.asarray(model.arc_unit, dtype=np.int64)[on]] = on
        self.placed = np.where(plan >= 0, np.flatnonzero(self.keep)[np.maximum(plan, 0)], -1)
        # Arcs only join, so a round's optimum is never worse than the last; one that is no
        # better took in too few of the arcs that could close the gap.
        if self.last is not None and result.stage_values == self.last:
            self.per_unit *= self.params.tuning.gap_growth
        self.last = result.stage_values
        return self.priced(plan, self.per_unit)

    def take(self, check: Pricing) -> None:
        self.keep[self.out[check.wanted]] = True
        self.whole_lp = None

    def priced(self, plan: np.ndarray | None, per_unit: int) -> Pricing:
        """One round of pricing of the arcs left out, against ``plan`` if given."""
        self.rounds += 1
        arcs, costs, tail = self.arcs, self.costs, self.tail
        inside, out = np.flatnonzero(self.keep), np.flatnonzero(~self.keep)
        outside = Outside(
            unit=arcs.unit[out],
            home=arcs.home[out],
            cost=lambda k, chosen: costs[k][out[chosen]],
            rank=lambda chosen: costs[-1][out[chosen]] if tail is None else arcs.stage_cost(tail, out[chosen]),
        )
        found = price(
            [(costs[k][inside], self.unplaced[k]) for k in range(len(self.stages))],
            n_arcs=len(inside),
            arc_unit=arcs.unit[inside].tolist(),
            arc_home=arcs.home[inside].tolist(),
            unit_size=arcs.unit_size.tolist(),
            home_free=arcs.free_places,
            outside=outside,
            plan=plan,
            per_unit=per_unit,
        )
        self.out = out
        logger.info(
            "pricing round %d: %d of %d arcs, %d wanted at stage %d, certified %s, %d alternatives, %s, %.2fs",
            self.rounds, len(inside), len(arcs), len(found.wanted), found.stage, found.certified,
            len(found.alternatives), "LP" if plan is None else f"at most {per_unit} per unit",
            time.perf_counter() - self.begun,
        )  # fmt: skip
        return found

    def uncertified(self, result: LexResult) -> LexResult:
        """Out of time before pricing certified the plan. A stage is proven for all arcs when
        the restricted optimum meets the whole LP's bound there (and so did every stage
        before); the first one that does not is bounded by that LP bound, else by the
        Lagrangian one. So are the anytime curve's points: the restricted program's flow bounds
        hold for its own plans only, so a point of that stage is bounded by the same, and a
        point of a later stage by nothing (0)."""
        proven, bound = 0, max(0, self.first_bound or 0)
        if self.whole_lp is not None:
            reached = min(result.proven, len(self.whole_lp))
            while proven < reached and result.stage_values[proven] == self.whole_lp[proven]:
                proven += 1
            if proven < len(self.whole_lp):
                bound = self.whole_lp[proven]
        progress = tuple(
            (moment, k, value, lower if k < proven else min(lower, bound) if k == proven else 0)
            for moment, k, value, lower in result.progress
        )
        return attrs.evolve(
            result, proven=proven, stage_values=result.stage_values[: proven + 1], bound=bound, progress=progress
        )

    def stats(self, *, certified: bool) -> ColumnStats:
        return ColumnStats(rounds=self.rounds, certified=certified)


def _first_arcs(scenario: Scenario, arcs: Arcs, first: Mapping[str, int]) -> np.ndarray:
    """Each unit's cheapest, then nearest, few arcs of each kind, as a mask over ``arcs``."""
    kinds = list(KINDS)
    code = np.asarray([kinds.index(h.kind) for h in scenario.homes], dtype=np.int64)[arcs.home]
    cost, km = arcs.per_child["cost"], arcs.per_child["km"]
    spans = [len(kinds), int(cost.max(initial=0)) + 1, int(km.max(initial=0)) + 1]
    if len(arcs.units) * spans[0] * spans[1] * spans[2] < 2**62:  # one int64 key sorts fastest
        key = ((arcs.unit * spans[0] + code) * spans[1] + cost) * spans[2] + km
        order = np.argsort(key, kind="stable")
    else:
        order = np.lexsort((km, cost, code, arcs.unit))
    group = (arcs.unit * spans[0] + code)[order]
    rank = np.arange(len(order)) - np.searchsorted(group, group, side="left")
    limit = np.asarray([first[k] for k in kinds], dtype=np.int64)
    keep = np.zeros(len(arcs), dtype=bool)
    keep[order[rank < limit[code[order]]]] = True
    return keep
