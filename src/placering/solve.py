"""Optimal matching: :func:`solve` turns a scenario into a proven lexicographic optimum.

The work is done by :mod:`placering.matching`: the 0-1 program of the matching
(:mod:`~placering.matching.model`), minimised stage by stage
(:mod:`~placering.matching.lexicographic`), by column generation above a size
(:mod:`~placering.matching.columns`). This module turns its result into a :class:`Plan`.
"""

from __future__ import annotations

import time

import attrs
import numpy as np

from placering.matching.columns import ColumnStats, by_columns, minimise
from placering.matching.model import Arcs, MatchingModel, all_arcs, build_matching, stages_of
from placering.matching.start import WarmStart, start_plan, warm_start
from placering.params import SolveParams
from placering.program import LexResult
from placering.result import TOTAL_OF_TERM, Plan, SolverStats, TermProgress, totals_of
from placering.scenario import Scenario

__all__ = ["WarmStart", "solve", "solve_and_start"]

#: What explaining a plan takes per child of the scenario, at most (national: 5 s for 26 500).
EXPLAIN_SECONDS_PER_CHILD = 2e-4


def solve(
    scenario: Scenario,
    params: SolveParams | None = None,
    *,
    time_limit: float | None = None,
    seed: int | None = None,
    workers: int | None = None,
    explain: bool = True,
    start: WarmStart | None = None,
) -> Plan:
    """Place the children of ``scenario`` in the lexicographically best way its policy allows.

    Keyword arguments override the matching fields of ``params``. The plan's status is
    ``optimal`` only when every objective term was proven minimal; under a time limit it may be
    ``feasible``, with ``bounds`` giving a certified lower bound for the terms not proven.
    Unless ``explain`` is false, every child in an HVB or consultant home and every unplaced
    child gets an explanation. ``start`` (from :func:`solve_and_start` on a scenario with the
    same children) only shortens the search: the optimum is exact either way.
    """
    params = _params(scenario, params).replace(time_limit=time_limit, seed=seed, workers=workers)
    return _solve(scenario, params, explain=explain, start=start, leave=False)[0]


def _params(scenario: object, params: object) -> SolveParams:
    if not isinstance(scenario, Scenario):
        raise TypeError(
            f"solve takes a Scenario (read a file with placering.read_scenario), got {type(scenario).__name__}"
        )
    if params is not None and not isinstance(params, SolveParams):
        raise TypeError(f"solve takes SolveParams as params, got {type(params).__name__}")
    return params or SolveParams()


def solve_and_start(
    scenario: Scenario, params: SolveParams | None = None, *, explain: bool = True, start: WarmStart | None = None
) -> tuple[Plan, WarmStart]:
    """:func:`solve` under ``params``, and the warm start it leaves for a variant of ``scenario``
    (the same children, homes added or changed): its plan and the arcs its column generation
    took in."""
    plan, left = _solve(scenario, params, explain=explain, start=start, leave=True)
    assert left is not None
    return plan, left


def _solve(
    scenario: Scenario, params: SolveParams | None, *, explain: bool, start: WarmStart | None, leave: bool
) -> tuple[Plan, WarmStart | None]:
    """The solve; with ``leave``, also its warm start (a plain solve need not copy its arcs)."""
    params = _params(scenario, params)
    began = time.perf_counter()
    deadline = None
    if params.time_limit is not None:
        # The explanations come after the search: keep them inside the limit too (measured
        # 0.2 ms a child on a national plan), but never give them more than a tenth of it.
        reserve = min(EXPLAIN_SECONDS_PER_CHILD * len(scenario.children), params.time_limit / 10) if explain else 0.0
        deadline = began + params.time_limit - reserve
    arcs = all_arcs(scenario)
    objective = scenario.policy.effective_objective()
    columns = ColumnStats(rounds=0, certified=True)
    if params.strategy == "flow" and scenario.policy.siblings != "prefer" and len(arcs) > params.tuning.price_above:
        stages = stages_of(arcs, objective)
        built = time.perf_counter()
        model, result, columns = by_columns(scenario, arcs, stages, params, deadline, start)
        priced = True
    else:
        model = build_matching(scenario, arcs=arcs)
        stages = stages_of(model, objective)
        built = time.perf_counter()
        result = minimise(model, stages, params, deadline, _incumbent(scenario, arcs, start))
        priced = False
    solved = time.perf_counter()
    home_of = _home_of(scenario, model, result)
    warm = warm_start(scenario, model, home_of, priced=priced) if leave else None
    bounds = _bounds(scenario, model, stages, result, home_of)
    plan = attrs.evolve(
        Plan.from_home_of(scenario, home_of, status="optimal" if result.proven == len(stages) else "feasible"),
        bounds=bounds,
    )
    if explain:
        from placering.explain import explain_plan

        plan = explain_plan(scenario, plan)
    return attrs.evolve(
        plan,
        solver=SolverStats(
            wall_s=round(time.perf_counter() - began, 4),
            build_s=round(built - began, 4),
            solve_s=round(solved - built, 4),
            seed=params.seed,
            workers=params.workers,
            stages=len(stages),
            units=len(model.units),
            arcs=model.n_arcs,
            engine=result.engine,
            by_stage=result.stage_stats,
            pricing_rounds=columns.rounds,
            all_arcs=len(arcs),
            certified=columns.certified,
            progress=_progress(scenario, model, stages, result, began),
        ),
    ), warm


def _incumbent(scenario: Scenario, arcs: Arcs, start: WarmStart | None) -> list[int] | None:
    """The start's plan as the arc and unplaced values of the program on all of ``arcs``."""
    placed = None if start is None else start_plan(start, scenario, arcs)
    if placed is None:
        return None
    values = np.zeros(len(arcs) + len(placed), dtype=np.int64)
    values[placed[placed >= 0]] = 1
    values[len(arcs) + np.flatnonzero(placed < 0)] = 1
    return values.tolist()


def _progress(
    scenario: Scenario, model: MatchingModel, stages: list[list[tuple[str, int]]], result: LexResult, start: float
) -> tuple[TermProgress, ...]:
    """The anytime curve per term: each point's stage value and bound split into the stage's
    terms, as :func:`_bounds` does (a leading term is ``value // weight``; its bound carries
    over to the next term only where the plan meets it), with the kept children added."""
    kept_homes = {c.id: c.current_home for c in scenario.children if scenario.is_kept(c) and c.current_home}
    kept = totals_of(scenario, kept_homes)
    points: list[TermProgress] = []
    for moment, k, stage_value, stage_bound in result.progress:
        value, bound = stage_value, stage_bound
        for name, weight in stages[k]:
            scale = model.scales.get(name, 1)
            base = 0 if name == "unplaced" else kept.term(name)
            reached, least = value // weight, bound // weight
            points.append(
                TermProgress(
                    seconds=round(moment - start, 4),
                    term=TOTAL_OF_TERM[name],
                    value=base + reached / scale,
                    bound=base + least / scale,
                )
            )
            if least < reached:
                break  # the terms after it are not bounded by this stage
            value, bound = value - weight * reached, bound - weight * least
    return tuple(points)


def _home_of(scenario: Scenario, model: MatchingModel, result: LexResult) -> dict[str, str]:
    """Each placed child's home in the plan ``result``, kept children included."""
    home_of: dict[str, str] = {}
    for child in scenario.children:
        if scenario.is_kept(child):
            assert child.current_home is not None
            home_of[child.id] = child.current_home
    for a, (u, j) in enumerate(zip(model.arc_unit, model.arc_home, strict=True)):
        if result.values[a]:
            for m in model.units[u].members:
                home_of[scenario.children[m].id] = scenario.homes[j].id
    return home_of


def _bounds(
    scenario: Scenario,
    model: MatchingModel,
    stages: list[list[tuple[str, int]]],
    result: LexResult,
    home_of: dict[str, str],
) -> dict[str, float]:
    """Certified lower bounds on the terms a time-limited solve did not prove.

    Within the first unproven stage, ``sum(w_t * t) >= bound``: the leading term is at least
    ``bound // w``, and when the plan reaches that, the term is proven and the rest of the
    bound carries over to the next term (among plans that keep the proven terms). Terms after
    the first unproven one are bounded only by what the kept children contribute.
    """
    if result.proven == len(stages):
        return {}
    kept = totals_of(scenario, {c: h for c, h in home_of.items() if scenario.is_kept(scenario.child(c))})
    bounds: dict[str, float] = {}
    remaining = result.bound or 0
    open_terms = False
    for stage in stages[result.proven :]:
        for name, weight in stage:
            scale = model.scales.get(name, 1)
            base = 0 if name == "unplaced" else kept.term(name)  # kept children are placed
            if open_terms:
                bounds[TOTAL_OF_TERM[name]] = base
                continue
            reached = model.terms[name].evaluate(result.values)
            least = remaining // weight
            if least >= reached:  # the plan meets the bound: this term is proven
                remaining -= weight * reached
                continue
            bounds[TOTAL_OF_TERM[name]] = base + least / scale
            open_terms = True
        open_terms = True  # a later stage was never reached
    return bounds

