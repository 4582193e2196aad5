"""Peer solvers on the arcs placering exports: one method, one process, one JSON line.

    python benchmarks/peers.py {mcf,highs,cpsat-naive} ARCS.npz --time-limit S

The file is written by ``export.py`` (see its docstring for the arrays). This script never
imports placering: placering imports OR-Tools, and OR-Tools and highspy cannot share a
process (both ship a ``libhighs.so.1``; google/or-tools#5246). ``mcf`` and ``cpsat-naive``
import OR-Tools, ``highs`` imports highspy, each only when it runs.

Methods:

- ``mcf``, the floor: OR-Tools ``SimpleMinCostFlow`` on the same arcs, minimising
  placering's first merged stage (``stage_weights``). It is the LP relaxation of the
  matching (a sibling group may be split), so its status is ``relaxation``; its optimum
  bounds the first term from below.
- ``highs``: highspy MIP on the same sparse 0-1 model (a binary per arc and per unit's
  "unplaced"; exactly one per unit; ``sum(size * x) <= free`` per home), built in bulk with
  ``passModel`` from CSC arrays, one thread, minimised term by term (each optimum added as a
  row ``term <= optimum``), warm-started with the previous term's solution.
- ``cpsat-naive``: CP-SAT as a typical user writes it: a Boolean for every (unit, home)
  pair, ``x == 0`` for pairs that are not arcs, ``sum(...) == 1`` per unit, ``sum(size * x)
  <= free`` per home, default parameters with only the time limit set, term by term with
  ``model.add(term <= optimum)``. Skipped when units x homes > 3 000 000.

The JSON line: ``method``, ``status`` (``optimal``, ``feasible``, ``time_limit``,
``relaxation``, ``skipped: ...`` or ``error: ...``), ``totals`` (term -> integer value over
the arcs, in the npz's units, kept children excluded), ``proven`` (terms proven minimal),
``bound`` (``{"term", "value"}``: a certified lower bound on the first unproven term, or
``null``), ``load_s``, ``build_s``, ``solve_s``, ``peak_rss_mib``, ``solver_version``.
All native solver output goes to stderr, so stdout holds only the JSON line.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import numpy as np

METHODS = ("mcf", "highs", "cpsat-naive")
#: The dense model has a Boolean per pair; beyond this it needs several GiB (about 1.3 KiB per pair).
NAIVE_MAX_PAIRS = 3_000_000


class Instance:
    """The arrays of one .npz, checked for consistency."""

    def __init__(self, path: Path) -> None:
        with np.load(path, allow_pickle=False) as data:
            self.objective = [str(t) for t in data["objective"]]
            self.unit_size = data["unit_size"].astype(np.int64)
            self.home_free = data["home_free"].astype(np.int64)
            self.arc_unit = data["arc_unit"].astype(np.int64)
            self.arc_home = data["arc_home"].astype(np.int64)
            self.stage_weights = data["stage_weights"].astype(np.int64)
            self.arc = {t: data[f"arc_{t}"].astype(np.int64) for t in self.objective}
            self.unplaced = {t: data[f"unplaced_{t}"].astype(np.int64) for t in self.objective}
        self.n_units = int(self.unit_size.size)
        self.n_homes = int(self.home_free.size)
        self.n_arcs = int(self.arc_unit.size)
        for t in self.objective:
            if self.arc[t].size != self.n_arcs or self.unplaced[t].size != self.n_units:
                raise ValueError(f"term {t!r} has {self.arc[t].size} arc and {self.unplaced[t].size} unit coefficients")
        if self.n_arcs and (self.arc_unit.max() >= self.n_units or self.arc_home.max() >= self.n_homes):
            raise ValueError("an arc names a unit or home beyond the arrays")

    def evaluate(self, on_arc: np.ndarray, unplaced: np.ndarray) -> dict[str, int]:
        """Each term at a 0-1 solution (``on_arc[A]``, ``unplaced[U]`` boolean)."""
        return {
            t: int(self.arc[t][on_arc].sum() + self.unplaced[t][unplaced].sum()) for t in self.objective
        }

    def violations(self, on_arc: np.ndarray, unplaced: np.ndarray) -> list[str]:
        """What a 0-1 solution breaks: exactly one choice per unit, free places per home."""
        problems = []
        chosen = np.bincount(self.arc_unit[on_arc], minlength=self.n_units) + unplaced.astype(np.int64)
        if (chosen != 1).any():
            problems.append(f"{int((chosen != 1).sum())} units without exactly one choice")
        load = np.bincount(self.arc_home[on_arc], weights=self.unit_size[self.arc_unit[on_arc]], minlength=self.n_homes)
        if (load > self.home_free).any():
            problems.append(f"{int((load > self.home_free).sum())} homes over capacity")
        return problems


def _rss_mib() -> float:
    """Peak resident memory of this process, in MiB.

    ``VmHWM`` of ``/proc/self/status``: the high-water mark of this address space. Linux keeps
    ``getrusage(RUSAGE_SELF).ru_maxrss`` across ``execve``, so a worker started from a parent
    that holds 110 MiB (placering and OR-Tools imported) reports at least 110 MiB however
    little it uses; ``ru_maxrss`` is only the fallback where ``/proc`` is missing.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _bound(term: str, value: float) -> dict[str, Any] | None:
    """A solver's dual bound on an integral objective, rounded up; ``None`` when it has none."""
    if not math.isfinite(value):
        return None
    return {"term": term, "value": math.ceil(value - 1e-6)}


# --- mcf: the floor -------------------------------------------------------------------------------


def run_mcf(inst: Instance, time_limit: float) -> dict[str, Any]:
    """The min-cost flow relaxation of placering's first stage (no time limit applies)."""
    import ortools
    from ortools.graph.python import min_cost_flow

    start = time.perf_counter()
    size = inst.unit_size
    weights = dict(zip(inst.objective, (int(w) for w in inst.stage_weights), strict=True))
    arc_cost = np.zeros(inst.n_arcs, dtype=np.int64)
    unit_cost = np.zeros(inst.n_units, dtype=np.int64)
    for t, w in weights.items():
        if w:
            arc_cost += w * inst.arc[t]
            unit_cost += w * inst.unplaced[t]
    arc_size = size[inst.arc_unit]
    # Coefficients are per unit (size x per child); a flow unit is one child.
    if (arc_cost % arc_size).any() or (unit_cost % size).any():
        raise ValueError("a stage coefficient is not a multiple of its unit's size")
    U, H = inst.n_units, inst.n_homes
    sink = U + H
    tails = np.concatenate([inst.arc_unit, np.arange(U), U + np.arange(H)]).astype(np.int32)
    heads = np.concatenate([U + inst.arc_home, np.full(U, sink), np.full(H, sink)]).astype(np.int32)
    caps = np.concatenate([arc_size, size, np.maximum(inst.home_free, 0)]).astype(np.int64)
    costs = np.concatenate([arc_cost // arc_size, unit_cost // size, np.zeros(H, dtype=np.int64)]).astype(np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    nodes = np.concatenate([np.arange(U), [sink]]).astype(np.int32)
    flow.set_nodes_supplies(nodes, np.concatenate([size, [-int(size.sum())]]).astype(np.int64))
    built = time.perf_counter()
    status = flow.solve()
    solved = time.perf_counter()
    if status != flow.OPTIMAL:
        return {"status": f"error: min-cost flow status {status}", "build_s": built - start, "solve_s": solved - built}
    f = np.asarray(flow.flows(np.asarray(arcs, dtype=np.int32)), dtype=np.int64)
    f_arc, f_unplaced = f[: inst.n_arcs], f[inst.n_arcs : inst.n_arcs + U]
    # Only the stage's terms: the flow does not minimise the later ones, so their values mean nothing.
    totals = {
        t: int(((inst.arc[t] // arc_size) * f_arc).sum() + ((inst.unplaced[t] // size) * f_unplaced).sum())
        for t in inst.objective
        if weights[t]
    }
    value = int(flow.optimal_cost())
    first = next(t for t in inst.objective if weights[t])
    # sum(w_t * t) >= value with each weight above everything after it, so t1 >= value // w1.
    split = (np.bincount(inst.arc_unit[f_arc > 0], minlength=U) + (f_unplaced > 0)) > 1
    return {
        "status": "relaxation",
        "totals": totals,
        "proven": [],
        "bound": {"term": first, "value": value // weights[first]},
        "stage_value": value,
        "split_units": int(split.sum()),
        "build_s": built - start,
        "solve_s": solved - built,
        "solver_version": f"ortools {ortools.__version__} SimpleMinCostFlow",
    }


# --- highs: the best exact peer -------------------------------------------------------------------


def run_highs(inst: Instance, time_limit: float) -> dict[str, Any]:
    """HiGHS MIP on the sparse 0-1 model, one thread, lexicographic by sequential solves."""
    import highspy

    start = time.perf_counter()
    deadline = start + time_limit
    A, U, H = inst.n_arcs, inst.n_units, inst.n_homes
    n_cols = A + U
    # Column a (an arc): 1 in its unit's row, size in its home's row. Column A + u: 1 in row u.
    a_start = np.empty(n_cols + 1, dtype=np.int32)
    a_start[: A + 1] = 2 * np.arange(A + 1)
    a_start[A + 1 :] = 2 * A + np.arange(1, U + 1)
    a_index = np.empty(2 * A + U, dtype=np.int32)
    a_index[0 : 2 * A : 2] = inst.arc_unit
    a_index[1 : 2 * A : 2] = U + inst.arc_home
    a_index[2 * A :] = np.arange(U)
    a_value = np.empty(2 * A + U, dtype=np.float64)
    a_value[0 : 2 * A : 2] = 1.0
    a_value[1 : 2 * A : 2] = inst.unit_size[inst.arc_unit]
    a_value[2 * A :] = 1.0
    row_lower = np.concatenate([np.ones(U), np.full(H, -highspy.kHighsInf)])
    row_upper = np.concatenate([np.ones(U), inst.home_free.astype(np.float64)])

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)  # placering solves with one worker
    h.setOptionValue("mip_rel_gap", 0.0)  # "optimal" must mean proven, not within 0.01 %
    status = h.passModel(
        n_cols, U + H, 2 * A + U, int(highspy.MatrixFormat.kColwise), int(highspy.ObjSense.kMinimize), 0.0,
        np.zeros(n_cols), np.zeros(n_cols), np.ones(n_cols), row_lower, row_upper,
        a_start, a_index, a_value, np.ones(n_cols, dtype=np.int32),
    )
    if status != highspy.HighsStatus.kOk:
        raise RuntimeError(f"passModel returned {status}")
    cols = np.arange(n_cols, dtype=np.int32)
    built = time.perf_counter()

    proven: list[str] = []
    incumbent: np.ndarray | None = None
    bound = None
    stages = []
    for t in inst.objective:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            bound = None
            break
        cost = np.concatenate([inst.arc[t], inst.unplaced[t]]).astype(np.float64)
        h.changeColsCost(n_cols, cols, cost)
        h.setOptionValue("time_limit", max(remaining, 0.01))
        if incumbent is not None:  # the previous optimum is feasible here too
            h.setSolution(n_cols, cols, incumbent.astype(np.float64))
        t0 = time.perf_counter()
        h.run()
        model_status = h.getModelStatus()
        info = h.getInfo()
        if info.primal_solution_status == 2:  # a feasible solution
            incumbent = (np.asarray(h.getSolution().col_value) > 0.5).astype(np.int8)
        stages.append({"term": t, "status": h.modelStatusToString(model_status),
                       "s": round(time.perf_counter() - t0, 4), "nodes": int(info.mip_node_count)})
        if model_status == highspy.HighsModelStatus.kOptimal and incumbent is not None:
            value = round(float(cost @ incumbent))
            proven.append(t)
            nz = np.flatnonzero(cost).astype(np.int32)
            h.addRow(-highspy.kHighsInf, float(value), nz.size, nz, cost[nz])
            continue
        if model_status in (highspy.HighsModelStatus.kTimeLimit, highspy.HighsModelStatus.kInterrupt):
            # The objective is integral, so the bound rounds up.
            bound = _bound(t, info.mip_dual_bound)
            break
        raise RuntimeError(f"HiGHS ended term {t!r} with {h.modelStatusToString(model_status)}")
    solved = time.perf_counter()
    result: dict[str, Any] = {
        "build_s": built - start,
        "solve_s": solved - built,
        "proven": proven,
        "bound": bound,
        "stages": stages,
        "solver_version": f"highs {h.version()} (highspy)",
    }
    if incumbent is None:
        return result | {"status": "time_limit", "totals": None}
    on_arc, unplaced = incumbent[:A].astype(bool), incumbent[A:].astype(bool)
    problems = inst.violations(on_arc, unplaced)
    if problems:
        return result | {"status": "error: HiGHS solution breaks " + "; ".join(problems), "totals": None}
    status_name = "optimal" if len(proven) == len(inst.objective) else "feasible"
    return result | {"status": status_name, "totals": inst.evaluate(on_arc, unplaced)}


# --- cpsat-naive: what a typical user writes ------------------------------------------------------


def run_cpsat_naive(inst: Instance, time_limit: float) -> dict[str, Any]:
    """A dense CP-SAT model over every (unit, home) pair, default parameters."""
    import ortools
    from ortools.sat.python import cp_model

    version = f"ortools {ortools.__version__} CP-SAT (default parameters)"
    U, H = inst.n_units, inst.n_homes
    if U * H > NAIVE_MAX_PAIRS:
        return {"status": "skipped: too large", "totals": None, "proven": [], "bound": None,
                "pairs": U * H, "build_s": None, "solve_s": None, "solver_version": version}
    start = time.perf_counter()
    deadline = start + time_limit
    size = [int(s) for s in inst.unit_size]
    free = [int(f) for f in inst.home_free]
    arc_of = {(int(u), int(h)): a for a, (u, h) in enumerate(zip(inst.arc_unit, inst.arc_home, strict=True))}

    model = cp_model.CpModel()
    x = {(u, h): model.new_bool_var(f"x[{u},{h}]") for u in range(U) for h in range(H)}
    unplaced = [model.new_bool_var(f"unplaced[{u}]") for u in range(U)]
    # A unit may only go where the rules allow.
    for (u, h), var in x.items():
        if (u, h) not in arc_of:
            model.add(var == 0)
    # Each unit is placed in exactly one home, or left unplaced.
    for u in range(U):
        model.add(sum(x[u, h] for h in range(H)) + unplaced[u] == 1)
    # A home takes at most its free places.
    for h in range(H):
        model.add(sum(size[u] * x[u, h] for u in range(U)) <= free[h])
    terms = {}
    for t in inst.objective:
        arc_c, unit_c = inst.arc[t], inst.unplaced[t]
        terms[t] = sum(int(arc_c[a]) * x[u, h] for (u, h), a in arc_of.items() if arc_c[a]) + sum(
            int(unit_c[u]) * unplaced[u] for u in range(U) if unit_c[u]
        )
    built = time.perf_counter()

    proven: list[str] = []
    solution: tuple[np.ndarray, np.ndarray] | None = None
    bound = None
    stages = []
    arcs = list(arc_of.items())
    for t in inst.objective:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            break
        model.minimize(terms[t])
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = remaining
        t0 = time.perf_counter()
        status = solver.solve(model)
        stages.append({"term": t, "status": solver.status_name(status), "s": round(time.perf_counter() - t0, 4)})
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            on_arc = np.zeros(inst.n_arcs, dtype=bool)
            for (u, h), a in arcs:
                on_arc[a] = solver.boolean_value(x[u, h])
            solution = (on_arc, np.array([solver.boolean_value(v) for v in unplaced], dtype=bool))
        if status == cp_model.OPTIMAL:
            value = round(solver.objective_value)
            proven.append(t)
            model.add(terms[t] <= value)
            continue
        if status == cp_model.FEASIBLE:
            bound = _bound(t, solver.best_objective_bound)
        break
    solved = time.perf_counter()
    result: dict[str, Any] = {
        "build_s": built - start,
        "solve_s": solved - built,
        "proven": proven,
        "bound": bound,
        "pairs": U * H,
        "stages": stages,
        "solver_version": version,
    }
    if solution is None:
        return result | {"status": "time_limit", "totals": None}
    problems = inst.violations(*solution)
    if problems:
        return result | {"status": "error: CP-SAT solution breaks " + "; ".join(problems), "totals": None}
    status_name = "optimal" if len(proven) == len(inst.objective) else "feasible"
    return result | {"status": status_name, "totals": inst.evaluate(*solution)}


RUNNERS = {"mcf": run_mcf, "highs": run_highs, "cpsat-naive": run_cpsat_naive}


def _emit(out: TextIO, record: dict[str, Any]) -> None:
    out.write(json.dumps(record, sort_keys=True) + "\n")
    out.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("method", choices=METHODS)
    parser.add_argument("arcs", type=Path, help="the .npz written by export.py")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds for the whole lexicographic solve")
    args = parser.parse_args(argv)
    if not args.time_limit > 0:
        parser.error(f"--time-limit must be > 0, got {args.time_limit}")
    if not args.arcs.is_file():
        print(f"error: {args.arcs}: no such file", file=sys.stderr)
        return 2

    # Solvers print banners on stdout from native code: send fd 1 to stderr, keep stdout for JSON.
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    record: dict[str, Any] = {"method": args.method, "time_limit": args.time_limit}
    t0 = time.perf_counter()
    try:
        inst = Instance(args.arcs)
    except (OSError, KeyError, ValueError) as error:
        print(f"error: {args.arcs}: not a placering arcs file ({error})", file=sys.stderr)
        return 2
    record |= {"load_s": round(time.perf_counter() - t0, 4), "units": inst.n_units, "homes": inst.n_homes,
               "arcs": inst.n_arcs, "objective": inst.objective}
    try:
        record |= RUNNERS[args.method](inst, args.time_limit)
    except Exception as error:  # one JSON line even when the peer fails
        record |= {"status": f"error: {type(error).__name__}: {error}", "totals": None}
        record["peak_rss_mib"] = _rss_mib()
        _emit(out, record)
        return 1
    for key in ("build_s", "solve_s"):
        if record.get(key) is not None:
            record[key] = round(record[key], 4)
    record["peak_rss_mib"] = _rss_mib()
    _emit(out, record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
