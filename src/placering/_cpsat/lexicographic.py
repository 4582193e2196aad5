"""Exact lexicographic minimisation of a :class:`BinaryProgram` with CP-SAT.

Each stage is one linear objective. Stage ``k`` is minimised subject to every earlier stage
staying at its proven minimum (``objective_j <= optimum_j``), hinted with the previous
stage's solution, which is feasible and already optimal for all earlier stages.

Two parameter choices matter on small machines (shared/performance.md, section 5):
with one worker we raise ``linearization_level`` to 2, and with several we run the
``max_lp`` subsolver, because CP-SAT's default ``default_lp`` worker keeps the capacity
rows out of its LP and then never proves the bound on this model.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from ortools import __version__ as _ORTOOLS_VERSION
from ortools.sat.python import cp_model

from placering.exceptions import SolverError
from placering.program import BinaryProgram, LexResult, LinearTerm

__all__ = ["minimise_lexicographically", "ortools_version"]


def ortools_version() -> str:
    return str(_ORTOOLS_VERSION)


def _build(program: BinaryProgram) -> cp_model.CpModel:
    """Write the program straight into the model proto: 3-4x faster than the algebraic API."""
    model = cp_model.CpModel()
    proto = model.proto
    for _ in range(program.n_vars):
        proto.variables.add().domain.extend((0, 1))
    # Each unit ends in exactly one home or unplaced.
    for lits in program.exactly_one:
        proto.constraints.add().exactly_one.literals.extend(lits)
    # A home takes at most its free places.
    for term, bound in program.capacity:
        linear = proto.constraints.add().linear
        linear.vars.extend(term.vars)
        linear.coeffs.extend(term.coeffs)
        linear.domain.extend((0, bound))
    # A sibling placed in a home marks the group as present there.
    for a, b in program.implications:
        ct = proto.constraints.add()
        ct.enforcement_literal.append(a)
        ct.bool_and.literals.append(b)
    # A group counts as placed only where at least one of its homes is marked.
    for z, ys in program.covers:
        ct = proto.constraints.add()
        ct.enforcement_literal.append(z)
        ct.bool_or.literals.extend(ys)
    return model


def _set_objective(model: cp_model.CpModel, term: LinearTerm) -> None:
    model.proto.clear_objective()
    objective = model.proto.objective
    objective.vars.extend(term.vars)
    objective.coeffs.extend(term.coeffs)


def _fix_stage(model: cp_model.CpModel, term: LinearTerm, optimum: int) -> None:
    linear = model.proto.constraints.add().linear
    linear.vars.extend(term.vars)
    linear.coeffs.extend(term.coeffs)
    linear.domain.extend((-(2**62), optimum))


def _hint(model: cp_model.CpModel, values: Sequence[int]) -> None:
    model.proto.clear_solution_hint()
    hint = model.proto.solution_hint
    hint.vars.extend(range(len(values)))
    hint.values.extend(values)


def _evaluate(term: LinearTerm, values: Sequence[int]) -> int:
    return sum(c * values[v] for v, c in zip(term.vars, term.coeffs, strict=True))


def minimise_lexicographically(
    program: BinaryProgram,
    stages: Sequence[LinearTerm],
    *,
    fallback: Sequence[int],
    time_limit: float | None = None,
    seed: int = 0,
    workers: int = 1,
    log: bool = False,
) -> LexResult:
    """Minimise ``stages[0]``, then ``stages[1]`` among its minimisers, and so on.

    ``fallback`` is a feasible solution returned when the time runs out before CP-SAT finds
    one. With ``time_limit`` the search stops early and the result says which stages were
    proven and the certified bound of the first that was not.
    """
    start = time.perf_counter()
    deadline = None if time_limit is None else start + time_limit
    model = _build(program)
    best = list(fallback)
    stage_values: list[int] = []
    bound: int | None = None
    proven = 0
    for term in stages:
        remaining = None if deadline is None else deadline - time.perf_counter()
        if remaining is not None and remaining <= 0:
            bound = None
            break
        _set_objective(model, term)
        if stage_values:  # a solved stage gives a near-optimal hint; the fallback would not
            _hint(model, best)
        solver = cp_model.CpSolver()
        params = solver.parameters
        params.random_seed = seed
        params.num_workers = workers
        params.log_search_progress = log
        if workers == 1:
            params.linearization_level = 2
        else:
            params.subsolvers.extend(["max_lp", "core", "default_lp", "no_lp"][: max(workers, 1)])
        if remaining is not None:
            params.max_time_in_seconds = max(remaining, 0.001)
        status = solver.solve(model)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            values = [int(v) for v in solver.response_proto.solution]
            if _evaluate(term, values) <= _evaluate(term, best):
                best = values
        if status == cp_model.OPTIMAL:
            optimum = _evaluate(term, best)
            stage_values.append(optimum)
            _fix_stage(model, term, optimum)
            proven += 1
            continue
        if status == cp_model.INFEASIBLE or status == cp_model.MODEL_INVALID:
            raise SolverError(f"CP-SAT reported {solver.status_name(status)} on a model that is always feasible.")
        # Rounded down, so the bound stays certified whatever float noise the solver adds.
        raw = solver.best_objective_bound
        bound = max(0, math.floor(raw + 1e-6)) if math.isfinite(raw) else 0
        stage_values.append(_evaluate(term, best))
        break
    return LexResult(
        values=tuple(best),
        proven=proven,
        stage_values=tuple(stage_values),
        bound=bound,
        wall_s=time.perf_counter() - start,
        engine=f"cp-sat {ortools_version()}",
    )
