"""The cost game ``v(S)`` solved fast: the arcs are built once for all members and masked per
coalition, and what a coalition's plan cannot change is settled before the solve.

Every shortcut keeps ``v(S)`` exactly what ``solve(restrict(scenario, S))`` gives:

- *arcs once*. Rules 1-6 for a child of ``S`` and a home of ``restrict(scenario, S)`` read
  nothing that depends on ``S`` (pooling is ``pooled``, kin homes keep the child's own
  reservation), so the arcs of ``S`` are those of all members, masked to ``S``'s units, to the
  homes ``restrict`` keeps and to the groups that fit the places ``S`` leaves free;
- *one market arc per unit*. ``restrict`` gives every consultant and HVB home room for all of
  ``S``'s children, so a plan that puts a unit in a market home other than its lexicographically
  best one can move it there, no worse in any term: the program keeps only that arc;
- *settled units*. A unit with no arc to an own family home or kin home of ``S`` takes its best
  market home (or stays unplaced) in every optimal plan, whatever the others do;
- *no explanations*, no :class:`~placering.result.Plan`: the totals come from the arcs chosen.

The program left is solved by the matching package, stage by stage, exactly as ``solve`` does.
The shortcuts need units placed as one sibling group (``siblings: "together"``) and an
objective holding ``unplaced`` and ``cost`` (else ties between optimal plans could differ in
yearly cost); otherwise, and for a coalition a time limit leaves unproven, the game falls back
to a plain solve of ``restrict(scenario, S)``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

import attrs
import numpy as np

from placering.comparison import yearly_cost
from placering.cooperation.coalition import codes_of, restrict
from placering.matching.columns import minimise
from placering.matching.model import ARC_TERMS, Arcs, all_arcs, build_matching, stages_of, term_ranges
from placering.params import SolveParams
from placering.result import Totals
from placering.scenario import Scenario
from placering.sweep import Outcome, outcome_of

__all__ = ["CostGame", "fixes_yearly_cost"]

_MARKET = ("consultant", "hvb")


def fixes_yearly_cost(scenario: Scenario) -> bool:
    """Whether every optimal plan has the same yearly cost: the objective holds both terms it
    reads. Only then may a shortcut pick any optimal plan, or add up the optima of parts."""
    objective = scenario.policy.effective_objective()
    return "cost" in objective and "unplaced" in objective


class CostGame:
    """``v(S)`` for coalitions of ``members`` (bit ``i`` of a mask is ``members[i]``)."""

    def __init__(self, scenario: Scenario, members: Sequence[str], params: SolveParams) -> None:
        self.scenario = scenario
        self.members = tuple(members)
        self.params = params.replace(workers=1)
        self.fast = scenario.policy.siblings == "together" and fixes_yearly_cost(scenario)
        if self.fast:
            self._prepare()

    def _prepare(self) -> None:
        pooled = restrict(self.scenario, self.members)
        n = len(pooled.children)
        # Room everywhere, so that no arc is lost to a group that does not fit all members' children;
        # each coalition applies its own free places below.
        universe = attrs.evolve(pooled, homes=[attrs.evolve(h, capacity=max(h.capacity, n)) for h in pooled.homes])
        arcs = all_arcs(universe)
        self.pooled, self.arcs = pooled, arcs
        index = {code: i for i, code in enumerate(self.members)}
        homes = pooled.homes
        self.kind = np.asarray([h.kind for h in homes])
        self.capacity = np.asarray([h.capacity for h in homes], dtype=np.int64)
        self.owner = np.asarray([index.get(h.owner, -1) for h in homes], dtype=np.int64)
        self.unit_member = np.asarray(
            [index[pooled.children[u.members[0]].municipality] for u in arcs.units], dtype=np.int64
        )
        market = np.isin(self.kind, _MARKET)[arcs.home]
        self.capacitated = ~market
        # Each unit's lexicographically best market arc under the objective's arc terms.
        self.objective = objective = pooled.policy.effective_objective()
        terms = [t for t in objective if t in ARC_TERMS]
        order = np.lexsort([*(arcs.per_child[t] for t in reversed(terms)), ~market, arcs.unit])
        first = np.ones(len(order), dtype=bool)
        first[1:] = arcs.unit[order][1:] != arcs.unit[order][:-1]
        best = order[first & market[order]]
        self.best_market = np.full(len(arcs.units), -1, dtype=np.int64)
        self.best_market[arcs.unit[best]] = best
        # A settled unit takes its best market arc only where that beats staying unplaced: an
        # objective may rank km (or cost) before unplaced.
        for u in np.flatnonzero(self.best_market >= 0).tolist():
            a = int(self.best_market[u])
            placed = [0 if t == "unplaced" else int(arcs.per_child[t][a]) for t in objective]
            alone = [1 if t == "unplaced" else 0 for t in objective]
            if placed > alone:
                self.best_market[u] = -1
        # Children kept in their current home: constants of every coalition they belong to.
        kept = [c for c in pooled.children if pooled.is_kept(c)]
        home_index = {h.id: j for j, h in enumerate(homes)}
        self.kept_member = np.asarray([index[c.municipality] for c in kept], dtype=np.int64)
        self.kept_home = np.asarray([home_index[c.current_home or ""] for c in kept], dtype=np.int64)
        cost_units = np.asarray(universe.cost_units, dtype=np.int64)
        km = pooled.region.km_units_matrix
        codes = pooled.region.index
        self.kept_cost = cost_units[self.kept_home] if kept else np.zeros(0, dtype=np.int64)
        self.kept_km = np.asarray([km[codes[c.municipality], codes[pooled.home(c.current_home or "").municipality]]
                                   for c in kept], dtype=np.int64)
        self.cost_scale = universe.cost_scale
        self.km_scale = pooled.region.km_scale

    # --- one coalition --------------------------------------------------------------------------

    def value(self, mask: int) -> Outcome:
        """``v(S)`` of coalition ``mask`` as a sweep outcome (status, totals, yearly cost)."""
        if not self.fast:
            return self._plain(mask)
        outcome = self._fast(mask)
        return outcome if outcome is not None else self._plain(mask)

    def _plain(self, mask: int) -> Outcome:
        return outcome_of(restrict(self.scenario, codes_of(self.members, mask)), self.params)

    def _fast(self, mask: int) -> Outcome | None:
        start = time.perf_counter()
        arcs = self.arcs
        bits = (mask >> np.arange(len(self.members))) & 1
        inside = bits.astype(bool)
        unit_in = inside[self.unit_member]
        size = arcs.unit_size
        n_children = int(size[unit_in].sum()) + int(inside[self.kept_member].sum())
        kept_in = inside[self.kept_member]
        kept = np.bincount(self.kept_home[kept_in], minlength=len(self.kind))
        # The homes restrict keeps with arcs, and their free places for this coalition.
        owner_in = np.where(self.owner >= 0, inside[np.maximum(self.owner, 0)], False)
        market_home = np.isin(self.kind, _MARKET)
        capacity = np.where(market_home, np.maximum(self.capacity, n_children), self.capacity)
        free = capacity - kept
        open_home = market_home | ((self.kind == "municipal") & owner_in) | (self.kind == "kin")
        keep = unit_in[arcs.unit] & self.capacitated & open_home[arcs.home] & (free[arcs.home] >= size[arcs.unit])
        # Units with an own or kin home in reach go to the program; the rest take their best market arc.
        contested = np.zeros(len(size), dtype=bool)
        contested[arcs.unit[keep]] = True
        settled = unit_in & ~contested
        best = self.best_market
        keep[best[contested & (best >= 0)]] = True
        chosen = list(best[settled & (best >= 0)].tolist())
        unplaced = int(size[settled & (best < 0)].sum())
        program_units = np.flatnonzero(contested)
        if len(program_units):
            picked, left = self._solve(program_units, keep, free, start)
            if picked is None:
                return None
            chosen += picked
            unplaced += left
        return self._outcome(np.asarray(chosen, dtype=np.int64), unplaced, kept_in)

    def _solve(
        self, program_units: np.ndarray, keep: np.ndarray, free: np.ndarray, start: float
    ) -> tuple[list[int], int] | tuple[None, int]:
        """The lexicographic optimum of the contested units: their arcs chosen, and the children
        left unplaced; ``None`` when a time limit left a stage unproven."""
        arcs = self.arcs
        renumber = np.full(len(arcs.units), -1, dtype=np.int64)
        renumber[program_units] = np.arange(len(program_units))
        idx = np.flatnonzero(keep)
        au, ah = renumber[arcs.unit[idx]], arcs.home[idx]
        size = arcs.unit_size[program_units]
        per_child = {name: values[idx] for name, values in arcs.per_child.items()}
        sub = Arcs(
            units=tuple(arcs.units[u] for u in program_units.tolist()),
            unit=au,
            home=ah,
            per_child=per_child,
            unit_size=size,
            free_places=tuple(free.tolist()),
            scales=arcs.scales,
            ranges=term_ranges(len(program_units), au, size, per_child),
        )
        model = build_matching(self.pooled, arcs=sub)
        stages = stages_of(model, self.objective)
        limit = self.params.time_limit
        deadline = None if limit is None else start + limit
        result = minimise(model, stages, self.params, deadline)
        if result.proven < len(stages):
            return None, 0
        values = result.values
        picked = [int(idx[a]) for a in range(len(idx)) if values[a]]
        placed = {int(au[a]) for a in range(len(idx)) if values[a]}
        left = int(sum(s for u, s in enumerate(size.tolist()) if u not in placed))
        return picked, left

    def _outcome(self, chosen: np.ndarray, unplaced: int, kept_in: np.ndarray) -> Outcome:
        arcs = self.arcs
        weight = arcs.unit_size[arcs.unit[chosen]]
        sums = {name: int((weight * arcs.per_child[name][chosen].astype(np.int64)).sum()) for name in ARC_TERMS}
        kinds = Counter(self.kind[self.kept_home[kept_in]].tolist())
        cost_units = sums["cost"] + int(self.kept_cost[kept_in].sum())
        km_units = sums["km"] + int(self.kept_km[kept_in].sum())
        totals = Totals(
            unplaced=unplaced,
            hvb=sums["hvb"] + kinds["hvb"],
            consultant=sums["consultant"] + kinds["consultant"],
            split_siblings=0,
            cost_per_day=cost_units / self.cost_scale,
            km=km_units / self.km_scale,
        )
        return Outcome(status="optimal", totals=totals, yearly_cost=yearly_cost(self.scenario, totals))
