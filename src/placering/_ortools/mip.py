"""A whole-unit assignment as a mixed-integer program, for the parts of a matching whose flow
relaxation keeps splitting sibling groups.

The flow branch and bound proves most parts in a few flows, but on a large part with many
split groups its depth-first search is exponential, and CP-SAT's bound moves too slowly there
(see benchmarks/README.md). An LP-based MIP solver with cutting planes closes such gaps at the
root: on the national instance's 6 329-unit cost part, SCIP proved the flow's bound in 41 s
where CP-SAT had found no plan after 170 s. SCIP ships inside the OR-Tools wheel, so no new
dependency is needed; it is reached through ``MPModelProto``, built from arrays. The HiGHS
that OR-Tools also bundles (1.12) was quicker on that part's first stage but crashed the
process (signal 11) on its second when given a solution hint, so it is not used.

The solution is checked exactly here (each unit in one place, no home over its places, every
``caps`` row kept), so a tolerance in the MIP solver cannot pass a wrong plan on.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import attrs
import numpy as np
from ortools.linear_solver import linear_solver_pb2, pywraplp

from placering.exceptions import SolverError

__all__ = ["AssignmentResult", "assignment_minimum", "solution_hint"]


#: Objective values below this are exact in a double, the MIP solvers' number type.
_EXACT = 2**52


@attrs.frozen(kw_only=True)
class AssignmentResult:
    """``choice`` gives each unit's arc (an index into the arcs given), or -1 for unplaced;
    ``None`` when no plan was found. ``objective`` is exact; ``bound`` is certified."""

    proven: bool
    choice: np.ndarray | None
    objective: int | None
    bound: int
    infeasible: bool = False


def assignment_minimum(
    *,
    unit_size: np.ndarray,
    arc_unit: np.ndarray,
    arc_home: np.ndarray,
    arc_cost: np.ndarray,
    unplaced_cost: np.ndarray,
    unplaced_open: np.ndarray,
    home_capacity: np.ndarray,
    home_full: np.ndarray,
    caps: Sequence[tuple[np.ndarray, np.ndarray, int]] = (),
    weights: Sequence[int] = (),
    hint: np.ndarray | None = None,
    time_limit: float | None = None,
    seed: int = 0,
    log: bool = False,
    surely_feasible: bool = True,
) -> AssignmentResult:
    """Put each unit whole on one of its arcs or (where open) unplaced, at least cost.

    Arguments follow :func:`~placering._ortools.engines.min_cost_flow`: costs are per child,
    ``arc_unit`` indexes the units given, ``arc_home`` the homes' arrays; a full home takes
    exactly its places. Each ``caps`` item ``(per-child arc coefficients, per-child unplaced
    coefficients, limit)`` keeps that term at most ``limit``. ``hint`` is a ``choice`` to
    start from (-2 where unknown). Without ``surely_feasible``, a proof that no plan exists
    comes back as ``infeasible`` rather than as an error.

    ``weights`` are those of the terms the costs merge, when they do (each above what the terms
    after it add together, the last 1: :func:`placering.matching.model.stages_of`). SCIP
    compares objective values with a relative tolerance of 1e-9, so on a merged objective in
    the tens of billions it may stop with its bound a few hundred below its plan: then the
    terms are minimised one after another, each small enough to compare in units.
    """
    started = time.perf_counter()
    problem = _Problem(
        unit_size=unit_size, arc_unit=arc_unit, arc_home=arc_home, unplaced_open=unplaced_open,
        home_capacity=home_capacity, home_full=home_full, seed=seed, log=log,
    )  # fmt: skip
    result = _assignment(
        problem, arc_cost=arc_cost, unplaced_cost=unplaced_cost, caps=caps, hint=hint, time_limit=time_limit,
        surely_feasible=surely_feasible,
    )  # fmt: skip
    if result.proven or result.choice is None or len(weights) < 2:
        return result
    left = None if time_limit is None else time_limit - (time.perf_counter() - started)
    if left is not None and left <= 0:
        return result
    by_terms = _by_terms(problem, arc_cost, unplaced_cost, caps, weights, result.choice, left)
    return result if by_terms is None else by_terms


@attrs.frozen(kw_only=True)
class _Problem:
    """What every solve of one assignment shares: its units, arcs and homes, and SCIP's seed
    and log."""

    unit_size: np.ndarray
    arc_unit: np.ndarray
    arc_home: np.ndarray
    unplaced_open: np.ndarray
    home_capacity: np.ndarray
    home_full: np.ndarray
    seed: int
    log: bool


def _by_terms(
    problem: _Problem,
    arc_cost: np.ndarray,
    unplaced_cost: np.ndarray,
    caps: Sequence[tuple[np.ndarray, np.ndarray, int]],
    weights: Sequence[int],
    hint: np.ndarray,
    time_limit: float | None,
) -> AssignmentResult | None:
    """The merged objective's optimum, its terms minimised one after another (each kept at its
    optimum by a row while the next is minimised); ``None`` if one is not proven in time."""
    arc_rest, unplaced_rest = np.asarray(arc_cost, dtype=np.int64), np.asarray(unplaced_cost, dtype=np.int64)
    if weights[-1] != 1 or (arc_rest < 0).any() or (unplaced_rest < 0).any():
        return None  # not a merge of nonnegative terms: no exact split
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    kept, choice = list(caps), hint
    for weight in weights:
        # Each child's value of this term: what its weight divides out of the rest (the terms
        # after it add less than the weight, so this is exact).
        arc_term, arc_rest = np.divmod(arc_rest, weight)
        unplaced_term, unplaced_rest = np.divmod(unplaced_rest, weight)
        left = None if deadline is None else deadline - time.perf_counter()
        if left is not None and left <= 0:
            return None
        found = _assignment(
            problem, arc_cost=arc_term, unplaced_cost=unplaced_term, caps=kept, hint=choice, time_limit=left,
            surely_feasible=True,
        )  # fmt: skip
        if not found.proven or found.choice is None or found.objective is None:
            return None
        kept.append((arc_term, unplaced_term, found.objective))
        choice = found.choice
    size, placed = np.asarray(problem.unit_size, dtype=np.int64), choice >= 0
    # Each unit's chosen arc is its own, so the arcs' sizes are the placed units' sizes.
    value = int((np.asarray(arc_cost, dtype=np.int64)[choice[placed]] * size[placed]).sum())
    value += int((np.asarray(unplaced_cost, dtype=np.int64)[~placed] * size[~placed]).sum())
    return AssignmentResult(proven=True, choice=choice, objective=value, bound=value)


def _assignment(
    problem: _Problem,
    *,
    arc_cost: np.ndarray,
    unplaced_cost: np.ndarray,
    caps: Sequence[tuple[np.ndarray, np.ndarray, int]],
    hint: np.ndarray | None,
    time_limit: float | None,
    surely_feasible: bool,
) -> AssignmentResult:
    """One SCIP solve of the assignment (see :func:`assignment_minimum`)."""
    unit_size, arc_unit, arc_home = problem.unit_size, problem.arc_unit, problem.arc_home
    unplaced_open, home_capacity, home_full = problem.unplaced_open, problem.home_capacity, problem.home_full
    seed, log = problem.seed, problem.log
    size = np.asarray(unit_size, dtype=np.int64)
    open_units = np.flatnonzero(unplaced_open)
    arc_size = size[arc_unit]
    objective = np.concatenate([arc_cost * arc_size, unplaced_cost[open_units] * size[open_units]])
    shape = _Shape(
        size=size, arc_unit=np.asarray(arc_unit), arc_home=np.asarray(arc_home), home_capacity=home_capacity,
        home_full=home_full, caps=caps, open_units=open_units,
    )  # fmt: skip
    # Every plan takes exactly one variable per unit, so each unit's cheapest one is a constant
    # of every plan: taken out, the values SCIP compares are the excess over it, small enough
    # that its relative tolerance (1e-9) stays below 1 (at 10^11 it passed a gap of 84 as optimal).
    shifted, offset = _shifted(objective, shape)
    if int(np.abs(shifted).sum()) >= _EXACT:
        # A double no longer holds every objective value exactly: leave it to CP-SAT.
        return AssignmentResult(proven=False, choice=None, objective=None, bound=0)
    model = _model(shifted, shape)
    n_units, n_arcs = len(unit_size), len(arc_unit)
    if hint is not None:
        given, values = solution_hint(_indices(hint, open_units, n_arcs), np.concatenate([shape.arc_unit, open_units]))
        model.solution_hint.var_index.extend(given.tolist())
        model.solution_hint.var_value.extend(values.tolist())
    request = linear_solver_pb2.MPModelRequest(
        model=model,
        solver_type=linear_solver_pb2.MPModelRequest.SCIP_MIXED_INTEGER_PROGRAMMING,
        enable_internal_solver_output=log,
        # No gap tolerance: the optimum must be exact, and every objective is integral. No
        # restarts and at most 5 rounds of cuts at the root: these parts' root LPs close their
        # gaps early, and SCIP's later rounds and restarts redo presolving and cuts for little
        # (SCIP's time on the demo's marginal table 49 -> 35 s, the table 75 -> 59 s; on county-xl
        # seeds 1, 2, 3 and 5's part MIPs 5.6 -> 3.1 s; every optimum the same).
        solver_specific_parameters=(
            "limits/gap = 0\nlimits/absgap = 0\npresolving/maxrestarts = 0\nseparating/maxroundsroot = 5\n"
            f"randomization/randomseedshift = {seed}\n"
        ),
    )
    if time_limit is not None:
        request.solver_time_limit_seconds = max(time_limit, 0.001)
    response = linear_solver_pb2.MPSolutionResponse()
    pywraplp.Solver.SolveWithProto(request, response)
    status = response.status
    if status == linear_solver_pb2.MPSOLVER_INFEASIBLE and not surely_feasible:
        return AssignmentResult(proven=True, choice=None, objective=None, bound=0, infeasible=True)
    if status in (linear_solver_pb2.MPSOLVER_INFEASIBLE, linear_solver_pb2.MPSOLVER_MODEL_INVALID):
        name = linear_solver_pb2.MPSolverResponseStatus.Name(status)
        raise SolverError(f"The MIP solver reported {name} on an assignment that has a plan.")
    raw = response.best_objective_bound if response.HasField("best_objective_bound") else -math.inf
    # Rounded up to a whole value: every objective coefficient is an integer. SCIP stopped before
    # its root LP may report less than 0 for an objective with no negative coefficient.
    bound = offset + max(0, math.ceil(raw - 1e-6)) if math.isfinite(raw) else offset
    if status not in (linear_solver_pb2.MPSOLVER_OPTIMAL, linear_solver_pb2.MPSOLVER_FEASIBLE) or not len(
        response.variable_value
    ):
        return AssignmentResult(proven=False, choice=None, objective=None, bound=bound)
    values = np.rint(np.asarray(response.variable_value)).astype(np.int64)
    choice = _choice(values, n_units, arc_unit, open_units, n_arcs)
    value = int(objective @ values)
    _check(choice, shape, values)
    proven = status == linear_solver_pb2.MPSOLVER_OPTIMAL and value <= bound
    return AssignmentResult(proven=proven, choice=choice, objective=value, bound=value if proven else min(bound, value))


@attrs.frozen(kw_only=True)
class _Shape:
    """What an assignment is made of: the model is built from it and its plan checked against it."""

    size: np.ndarray  # per unit, its children
    arc_unit: np.ndarray
    arc_home: np.ndarray
    home_capacity: np.ndarray
    home_full: np.ndarray
    caps: Sequence[tuple[np.ndarray, np.ndarray, int]]
    open_units: np.ndarray  # the units that may stay unplaced

    @property
    def arc_size(self) -> np.ndarray:
        return self.size[self.arc_unit]


def _model(objective: np.ndarray, shape: _Shape) -> linear_solver_pb2.MPModelProto:
    """The assignment as a MIP: one 0-1 variable per arc, then per open unit's "unplaced"."""
    size, arc_unit, arc_home, open_units = shape.size, shape.arc_unit, shape.arc_home, shape.open_units
    home_capacity, home_full = shape.home_capacity, shape.home_full
    n_units, n_arcs = len(size), len(arc_unit)
    arc_size = shape.arc_size
    model = linear_solver_pb2.MPModelProto()
    for c in objective.tolist():
        model.variable.add(lower_bound=0, upper_bound=1, is_integer=True, objective_coefficient=c)
    # Each unit lies in exactly one place.
    var_unit = np.concatenate([arc_unit, open_units])
    order = np.argsort(var_unit, kind="stable")
    starts = np.searchsorted(var_unit[order], np.arange(n_units + 1))
    for u in range(n_units):
        members = order[starts[u] : starts[u + 1]].tolist()
        if not members:
            raise SolverError("A unit has no place left in the assignment it was given.")
        model.constraint.add(lower_bound=1, upper_bound=1, var_index=members, coefficient=[1] * len(members))
    # A home takes at most its places, and a full home exactly them.
    order = np.argsort(arc_home, kind="stable")
    homes, first = np.unique(arc_home[order], return_index=True)
    ends = [*first[1:].tolist(), n_arcs] if len(first) else []  # a part's face may have no arcs at all
    for h, lo, hi in zip(homes.tolist(), first.tolist(), ends, strict=True):
        members = order[lo:hi]
        places = int(home_capacity[h])
        model.constraint.add(
            lower_bound=places if home_full[h] else -math.inf,
            upper_bound=places,
            var_index=members.tolist(),
            coefficient=arc_size[members].tolist(),
        )
    for arc_coeff, unplaced_coeff, limit in shape.caps:
        full_row = np.concatenate([arc_coeff * arc_size, unplaced_coeff[open_units] * size[open_units]])
        row, least = _shifted(full_row, shape)
        used = np.flatnonzero(row)
        model.constraint.add(
            lower_bound=-math.inf, upper_bound=limit - least, var_index=used.tolist(), coefficient=row[used].tolist()
        )
    return model


def _shifted(coeffs: np.ndarray, shape: _Shape) -> tuple[np.ndarray, int]:
    """``coeffs`` (per arc, then per open unit's "unplaced") less each unit's least one, and the
    sum of those: what every plan, one variable per unit, adds to it anyway."""
    var_unit = np.concatenate([shape.arc_unit, shape.open_units]).astype(np.int64)
    least = np.full(len(shape.size), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(least, var_unit, coeffs)
    least[least == np.iinfo(np.int64).max] = 0  # a unit without a variable: _model refuses it
    return coeffs - least[var_unit], int(least.sum())


def solution_hint(chosen: np.ndarray, var_unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The variables a hint sets and their values, given each unit's chosen variable (-1 not
    known) and each variable's unit. Every variable of a unit the hint places is given, its 0s
    too: SCIP ignores a partial solution that leaves more than 85 % of the variables unknown,
    and completes one that leaves only the unknown units' open (county-xl's stage MIP then
    started from the hint's plan instead of one three times as costly)."""
    given = np.flatnonzero(chosen[var_unit] >= 0)
    return given, (given == chosen[var_unit[given]]).astype(float)


def _indices(choice: np.ndarray, open_units: np.ndarray, n_arcs: int) -> np.ndarray:
    """The variables a ``choice`` sets to 1 (-1 for a unit it says nothing valid about)."""
    slot = np.full(len(choice), -1, dtype=np.int64)
    slot[open_units] = n_arcs + np.arange(len(open_units))
    return np.where(choice >= 0, choice, np.where(choice == -1, slot, -1))


def _choice(values: np.ndarray, n_units: int, arc_unit: np.ndarray, open_units: np.ndarray, n_arcs: int) -> np.ndarray:
    choice = np.full(n_units, -2, dtype=np.int64)
    on = np.flatnonzero(values[:n_arcs])
    choice[arc_unit[on]] = on
    choice[open_units[np.flatnonzero(values[n_arcs:])]] = -1
    return choice


def _check(choice: np.ndarray, shape: _Shape, values: np.ndarray) -> None:
    """Raise unless ``values`` is a plan, checked in integers."""
    size, arc_unit, arc_home, open_units = shape.size, shape.arc_unit, shape.arc_home, shape.open_units
    home_capacity, home_full, arc_size = shape.home_capacity, shape.home_full, shape.arc_size
    per_unit = np.bincount(np.concatenate([arc_unit, open_units]), weights=values, minlength=len(size))
    load = np.bincount(arc_home, weights=values[: len(arc_unit)] * arc_size, minlength=len(home_capacity))
    touched = np.unique(arc_home)
    bad = (
        not np.all(per_unit == 1)
        or np.any(choice == -2)
        or np.any(load[touched] > home_capacity[touched])
        or np.any(home_full[touched] & (load[touched] != home_capacity[touched]))
        or any(
            int(np.concatenate([a * arc_size, p[open_units] * size[open_units]]) @ values) > limit
            for a, p, limit in shape.caps
        )
    )
    if bad:
        raise SolverError("The MIP solver returned a plan that breaks the assignment's rules.")
