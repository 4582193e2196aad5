"""CP-SAT and min-cost flow on a :class:`BinaryProgram`, one stage at a time.

:class:`StageModel` keeps one CP-SAT model across the stages of a lexicographic solve; the
pipeline fixes variables and adds stage bounds between calls. :func:`min_cost_flow` solves
the transportation relaxation with OR-Tools' ``SimpleMinCostFlow``.

Two parameter choices matter on small machines (shared/performance.md, section 5):
with one worker we raise ``linearization_level`` to 2, and with several we run the
``max_lp`` subsolver first, because CP-SAT's default ``default_lp`` worker keeps the capacity
rows out of its LP and then never proves the bound on this model.
"""

from __future__ import annotations

import importlib.metadata
import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
from google.protobuf import text_format
from google.protobuf.descriptor import FieldDescriptor
from ortools.graph.python import min_cost_flow as mcf
from ortools.sat import sat_parameters_pb2
from ortools.sat.python import cp_model
from ortools.sat.python import cp_model_helper as cmh

from placering.exceptions import InvalidInputError, SolverError
from placering.program import BinaryProgram, LinearTerm

__all__ = [
    "OWNED_CPSAT_PARAMETERS",
    "FlowResult",
    "StageModel",
    "StageResult",
    "check_cpsat_parameters",
    "min_cost_flow",
    "ortools_version",
]

#: CP-SAT fields that placering sets from its own parameters, and which one to use instead:
#: passing them through would bypass the determinism, logging and time-limit guarantees.
OWNED_CPSAT_PARAMETERS = {
    "num_workers": "workers",
    "num_search_workers": "workers",
    "random_seed": "seed",
    "max_time_in_seconds": "time_limit",
    "log_search_progress": "log",
}

_FD = sat_parameters_pb2.SatParameters.DESCRIPTOR.fields_by_name
_INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
}


def ortools_version() -> str:
    return importlib.metadata.version("ortools")


def _is_repeated(desc: Any) -> bool:
    # Newer protobuf deprecates ``label`` in favour of the ``is_repeated`` property.
    repeated = getattr(desc, "is_repeated", None)
    return repeated if isinstance(repeated, bool) else desc.label == desc.LABEL_REPEATED


def _scalar(desc: Any, value: Any, field: str) -> Any:
    """``value`` as protobuf takes it for one element of ``desc``; an enum is given by name."""
    if desc.type == desc.TYPE_ENUM:
        names = desc.enum_type.values_by_name
        if not isinstance(value, str) or value not in names:
            raise InvalidInputError(f"{field} must be one of {', '.join(names)}, got {value!r}", field=field)
        return names[value].number
    if desc.type == desc.TYPE_BOOL:
        if not isinstance(value, bool):
            raise InvalidInputError(f"{field} must be true or false, got {value!r}", field=field)
        return value
    if desc.type in _INT_RANGES:
        low, high = _INT_RANGES[desc.type]
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidInputError(f"{field} must be an integer, got {value!r}", field=field)
        if not low <= value <= high:
            raise InvalidInputError(f"{field} must lie in [{low}, {high}], got {value!r}", field=field)
        return value
    if desc.type in (desc.TYPE_DOUBLE, desc.TYPE_FLOAT):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value):
            raise InvalidInputError(f"{field} must be a number, got {value!r}", field=field)
        return float(value)
    if desc.type == desc.TYPE_STRING:
        if not isinstance(value, str):
            raise InvalidInputError(f"{field} must be a string, got {value!r}", field=field)
        return value
    raise InvalidInputError(f"{field} cannot be set through placering", field=field)


def _cpsat_message(values: Mapping[str, object]) -> sat_parameters_pb2.SatParameters:
    """``values`` as a ``SatParameters`` message, checking each name and type first."""
    params = sat_parameters_pb2.SatParameters()
    for name, value in values.items():
        field = f"cpsat.{name}"
        if not isinstance(name, str):
            raise InvalidInputError(f"cpsat names must be strings, got {name!r}", field="cpsat")
        if name in OWNED_CPSAT_PARAMETERS:
            raise InvalidInputError(
                f"{field} is set by placering, use {OWNED_CPSAT_PARAMETERS[name]} instead", field=field
            )
        desc = _FD.get(name)
        if desc is None:
            raise InvalidInputError(f"{field} is not a CP-SAT parameter", field=field)
        if desc.type == desc.TYPE_MESSAGE:
            raise InvalidInputError(f"{field} cannot be set through placering", field=field)
        if _is_repeated(desc):
            if not isinstance(value, (list, tuple)):
                raise InvalidInputError(f"{field} must be a list, got {value!r}", field=field)
            getattr(params, name).extend(_scalar(desc, item, field) for item in value)
        else:
            setattr(params, name, _scalar(desc, value, field))
    return params


def _apply_cpsat(params: Any, values: Mapping[str, object]) -> None:
    """Merge ``values`` into a solver's parameters; a list replaces the solver's list."""
    update = _cpsat_message(values)
    for name in values:
        if _is_repeated(_FD[name]):
            getattr(params, name).clear()
    if isinstance(params, sat_parameters_pb2.SatParameters):
        params.MergeFrom(update)
    # Newer OR-Tools give CpSolver a pybind11 SatParameters, which takes enums only as its own
    # enum objects; text format carries them by name.
    elif not params.merge_text_format(text_format.MessageToString(update)):
        raise SolverError("CP-SAT did not accept the cpsat settings placering had checked.")


def check_cpsat_parameters(values: Mapping[str, object]) -> None:
    """Raise :class:`InvalidInputError` unless each item names a CP-SAT parameter placering
    leaves to the user and gives it a value of the field's type (enums by name, lists for
    repeated fields), and CP-SAT itself accepts them together (a subsolver's name, say).

    CP-SAT checks its parameters only when it solves, and a solve may never call it, so the
    values are tried here on an empty model: whether they are valid never depends on the scenario.
    """
    _cpsat_message(values)
    parameters = cp_model.CpSolver().parameters
    _apply_cpsat(parameters, values)
    # CP-SAT's own solve wrapper, not a CpSolver: this trial is no solve of the matching.
    trial = cmh.SolveWrapper()
    trial.set_parameters(parameters)
    response = trial.solve(cp_model.CpModel().proto)
    if response.status == cp_model.MODEL_INVALID:
        reason = response.solution_info or "invalid parameters"
        raise InvalidInputError(f"cpsat settings are refused by CP-SAT: {reason}", field="cpsat")


@attrs.frozen(kw_only=True)
class StageResult:
    """``values`` is the best solution (``None`` if none was found), ``bound`` a certified bound."""

    proven: bool
    values: tuple[int, ...] | None
    objective: int | None
    bound: int


class StageModel:
    """One CP-SAT model of a program, minimised stage after stage."""

    def __init__(self, program: BinaryProgram) -> None:
        # Written straight into the model proto: 3-4x faster than the algebraic API.
        self.model = cp_model.CpModel()
        proto = self.model.proto
        for _ in range(program.n_vars):
            proto.variables.add().domain.extend((0, 1))
        # Each unit ends in exactly one home or unplaced.
        for lits in program.exactly_one:
            proto.constraints.add().exactly_one.literals.extend(lits)
        # A home takes at most its free places.
        for term, bound in program.capacity:
            self.restrict(term, 0, bound)
        # A sibling placed in a home marks the group as present there.
        for a, b in program.implications:
            ct = proto.constraints.add()
            ct.enforcement_literal.append(a)
            ct.bool_and.literals.append(b)
        # A mark needs a member: a group is present in a home only with a child there.
        for z, ys in program.covers:
            ct = proto.constraints.add()
            ct.enforcement_literal.append(z)
            ct.bool_or.literals.extend(ys)

    def fix(self, var: int, value: int) -> None:
        domain = self.model.proto.variables[var].domain
        domain.clear()
        domain.extend((value, value))

    def restrict(self, term: LinearTerm, low: int, high: int) -> None:
        """Add ``low <= term <= high``."""
        linear = self.model.proto.constraints.add().linear
        linear.vars.extend(term.vars)
        linear.coeffs.extend(term.coeffs)
        linear.domain.extend((low, high))

    def minimise(
        self,
        term: LinearTerm,
        *,
        hint: Sequence[int] | None,
        time_limit: float | None,
        seed: int,
        workers: int,
        log: bool,
        cpsat: Mapping[str, object] | None = None,
    ) -> StageResult:
        proto = self.model.proto
        proto.clear_objective()
        proto.objective.vars.extend(term.vars)
        proto.objective.coeffs.extend(term.coeffs)
        proto.clear_solution_hint()
        if hint is not None:
            proto.solution_hint.vars.extend(range(len(hint)))
            proto.solution_hint.values.extend(hint)
        solver = cp_model.CpSolver()
        params = solver.parameters
        params.random_seed = seed
        params.num_workers = workers
        params.log_search_progress = log
        if workers == 1:
            params.linearization_level = 2
        else:
            params.subsolvers.extend(["max_lp", "core", "default_lp", "no_lp", "quick_restart"][:workers])
        if time_limit is not None:
            params.max_time_in_seconds = max(time_limit, 0.001)
        if cpsat:
            # Last, so the user's values override placering's choices for the same fields.
            _apply_cpsat(params, cpsat)
        status = solver.solve(self.model)
        if status == cp_model.MODEL_INVALID and cpsat:
            # Names and types are checked up front; ranges only CP-SAT knows, and it says which.
            reason = solver.response_proto.solution_info or "no reason given"
            raise InvalidInputError(
                f"cpsat settings were refused by CP-SAT ({reason})", entity="parameters", field="cpsat"
            )
        if status in (cp_model.INFEASIBLE, cp_model.MODEL_INVALID):
            raise SolverError(f"CP-SAT reported {solver.status_name(status)} on a model that is always feasible.")
        raw = solver.best_objective_bound
        # Rounded down, so the bound stays certified whatever float noise the solver adds.
        bound = max(0, math.floor(raw + 1e-6)) if math.isfinite(raw) else 0
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            values = tuple(int(v) for v in solver.response_proto.solution)
            objective = sum(c * values[v] for v, c in zip(term.vars, term.coeffs, strict=True))
            proven = status == cp_model.OPTIMAL
            return StageResult(proven=proven, values=values, objective=objective, bound=objective if proven else bound)
        return StageResult(proven=False, values=None, objective=None, bound=bound)


@attrs.frozen(kw_only=True)
class FlowResult:
    """Flow on each unit arc, on each unit's unplaced arc and into each home; ``cost`` in total."""

    arc_flow: np.ndarray
    unplaced_flow: np.ndarray
    home_flow: np.ndarray
    cost: int


def min_cost_flow(
    *,
    unit_supply: np.ndarray,
    arc_unit: np.ndarray,
    arc_home: np.ndarray,
    arc_cost: np.ndarray,
    unplaced_cost: np.ndarray,
    unplaced_open: np.ndarray,
    home_capacity: np.ndarray,
    home_full: np.ndarray,
) -> FlowResult | None:
    """The transportation relaxation: units send their size to homes or to "unplaced".

    A unit's arc carries at most the unit's size; a home takes at most its capacity, or
    exactly its capacity when ``home_full``. All arguments are integer (or boolean) arrays.
    Returns ``None`` when the flow solver cannot take the instance (cost range) or finds it
    infeasible, so the caller falls back to CP-SAT.
    """
    n_units, n_homes, n_arcs = len(unit_supply), len(home_capacity), len(arc_unit)
    sink = n_units + n_homes
    units = np.arange(n_units, dtype=np.int64)
    homes = np.arange(n_homes, dtype=np.int64)
    tails = np.concatenate([arc_unit, units, n_units + homes]).astype(np.int64)
    heads = np.concatenate([n_units + arc_home, np.full(n_units + n_homes, sink)]).astype(np.int64)
    # A full home has its places as a lower bound: it demands them and keeps no slack arc.
    caps = np.concatenate(
        [unit_supply[arc_unit], np.where(unplaced_open, unit_supply, 0), np.where(home_full, 0, home_capacity)]
    ).astype(np.int64)
    costs = np.concatenate([arc_cost, unplaced_cost, np.zeros(n_homes, dtype=np.int64)]).astype(np.int64)
    supplies = np.concatenate([unit_supply, np.where(home_full, -home_capacity, 0), [0]]).astype(np.int64)
    supplies[sink] = -supplies.sum()
    flow = mcf.SimpleMinCostFlow()
    if len(tails):
        flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int64), supplies)
    if flow.solve() != flow.OPTIMAL:
        return None
    flows = flow.flows(np.arange(len(tails), dtype=np.int64))
    return FlowResult(
        arc_flow=flows[:n_arcs],
        unplaced_flow=flows[n_arcs : n_arcs + n_units],
        home_flow=np.bincount(arc_home, weights=flows[:n_arcs], minlength=n_homes).astype(np.int64),
        cost=int(flow.optimal_cost()),
    )
