"""A :class:`BinaryProgram` with extra linear rows, minimised stage after stage by SCIP.

The recruitment plan's program (all demand years side by side, tied by shared recruitment
variables) is a transportation problem with a few side rows: its LP relaxation is nearly
integral, which suits an LP-based branch and cut far better than CP-SAT's search (20 years
of 120 children: SCIP proves each stage in seconds where CP-SAT took 16-95 s). Objective
values must stay below ``2**52``, so that a double holds each exactly; every solution is
checked here in integers against every row, so a tolerance inside SCIP cannot pass a wrong
one on, and bounds are rounded the safe way.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import attrs
import numpy as np
from ortools.linear_solver import linear_solver_pb2, pywraplp

from placering._ortools.engines import StageResult
from placering.exceptions import SolverError
from placering.program import BinaryProgram, LinearTerm

__all__ = ["EXACT", "Relaxation", "StageMIP"]

log = logging.getLogger(__name__)

#: No gap tolerance, and tighter numerics than SCIP's defaults: a stage's values reach 10^7
#: (20 years of daily costs in kr), where the default feasibility tolerance of 10^-6 let SCIP
#: call a plan 3 kr above its bound optimal.
_SCIP = (
    "limits/gap = 0\nlimits/absgap = 0\nnumerics/feastol = 1e-9\nnumerics/dualfeastol = 1e-7\n"
    "numerics/epsilon = 1e-10\nnumerics/sumepsilon = 1e-9\n"
)

#: Objective values below this are exact in a double, the MIP solver's number type.
EXACT = 2**52


@attrs.frozen(kw_only=True)
class Relaxation:
    """The LP relaxation's optimum (``None`` when GLOP found none), each row's dual and each
    variable's reduced cost, such that ``reduced_cost = cost - sum(row coefficient * dual)``.

    ``dual_value`` is what the duals prove by weak duality for every variable in ``[0, 1]``:
    each row's dual times the side of the row it presses on, plus every reduced cost below
    zero (a variable that would gain from rising to 1). Float noise in the duals can only
    lower it, so it is a bound to trust where ``value`` is not; priced columns outside the
    program add their own reduced costs below zero.
    """

    value: float | None
    duals: np.ndarray
    reduced_costs: np.ndarray
    dual_value: float = -math.inf


class StageMIP:
    """One SCIP model of a program with extra rows ``low <= term <= high``."""

    def __init__(self, program: BinaryProgram, rows: Sequence[tuple[LinearTerm, int, int]] = ()) -> None:
        self.program = program
        self.rows: list[tuple[LinearTerm, int, int]] = []
        model = linear_solver_pb2.MPModelProto()
        for _ in range(program.n_vars):
            model.variable.add(lower_bound=0, upper_bound=1, is_integer=True)
        self.model = model
        for lits in program.exactly_one:
            model.constraint.add(lower_bound=1, upper_bound=1, var_index=lits, coefficient=[1] * len(lits))
        for term, bound in program.capacity:
            self.restrict(term, -(2**62), bound)
        for a, b in program.implications:  # x[a] - x[b] <= 0
            model.constraint.add(lower_bound=-math.inf, upper_bound=0, var_index=[a, b], coefficient=[1, -1])
        for z, ys in program.covers:  # x[z] - sum(x[ys]) <= 0
            model.constraint.add(
                lower_bound=-math.inf, upper_bound=0, var_index=[z, *ys], coefficient=[1] + [-1] * len(ys)
            )
        for term, low, high in rows:
            self.restrict(term, low, high)

    def restrict(self, term: LinearTerm, low: int, high: int, *, slack: float = 0.0) -> None:
        """Add ``low <= term <= high``; in the model SCIP and GLOP see, ``slack`` wider on each
        side (less than 1 keeps the whole-number solutions the same, and spares the LP a row
        held at exactly its optimum, which GLOP may call infeasible by a rounding)."""
        self.rows.append((term, low, high))
        self.model.constraint.add(
            lower_bound=low - slack if low > -(2**61) else -math.inf,
            upper_bound=high + slack if high < 2**61 else math.inf,
            var_index=term.vars,
            coefficient=term.coeffs,
        )

    def minimise(
        self, term: LinearTerm, *, hint: Sequence[int] | None, time_limit: float | None, seed: int, log: bool
    ) -> StageResult:
        if sum(abs(c) for c in term.coeffs) >= EXACT:
            raise SolverError("A stage's objective is too large for the MIP solver's doubles.")
        model = self.model
        for var in model.variable:
            var.objective_coefficient = 0
        for v, c in zip(term.vars, term.coeffs, strict=True):
            model.variable[v].objective_coefficient = c
        model.ClearField("solution_hint")
        if hint is not None:
            # Every variable, its 0s too: SCIP ignores a hint that leaves more than 85 % unknown.
            model.solution_hint.var_index.extend(range(len(hint)))
            model.solution_hint.var_value.extend(float(x) for x in hint)
        request = linear_solver_pb2.MPModelRequest(
            model=model,
            solver_type=linear_solver_pb2.MPModelRequest.SCIP_MIXED_INTEGER_PROGRAMMING,
            enable_internal_solver_output=log,
            # No gap tolerance: the optimum must be exact, and every objective is integral.
            solver_specific_parameters=_SCIP + f"randomization/randomseedshift = {seed}\n",
        )
        if time_limit is not None:
            request.solver_time_limit_seconds = max(time_limit, 0.001)
        response = linear_solver_pb2.MPSolutionResponse()
        pywraplp.Solver.SolveWithProto(request, response)
        status = response.status
        if status in (linear_solver_pb2.MPSOLVER_INFEASIBLE, linear_solver_pb2.MPSOLVER_MODEL_INVALID):
            name = linear_solver_pb2.MPSolverResponseStatus.Name(status)
            raise SolverError(f"The MIP solver reported {name} on a program that has a solution.")
        raw = response.best_objective_bound if response.HasField("best_objective_bound") else -math.inf
        # Rounded up to a whole value: every coefficient is an integer.
        bound = max(math.ceil(raw - 1e-6), 0) if math.isfinite(raw) else 0
        if status not in (linear_solver_pb2.MPSOLVER_OPTIMAL, linear_solver_pb2.MPSOLVER_FEASIBLE) or not len(
            response.variable_value
        ):
            return StageResult(proven=False, values=None, objective=None, bound=bound)
        values = tuple(int(v) for v in np.rint(np.asarray(response.variable_value)).astype(np.int64).tolist())
        self._check(values)
        value = term.evaluate(values)
        proven = status == linear_solver_pb2.MPSOLVER_OPTIMAL and value <= bound
        return StageResult(proven=proven, values=values, objective=value, bound=value if proven else min(bound, value))

    def relaxation(self, term: LinearTerm, *, time_limit: float | None) -> Relaxation:
        """The LP relaxation of the program with ``term`` as objective, by GLOP."""
        model = linear_solver_pb2.MPModelProto()
        model.CopyFrom(self.model)
        for var in model.variable:
            var.is_integer = False
            var.objective_coefficient = 0
        for v, c in zip(term.vars, term.coeffs, strict=True):
            model.variable[v].objective_coefficient = c
        model.ClearField("solution_hint")
        request = linear_solver_pb2.MPModelRequest(
            model=model, solver_type=linear_solver_pb2.MPModelRequest.GLOP_LINEAR_PROGRAMMING
        )
        if time_limit is not None:
            request.solver_time_limit_seconds = max(time_limit, 0.001)
        response = linear_solver_pb2.MPSolutionResponse()
        pywraplp.Solver.SolveWithProto(request, response)
        if response.status != linear_solver_pb2.MPSOLVER_OPTIMAL:
            log.info("GLOP ended %s", linear_solver_pb2.MPSolverResponseStatus.Name(response.status))
            return Relaxation(value=None, duals=np.zeros(0), reduced_costs=np.zeros(0))
        duals = np.asarray(response.dual_value, dtype=float)
        reduced = np.asarray(response.reduced_cost, dtype=float)
        return Relaxation(
            value=response.objective_value, duals=duals, reduced_costs=reduced,
            dual_value=_row_value(model, duals) + float(np.minimum(reduced, 0).sum()),
        )

    def _check(self, values: Sequence[int]) -> None:
        """Raise unless ``values`` keeps every row of the program, in integers."""
        p = self.program
        ok = (
            all(sum(values[v] for v in lits) == 1 for lits in p.exactly_one)
            and all(term.evaluate(values) <= bound for term, bound in p.capacity)
            and all(values[a] <= values[b] for a, b in p.implications)
            and all(values[z] <= sum(values[y] for y in ys) for z, ys in p.covers)
            and all(low <= term.evaluate(values) <= high for term, low, high in self.rows)
        )
        if not ok:
            raise SolverError("The MIP solver returned a solution that breaks the program's rows.")


def _row_value(model: linear_solver_pb2.MPModelProto, duals: np.ndarray) -> float:
    """``sum(dual * side)``: a row pressing up (dual < 0) counts its upper side, one pressing
    down its lower side; a dual towards an open side proves nothing and counts as minus infinity."""
    total = 0.0
    for row, dual in zip(model.constraint, duals.tolist(), strict=True):
        if dual == 0:
            continue
        side = row.upper_bound if dual < 0 else row.lower_bound
        if not math.isfinite(side):
            return -math.inf
        total += dual * side
    return total
