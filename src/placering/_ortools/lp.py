"""A dense linear program, solved by GLOP: for the nucleolus of a cooperation's cost game.

Rows are ``A_ub x <= b_ub`` and ``A_eq x = b_eq`` over free variables; the answer carries the
primal values and the dual value of every ``<=`` row (how much the optimum moves per unit of
its right-hand side), which tell which rows every optimal solution keeps tight.
"""

from __future__ import annotations

import attrs
import numpy as np
from ortools.linear_solver import pywraplp

from placering.exceptions import SolverError

__all__ = ["LinearResult", "linear_minimum"]


@attrs.frozen(kw_only=True)
class LinearResult:
    objective: float
    x: np.ndarray
    duals: np.ndarray


def linear_minimum(
    c: np.ndarray, a_ub: np.ndarray, b_ub: np.ndarray, a_eq: np.ndarray, b_eq: np.ndarray
) -> LinearResult:
    """``min c x`` subject to ``a_ub x <= b_ub`` and ``a_eq x = b_eq``, ``x`` free, by GLOP."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:  # pragma: no cover - GLOP ships in every OR-Tools wheel
        raise SolverError("the GLOP linear solver is not available in this OR-Tools build")
    infinity = solver.infinity()
    xs = [solver.NumVar(-infinity, infinity, f"x{i}") for i in range(len(c))]
    rows = []
    for coeffs, bound in zip(a_ub.tolist(), b_ub.tolist(), strict=True):
        row = solver.Constraint(-infinity, bound)
        for i, value in enumerate(coeffs):
            if value:
                row.SetCoefficient(xs[i], value)
        rows.append(row)
    for coeffs, bound in zip(a_eq.tolist(), b_eq.tolist(), strict=True):
        row = solver.Constraint(bound, bound)
        for i, value in enumerate(coeffs):
            if value:
                row.SetCoefficient(xs[i], value)
    objective = solver.Objective()
    for i, value in enumerate(c.tolist()):
        objective.SetCoefficient(xs[i], value)
    objective.SetMinimization()
    status = solver.Solve()
    if status != pywraplp.Solver.OPTIMAL:
        raise SolverError(f"the linear program was not solved to optimality (GLOP status {status})")
    return LinearResult(
        objective=objective.Value(),
        x=np.asarray([v.solution_value() for v in xs]),
        duals=np.asarray([row.dual_value() for row in rows]),
    )
