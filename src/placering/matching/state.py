"""What the stages of a lexicographic minimisation have proven so far: the state they share.

The matching program's first ``n_arcs`` variables are unit-to-home arcs, the next one per
unit its "unplaced" variable, and any further ones sibling marks. A :class:`State` records
which arcs are still possible (``active``), which units are forced onto one variable, which
homes must be full, and the stage bounds kept as rows; every method of the pipeline reads it
and narrows it. :class:`Tally` counts the work done, for the solver statistics.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import attrs
import numpy as np

from placering import _ortools
from placering.exceptions import SolverError
from placering.program import BinaryProgram, LinearTerm

__all__ = [
    "Arrays",
    "Costs",
    "State",
    "Tally",
    "complete",
    "component",
    "copy_state",
    "fix_unit",
    "hold",
    "initial_state",
    "per_flow",
]


@attrs.define
class Tally:
    """Work done while settling one stage: shared by a state and every copy made of it."""

    flows: int = 0  # min-cost flows solved
    mips: int = 0  # MIPs handed to SCIP
    mip_vars: int = 0  # variables of the largest of them
    mip_rows: int = 0  # and its rows
    pieces: int = 0  # of them, MIPs over a piece of a part (see placering.matching.pieces)
    parts: list[str] = attrs.field(factory=list)  # per independent part settled: how

    def reset(self) -> None:
        self.flows = self.mips = self.mip_vars = self.mip_rows = self.pieces = 0
        self.parts = []


@attrs.define
class State:
    """What the stages so far have proven about every optimal plan."""

    program: BinaryProgram
    n_arcs: int
    arc_unit: Sequence[int]
    arc_home: Sequence[int]
    unit_size: Sequence[int]
    home_free: Sequence[int]
    active: np.ndarray  # bool per arc: not fixed to 0
    unplaced_open: np.ndarray  # bool per unit
    forced: list[int | None]
    full: np.ndarray  # bool per home: proven full
    arrays: Arrays
    fixes: list[tuple[int, int]] = attrs.field(factory=list)
    bounds: list[tuple[LinearTerm, int]] = attrs.field(factory=list)
    full_rows: list[int] = attrs.field(factory=list)
    cp: _ortools.StageModel | None = None
    tally: Tally = attrs.field(factory=Tally)
    #: Per unit, arcs outside the program that may still take it (see :func:`placering.matching.pricing.price`): a unit
    #: with one way left in the program is then not forced, as it has others outside.
    latent: np.ndarray | None = None

    def fix(self, var: int, value: int) -> None:
        self.fixes.append((var, value))
        if self.cp is not None:
            self.cp.fix(var, value)

    def bound(self, term: LinearTerm, value: int) -> None:
        self.bounds.append((term, value))
        if self.cp is not None:
            self.cp.restrict(term, -(2**62), value)

    def set_full(self, home: int, arcs_into: Sequence[int]) -> None:
        self.full[home] = True
        self.full_rows.append(home)
        if self.cp is not None:
            self._full_row(self.cp, home, arcs_into)

    def _full_row(self, cp: _ortools.StageModel, home: int, arcs_into: Sequence[int]) -> None:
        term = LinearTerm(
            vars=tuple(arcs_into), coeffs=tuple(self.unit_size[self.arc_unit[a]] for a in arcs_into)
        )
        cp.restrict(term, self.home_free[home], self.home_free[home])

    def model(self, into: Sequence[Sequence[int]]) -> _ortools.StageModel:
        """The CP-SAT model of the program under everything fixed so far (built once)."""
        if self.cp is None:
            cp = _ortools.StageModel(self.program)
            for var, value in self.fixes:
                cp.fix(var, value)
            for term, value in self.bounds:
                cp.restrict(term, -(2**62), value)
            for home in self.full_rows:
                self._full_row(cp, home, into[home])
            self.cp = cp
        return self.cp


@attrs.frozen
class Arrays:
    """The program's fixed structure as numpy arrays, for the vectorised flow steps."""

    arc_unit: np.ndarray
    arc_home: np.ndarray
    unit_size: np.ndarray
    home_free: np.ndarray


@attrs.frozen
class Costs:
    """A stage's cost per unit of flow on each arc and on each unit's "unplaced" arc."""

    arc: np.ndarray
    unplaced: np.ndarray


def per_flow(
    term: LinearTerm, n_arcs: int, arc_unit: Sequence[int], unit_size: Sequence[int]
) -> Costs:
    """A flow unit is one child, so an arc's cost per unit of flow is its coefficient / size.

    Every term is a sum over children, so the division is exact.
    """
    variables = np.asarray(term.vars, dtype=np.int64)
    coeffs = np.asarray(term.coeffs, dtype=np.int64)
    sizes = np.asarray(unit_size, dtype=np.int64)
    on_arc = variables < n_arcs
    units = variables - n_arcs
    units[on_arc] = np.asarray(arc_unit, dtype=np.int64)[variables[on_arc]]
    size = sizes[units]
    if (bad := np.flatnonzero(coeffs % size)).size:
        v, c, k = int(variables[bad[0]]), int(coeffs[bad[0]]), int(size[bad[0]])
        raise SolverError(f"Coefficient {c} of variable {v} is not a multiple of its unit's size {k}.")
    arc = np.zeros(n_arcs, dtype=np.int64)
    unplaced = np.zeros(len(sizes), dtype=np.int64)
    arc[variables[on_arc]] = coeffs[on_arc] // size[on_arc]
    unplaced[variables[~on_arc] - n_arcs] = coeffs[~on_arc] // size[~on_arc]
    return Costs(arc=arc, unplaced=unplaced)


def complete(program: BinaryProgram, n_base: int, base: Sequence[int]) -> list[int]:
    """Extend arc and unplaced values with the smallest consistent sibling marks."""
    values = list(base) + [0] * (program.n_vars - n_base)
    for var, members in program.covers:  # marks are listed after the variables they cover
        values[var] = 1 if any(values[m] for m in members) else 0
    return values


def initial_state(
    program: BinaryProgram,
    n_arcs: int,
    arc_unit: Sequence[int],
    arc_home: Sequence[int],
    unit_size: Sequence[int],
    home_free: Sequence[int],
) -> tuple[State, list[list[int]], list[list[int]]]:
    """A state with nothing fixed yet, and each unit's and each home's arcs."""
    n_units, n_homes = len(unit_size), len(home_free)
    into: list[list[int]] = [[] for _ in range(n_homes)]
    arcs_of: list[list[int]] = [[] for _ in range(n_units)]
    for a in range(n_arcs):
        into[arc_home[a]].append(a)
        arcs_of[arc_unit[a]].append(a)
    state = State(
        program=program,
        n_arcs=n_arcs,
        arc_unit=arc_unit,
        arc_home=arc_home,
        unit_size=unit_size,
        home_free=home_free,
        active=np.ones(n_arcs, dtype=bool),
        unplaced_open=np.ones(n_units, dtype=bool),
        forced=[None] * n_units,
        full=np.zeros(n_homes, dtype=bool),
        arrays=Arrays(
            arc_unit=np.asarray(arc_unit, dtype=np.int64),
            arc_home=np.asarray(arc_home, dtype=np.int64),
            unit_size=np.asarray(unit_size, dtype=np.int64),
            home_free=np.asarray(home_free, dtype=np.int64),
        ),
    )
    return state, arcs_of, into


def copy_state(state: State) -> State:
    """A scratch copy that shares no lists and no CP-SAT model with ``state``."""
    return attrs.evolve(
        state,
        active=state.active.copy(),
        unplaced_open=state.unplaced_open.copy(),
        forced=list(state.forced),
        full=state.full.copy(),
        fixes=list(state.fixes),
        bounds=list(state.bounds),
        full_rows=list(state.full_rows),
        cp=None,
    )


def fix_unit(state: State, u: int, var: int, arcs_of: Sequence[Sequence[int]]) -> State:
    trial = copy_state(state)
    trial.forced[u] = var
    for a in arcs_of[u]:
        trial.active[a] = a == var
    trial.unplaced_open[u] = var == state.n_arcs + u
    return trial


def hold(state: State, u: int, var: int, arcs_of: Sequence[Sequence[int]], *, record: bool = False) -> None:
    """Force unit ``u`` onto ``var`` in place; ``record`` also tells a CP-SAT model of the state."""
    state.forced[u] = var
    for a in arcs_of[u]:
        if a != var and state.active[a]:
            state.active[a] = False
            if record:
                state.fix(a, 0)
    if var != state.n_arcs + u and state.unplaced_open[u]:
        state.unplaced_open[u] = False
        if record:
            state.fix(state.n_arcs + u, 0)
    if record:
        state.fix(var, 1)


def component(state: State, start: int, arcs_of: Sequence[Sequence[int]], into: Sequence[Sequence[int]]) -> set[int]:
    """The free units that can compete for a home with unit ``start``, directly or via others."""
    units, homes = {start}, set()
    active = state.active.tolist()  # list lookups: this walks many arcs one by one
    queue = deque([start])
    while queue:
        u = queue.popleft()
        for a in arcs_of[u]:
            h = state.arc_home[a]
            if not active[a] or h in homes:
                continue
            homes.add(h)
            for b in into[h]:
                v = state.arc_unit[b]
                if v not in units and active[b] and state.forced[v] is None:
                    units.add(v)
                    queue.append(v)
    return units
