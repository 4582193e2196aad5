"""The recruitment plan's optimum (design.md section 9): how many homes of each profile each
member recruits, under a budget, so that the policy's lexicographic objective over the totals
summed across the demand years is least.

The program over all demand years (:mod:`placering.recruitment.program`) is minimised stage by
stage by SCIP, each stage's optimum kept as a bound for the next; last, among equal optima, the
least money spent. Because a recruited home exists in every year and each year uses it on its
own, that program is the contract's problem itself, not a relaxation.

Up to :data:`FULL_ARCS` arcs over all years, the program holds every arc. Above, it starts from
each unit's few best arcs and grows by pricing (:mod:`placering.recruitment.columns`): per
stage, the LP relaxation over all arcs gives a certified bound, SCIP the best solution of the
program so far, and when they differ, every arc priced within their gap joins the program
before SCIP solves it again, which then proves the stage for all arcs. Under a time limit the
best recruitment found is returned with the bound of the first stage not proven; each year is
then solved again with it (a plain :func:`placering.solve`), which can only improve the totals.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING

import attrs
import numpy as np

from placering import _fields as f
from placering.cooperation.coalition import check_members, default_members
from placering.exceptions import InvalidInputError, SolverError
from placering.params import SolveParams
from placering.program import LinearTerm
from placering.recruitment.columns import RowIndex, reduced_costs
from placering.recruitment.decision import Recruitment, oere, recruited_id
from placering.recruitment.demand import check_years
from placering.recruitment.profiles import Profile
from placering.recruitment.program import (
    Candidate,
    Keys,
    Program,
    Year,
    YearArcs,
    base_home,
    build,
    candidates_of,
    objective_terms,
    short_list,
    stage_term,
    stages,
    year_arcs,
)
from placering.result import TOTAL_OF_TERM, Plan, Totals, totals_of
from placering.scenario import Scenario
from placering.sweep import run

if TYPE_CHECKING:
    from placering._ortools.stage_mip import StageMIP

__all__ = ["DEFAULT_MAX_PER_MUNICIPALITY", "Optimum", "optimal_recruitment"]

log = logging.getLogger(__name__)

#: The most homes of one profile one municipality recruits, unless said otherwise.
DEFAULT_MAX_PER_MUNICIPALITY = 5

#: Above this many arcs over all years, the program grows by pricing from a short list
#: (measured: the whole program of 20 demo years, 740 000 variables, gave SCIP no first stage
#: in 7 minutes, while 20 years of 120 children, 51 000 variables, were proven in 58 s).
FULL_ARCS = 200_000

#: A priced program grows to close a stage's gap only while it stays within this many arcs.
GROWN_ARCS = FULL_ARCS

#: Arcs a unit starts with in a priced program, into today's homes and into the candidates' each.
SHORT_ARCS = 4

#: Arcs priced below zero that join a year's program in one round of pricing, at most.
ARCS_PER_ROUND = 20_000

#: The most homes of one profile one municipality may be asked to recruit.
MAX_PER_MUNICIPALITY = 100


@attrs.frozen(kw_only=True)
class Optimum:
    """The best recruitment found and what it gives on the training years.

    ``status`` is ``optimal`` only when the lexicographic optimum over the summed totals is
    proven, else ``feasible`` with ``bounds``: a certified lower bound on each summed term not
    proven (the names of :attr:`Plan.bounds`), valid for every recruitment the budget allows.
    ``plans[k]`` is year ``k``'s plan with the recruited homes (its scenario is
    ``recruitment.apply(years[k], profiles)``); ``base[k]`` year ``k``'s plan without them.
    ``totals`` sums the ``plans``' totals.
    """

    status: str
    recruitment: Recruitment
    spent: float
    totals: Totals
    bounds: Mapping[str, float]
    plans: tuple[Plan, ...]
    base: tuple[Plan, ...]
    seconds: float
    #: how the program was solved: priced from short lists or whole, rounds of pricing, and
    #: the variables of the program at the end
    priced: bool = False
    pricing_rounds: int = 0
    arcs_priced_in: int = 0
    variables: int = 0


# --- inputs -----------------------------------------------------------------------------------


def _check(budget: float, max_per_municipality: int, profiles: Sequence[Profile]) -> None:
    if not f.is_number(budget) or not 0 <= budget <= 1e12:
        raise InvalidInputError(f"budget must be a number of kr 0-1e12, got {budget!r}", entity="recruitment",
                                field="budget")
    if isinstance(max_per_municipality, bool) or not isinstance(max_per_municipality, int) or not (
        0 <= max_per_municipality <= MAX_PER_MUNICIPALITY
    ):
        raise InvalidInputError(
            f"max_per_municipality must be an integer 0-{MAX_PER_MUNICIPALITY}, got {max_per_municipality!r}",
            entity="recruitment", field="max_per_municipality",
        )
    names = [p.name for p in profiles]
    if not all(isinstance(p, Profile) for p in profiles):
        raise TypeError("profiles must be Profile objects (read a file with placering.recruitment.read_profiles)")
    if len(set(names)) != len(names):
        raise InvalidInputError("profile names must be unique", entity="recruitment", field="profiles")


def optimal_recruitment(
    years: Sequence[Scenario],
    profiles: Sequence[Profile],
    budget: float,
    *,
    members: Iterable[str] | None = None,
    max_per_municipality: int = DEFAULT_MAX_PER_MUNICIPALITY,
    params: SolveParams | None = None,
    executor: Executor | None = None,
) -> Optimum:
    """The recruitment of design.md section 9 over ``years`` (checked alike by
    :func:`placering.recruitment.demand.check_years`); ``members`` default as in section 8,
    of the first year. Among equally good recruitments, the one that spends least.

    ``params.time_limit`` bounds the search; the years' plain solves (today's plans, and with an
    unproven recruitment the years with it) come on top and go through ``executor``.
    """
    start = time.perf_counter()
    years = check_years(years)
    profiles = tuple(profiles)
    _check(budget, max_per_municipality, profiles)
    first = years[0]
    try:
        chosen = check_members(first, default_members(first) if members is None else members)
    except InvalidInputError as error:
        raise error.located(entity="recruitment") from None
    params = params or SolveParams()
    solving = time.perf_counter()
    base = tuple(run(_SolvePlans(params.replace(time_limit=None)), years, executor=executor, label="years",
                     progress=False))
    again = time.perf_counter() - solving
    budget_oere = oere(budget)
    scales = {"cost": max(y.cost_scale for y in years), "km": max(y.region.km_scale for y in years)}
    candidates = candidates_of(chosen, profiles, budget_oere, max_per_municipality)
    arcs = [year_arcs(y, candidates, scales) for y in years]
    useful = _useful(arcs, len(candidates))
    if not all(useful):
        # No child of any year may use these: recruiting them changes no plan and costs money.
        candidates = [c for c, u in zip(candidates, useful, strict=True) if u]
        arcs = [year_arcs(y, candidates, scales) for y in years]
    deadline = None
    if params.time_limit is not None:
        # An unproven recruitment has each year solved again after the search: keep for that
        # as long as today's plans took, but give the search at least half the limit.
        deadline = start + max(params.time_limit - again, params.time_limit / 2)
    search = _Search(arcs, candidates, budget_oere, base, params, deadline)
    search.run()
    recruitment = Recruitment.of(
        {(c.municipality, c.profile.name): n for c, n in zip(candidates, search.keys.counts, strict=True) if n},
        chosen, profiles,
    )
    proven = search.proven_terms()
    plans = _plans(search.program, years, profiles, recruitment, proven, search.values, params, executor)
    totals = _sum_totals([p.totals for p in plans])
    status = "optimal" if proven else "feasible"
    bounds = {} if proven else _bounds(search, years, plans)
    seconds = time.perf_counter() - start
    log.info("recruitment over %d years: %s in %.1f s", len(years), status, seconds)
    return Optimum(
        status=status, recruitment=recruitment, spent=recruitment.spent(profiles), totals=totals,
        bounds=bounds, plans=plans, base=base, seconds=round(seconds, 4),
        priced=search.priced, pricing_rounds=search.rounds, arcs_priced_in=search.grown,
        variables=search.program.n_vars,
    )


def _useful(arcs: Sequence[YearArcs], n: int) -> list[bool]:
    used = [False] * n
    for ya in arcs:
        reached = set(np.unique(ya.arcs.home).tolist())
        for i, own in enumerate(ya.homes_of):
            used[i] = used[i] or any(j in reached for j in own)
    return used


def _hint(program: Program, base: Sequence[Plan]) -> list[int]:
    """Today's plans as a solution of the program: nothing recruited."""
    arc_of_unit = []
    for y, plan in zip(program.years, base, strict=True):
        arcs = y.arcs.arcs
        home = base_home(y.arcs, plan)
        arc = np.full(len(arcs.units), -1, dtype=np.int64)
        on = np.flatnonzero(arcs.home == home[arcs.unit])
        arc[arcs.unit[on]] = on
        arc_of_unit.append(arc)
    values = program.values(Keys(arc_of_unit=tuple(arc_of_unit), counts=(0,) * len(program.z)))
    if values is None:
        raise SolverError("Today's plan of a demand year uses an arc its recruitment program left out.")
    return values


@attrs.define
class _Search:
    """The stages of the recruitment program, priced when it is large (see the module)."""

    arcs: Sequence[YearArcs]
    candidates: Sequence[Candidate]
    budget_oere: int
    base: Sequence[Plan]
    params: SolveParams
    deadline: float | None
    priced: bool = False
    keep: list[np.ndarray | None] = attrs.field(factory=list)
    program: Program = attrs.field(init=False)
    values: list[int] = attrs.field(factory=list)
    stages: list[list[tuple[str, int]]] = attrs.field(factory=list)
    #: each stage proven and its optimum, in order
    done: list[tuple[list[tuple[str, int]], int]] = attrs.field(factory=list)
    #: the first stage not proven (``None``: none) and its certified bound
    first_open: int | None = None
    rounds: int = 0
    grown: int = 0
    bound: int | None = None
    began: float = attrs.field(factory=time.perf_counter)

    def __attrs_post_init__(self) -> None:
        # Under siblings="prefer" a left-out arc would also need its split marks, which pricing
        # cannot value: such programs stay whole.
        prefer = self.arcs[0].scenario.policy.siblings == "prefer"
        self.priced = not prefer and sum(len(ya.arcs) for ya in self.arcs) > FULL_ARCS
        if self.priced:
            self.keep = [short_list(ya, base_home(ya, plan), SHORT_ARCS) for ya, plan in zip(self.arcs, self.base,
                                                                                            strict=True)]
        else:
            self.keep = [None] * len(self.arcs)
        self.program = build(self.arcs, self.keep, self.candidates, self.budget_oere)
        self.values = _hint(self.program, self.base)
        objective = self.arcs[0].scenario.policy.effective_objective()
        ranges = {name: sum(y.model.ranges[name] for y in self.program.years) for name in objective}
        ranges["spent"] = sum(objective_terms(self.program, ())["spent"].coeffs)
        self.stages = stages(ranges, (*objective, "spent"))
        log.info("recruitment program: %d variables, %d candidates, %s", self.program.n_vars, len(self.candidates),
                 "priced" if self.priced else "whole")

    @property
    def keys(self) -> Keys:
        return self.program.keys(self.values)

    def left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.perf_counter()

    def _term(self, stage: list[tuple[str, int]]) -> LinearTerm:
        return stage_term(objective_terms(self.program, [n for n, _ in stage if n != "spent"]), stage)

    def _mip(self) -> StageMIP:
        from placering import _ortools

        mip = _ortools.StageMIP(self.program.binary(), self.program.rows)
        for stage, best in self.done:
            mip.restrict(self._term(stage), 0, best, slack=0.5)
        return mip

    def _regrow(self, wanted: Sequence[np.ndarray]) -> None:
        """Add the arcs ``wanted`` (a mask per year) to the program, keeping the solution."""
        keys = self.keys
        self.grown += sum(int(w.sum()) for w in wanted)
        self.keep = [k | w if k is not None else None for k, w in zip(self.keep, wanted, strict=True)]
        self.program = build(self.arcs, self.keep, self.candidates, self.budget_oere)
        values = self.program.values(keys)
        if values is None:
            raise SolverError("A recruitment solution lost an arc when its program grew.")
        self.values = values

    def run(self) -> None:
        for stage in self.stages:
            if not self._stage(stage):
                return

    def _open(self, bound: int) -> None:
        """The stage at hand is not proven: its bound is the last certified one."""
        if self.first_open is None:
            self.first_open, self.bound = len(self.done), bound

    def _stage(self, stage: list[tuple[str, int]]) -> bool:
        """Settle one stage; ``False`` when the search stops (out of time)."""
        lower = self._price(stage) if self.priced else None
        if self.priced and lower is None:
            self._open(0)
            return False
        value, proven, bound = self._solve(stage)
        if lower is not None:
            bound = lower[0]  # SCIP's holds for the arcs so far only
            if value is not None and proven and value > bound:
                value, proven = self._close_gap(stage, value, *lower)
        if value is None:
            self._open(bound)
            return False
        if not proven:
            self._open(bound)
            left = self.left()
            if left is not None and left <= 0:
                return False
        # Unproven but not out of time (the gap too wide to close): the next stages keep this
        # one at the value reached, which gives a better recruitment but no more proof.
        self.done.append((stage, value))
        return True

    def _close_gap(
        self, stage: list[tuple[str, int]], value: int, bound: int, rc: list[np.ndarray]
    ) -> tuple[int, bool]:
        """Every arc priced within ``value - bound`` joins and SCIP solves again: its optimum
        is then the whole program's. Where too many would join, the stage stays unproven."""
        gap = value - bound
        wanted = [(r <= gap + _TOLERANCE * max(1.0, abs(gap))) & ~k for r, k in zip(rc, self.keep, strict=True)
                  if k is not None]
        joining = sum(int(w.sum()) for w in wanted)
        if joining + sum(len(y.chosen) for y in self.program.years) > GROWN_ARCS:
            log.info("recruitment: %d arcs priced within the gap of %d, too many to prove the stage", joining, gap)
            return value, False
        if not joining:
            return value, True
        self._regrow(wanted)
        after, proven, _ = self._solve(stage)
        return (value, False) if after is None else (after, proven)

    def _solve(self, stage: list[tuple[str, int]]) -> tuple[int | None, bool, int]:
        """SCIP on the program as it is: its best value (``None``: none found), whether it is
        proven, and SCIP's bound (certified for the program as it is, not for all arcs)."""
        result = self._mip().minimise(
            self._term(stage), hint=self.values, time_limit=self.left(), seed=self.params.seed, log=self.params.log
        )
        log.info("recruitment stage %d: %s %s (bound %s, %d variables) after %.1f s", len(self.done),
                 "proven" if result.proven else "open", result.objective, result.bound, self.program.n_vars,
                 time.perf_counter() - self.began)
        if result.values is not None:
            self.values = list(result.values)
        return result.objective, result.proven, result.bound

    def _price(self, stage: list[tuple[str, int]]) -> tuple[int, list[np.ndarray]] | None:
        """Grow the program until no arc prices below zero in the stage's LP; the certified
        bound and every arc's reduced cost, or ``None`` out of time."""
        while True:
            left = self.left()
            if left is not None and left <= 0:
                return None
            mip = self._mip()
            relaxed = mip.relaxation(self._term(stage), time_limit=left)
            self.rounds += 1
            if relaxed.value is None:
                return None
            index = RowIndex.of(self.program)
            rc = reduced_costs(self.program, index, relaxed.duals, stage, [s for s, _ in self.done])
            self._check_prices(rc, relaxed.reduced_costs)
            wanted = []
            for r, k in zip(rc, self.keep, strict=True):
                assert k is not None
                below = np.flatnonzero((r < -_TOLERANCE) & ~k)
                mask = np.zeros(len(k), dtype=bool)
                mask[below[np.argsort(r[below], kind="stable")[:ARCS_PER_ROUND]]] = True
                wanted.append(mask)
            added = sum(int(w.sum()) for w in wanted)
            log.info("recruitment pricing: LP %.1f, %d arcs priced below zero after %.1f s", relaxed.value, added,
                     time.perf_counter() - self.began)
            if not added:
                # Weak duality: the LP value plus every reduced cost below zero (float noise).
                outside = sum(float(np.minimum(r[~k], 0).sum()) for r, k in zip(rc, self.keep, strict=True)
                              if k is not None)
                value = relaxed.dual_value + outside
                if not math.isfinite(value):
                    return 0, rc
                # Every stage value is a whole number, so the bound rounds up, less a margin for
                # the float sums (10^5 terms of up to 10^7 lose far less than 10^-9 of the value).
                return max(math.ceil(value - 1e-6 - 1e-9 * abs(value)), 0), rc
            self._regrow(wanted)

    def _check_prices(self, rc: Sequence[np.ndarray], solver_rc: np.ndarray) -> None:
        """Raise unless pricing agrees with the LP solver on the arcs in the program: a
        mistake in the row numbering would otherwise make the bound wrong without a sign."""
        for y, r in zip(self.program.years, rc, strict=True):
            mine = r[y.chosen]
            theirs = solver_rc[y.offset : y.offset + y.model.n_arcs]
            if len(mine) and not np.allclose(mine, theirs, rtol=1e-6, atol=1e-6 * max(1.0, float(np.abs(mine).max()))):
                raise SolverError("Pricing the recruitment program's arcs disagrees with the LP solver.")

    def proven_terms(self) -> bool:
        """Whether every objective term is proven: every stage, or all but a last one whose
        bound leaves only the spending open (the least spending is a choice among optima)."""
        if self.first_open is None:
            return len(self.done) == len(self.stages)
        if self.first_open < len(self.stages) - 1 or self.bound is None:
            return False
        bound = self.bound
        value = self._term(self.stages[-1]).evaluate(self.values)
        for name, weight in self.stages[-1]:
            if name == "spent":
                return True
            if bound // weight < value // weight:
                return False
            bound, value = bound - weight * (value // weight), value - weight * (value // weight)
        return True


#: Relative slack for float noise in the LP's duals and value.
_TOLERANCE = 1e-6


# --- the years' plans ------------------------------------------------------------------------


def _into_homes(units: Sequence[Sequence[int]], capacity: int, homes: int) -> list[int]:
    """Which of ``homes`` alike homes (0, 1, ...) each unit goes to: first fit, largest first.
    It always fits where the program allows it: at most one group a home, places enough."""
    room = [capacity] * homes
    where = [0] * len(units)
    for u in sorted(range(len(units)), key=lambda u: -len(units[u])):
        k = next(k for k in range(homes) if room[k] >= len(units[u]))
        room[k] -= len(units[u])
        where[u] = k
    return where


def _home_of(
    y: Year, candidates: Sequence[Candidate], counts: Sequence[int], values: Sequence[int]
) -> dict[str, str]:
    """Each placed child's home in year ``y`` of the solution ``values``, recruited homes named."""
    scenario, m = y.arcs.scenario, y.model
    home_of = {c.id: c.current_home for c in scenario.children if scenario.is_kept(c) and c.current_home}
    shared_home = {own[0]: i for i, own in enumerate(y.arcs.homes_of) if y.arcs.shared[i]}
    sharing: dict[int, list[tuple[int, ...]]] = {}
    for a, (u, j) in enumerate(zip(m.arc_unit, m.arc_home, strict=True)):
        if not values[y.offset + a]:
            continue
        members = m.units[u].members
        if j in shared_home:
            sharing.setdefault(shared_home[j], []).append(members)
            continue
        for c in members:
            home_of[scenario.children[c].id] = scenario.homes[j].id
    for i, units in sharing.items():
        owner = candidates[i]
        for members, k in zip(units, _into_homes(units, owner.profile.capacity, counts[i]), strict=True):
            for child in members:
                home_of[scenario.children[child].id] = recruited_id(owner.municipality, owner.profile.name, k + 1)
    return home_of


def _plans(
    program: Program,
    years: Sequence[Scenario],
    profiles: Sequence[Profile],
    recruitment: Recruitment,
    proven: bool,
    values: Sequence[int],
    params: SolveParams,
    executor: Executor | None,
) -> tuple[Plan, ...]:
    counts = [recruitment.count(c.municipality, c.profile.name) for c in program.candidates]
    scenarios = [recruitment.apply(year, profiles) for year in years]
    if not proven:
        # Unproven: each year's best plan with these homes is at least as good as the search's.
        return tuple(run(_SolvePlans(params.replace(time_limit=None)), scenarios, executor=executor,
                         label="years", progress=False))
    return tuple(
        Plan.from_home_of(scenario, _home_of(y, program.candidates, counts, values))
        for y, scenario in zip(program.years, scenarios, strict=True)
    )


@attrs.frozen
class _SolvePlans:
    """A sweep's work: each scenario's plan, without explanations, one worker."""

    params: SolveParams

    def __call__(self, scenarios: Sequence[Scenario]) -> list[Plan]:
        from placering.solve import solve

        return [solve(s, self.params.replace(workers=1), explain=False) for s in scenarios]


def _sum_totals(totals: Sequence[Totals]) -> Totals:
    return Totals(
        unplaced=sum(t.unplaced for t in totals),
        hvb=sum(t.hvb for t in totals),
        consultant=sum(t.consultant for t in totals),
        split_siblings=sum(t.split_siblings for t in totals),
        cost_per_day=math.fsum(t.cost_per_day for t in totals),
        km=math.fsum(t.km for t in totals),
    )


def _bounds(search: _Search, years: Sequence[Scenario], plans: Sequence[Plan]) -> dict[str, float]:
    """Certified lower bounds on the summed terms not proven, as :func:`placering.solve` gives
    a plan's: the leading term of the first unproven stage is at least ``bound // weight``."""
    kept = _sum_totals([
        totals_of(y, {c.id: c.current_home for c in y.children if y.is_kept(c) and c.current_home}) for y in years
    ])
    totals = _sum_totals([p.totals for p in plans])
    scales = search.program.years[0].model.scales
    bounds: dict[str, float] = {}
    remaining = search.bound or 0
    open_terms = False
    for stage in search.stages[search.first_open or 0 :]:
        for name, weight in stage:
            if name == "spent":
                continue
            scale = scales.get(name, 1)
            constant = 0 if name == "unplaced" else kept.term(name)
            if open_terms:
                bounds[TOTAL_OF_TERM[name]] = constant
                continue
            least = remaining // weight
            reached = round((totals.term(name) - constant) * scale)
            if least >= reached:
                remaining -= weight * reached
                continue
            bounds[TOTAL_OF_TERM[name]] = constant + least / scale
            open_terms = True
        open_terms = True
    return bounds
