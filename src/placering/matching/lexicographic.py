"""Flow-first exact lexicographic minimisation of the matching program, stage by stage.

Per stage (each a weighted merge of consecutive objective terms, see
:func:`placering.matching.model.stages_of`):

1. The min-cost flow gives a lower bound (:mod:`.flow`). If it places every unit whole (and
   keeps the bounds of any earlier stage that had a gap), it *is* the stage optimum.
2. If it splits a sibling group, the flow rounded and repaired (:mod:`.rounding`) is held as
   the plan a time limit returns, and where it meets the flow's bound it is the optimum.
   Otherwise :mod:`.split` makes the groups whole: part by independent part, with a dive on
   the flow's optimal face, a branch and bound over flows, and the MIP of :mod:`.mip` (which
   starts from the best plan held); failing that, over the whole matching at once.
3. Only when none of that settles the stage does CP-SAT take it, on the model narrowed so far,
   hinted with the best plan known and told the flow bound.

Between stages, the flow's duals fix every arc no optimal plan can use (:mod:`.duals`), so
later stages work on a smaller model. Every fixing is implied by optimality, so the result is
the exact lexicographic optimum; under a time limit the best plan found is returned with a
certified bound on the first stage not proven (the larger of the flow bound and CP-SAT's).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence

import attrs
import numpy as np

from placering import _ortools
from placering.exceptions import SolverError
from placering.matching.duals import apply_face, optimal_face, reduced_costs
from placering.matching.flow import FlowStage, flow_stage
from placering.matching.mip import by_mip
from placering.matching.rounding import reflowed, rounded
from placering.matching.split import branch_and_bound, by_part, dive_on_face
from placering.matching.state import Costs, State, complete, hold, initial_state, per_flow
from placering.params import Tuning
from placering.program import BinaryProgram, LexResult, LinearTerm
from placering.result import StageStats

__all__ = ["lexicographic_minimum"]

logger = logging.getLogger(__name__)


def lexicographic_minimum(
    program: BinaryProgram,
    stages: Sequence[LinearTerm],
    *,
    n_arcs: int,
    arc_unit: Sequence[int],
    arc_home: Sequence[int],
    unit_size: Sequence[int],
    home_free: Sequence[int],
    time_limit: float | None = None,
    seed: int = 0,
    workers: int = 1,
    log: bool = False,
    strategy: str = "flow",
    tuning: Tuning | None = None,
    cpsat: Mapping[str, object] | None = None,
    incumbent: Sequence[int] | None = None,
    names: Sequence[tuple[str, ...]] | None = None,
    weights: Sequence[tuple[int, ...]] | None = None,
) -> LexResult:
    """Minimise ``stages[0]``, then ``stages[1]`` among its minimisers, and so on.

    The program's first ``n_arcs`` variables are unit-to-home arcs, the next
    ``len(unit_size)`` the units' "unplaced" variables, and any further ones sibling marks.
    ``tuning`` sets how hard each method tries (:class:`placering.params.Tuning`); ``cpsat``
    goes to every CP-SAT call as raw ``SatParameters``; ``log`` turns on the engines' own
    logs. ``incumbent`` (the arc and unplaced values of a feasible plan) settles every stage,
    from the first on, where it meets the flow's bound: column generation passes its last
    restricted optimum, which still holds the LP's values in the stages pricing has not
    reopened. ``names`` gives each stage's term names for the statistics, ``weights`` the
    weights it merges them with (:func:`placering.matching.model.stages_of`), for the MIPs.
    """
    state, arcs_of, into = initial_state(program, n_arcs, arc_unit, arc_home, unit_size, home_free)
    run = _Run(
        state=state,
        arcs_of=arcs_of,
        into=into,
        stages=stages,
        names=names or [(f"stage {k}",) for k in range(len(stages))],
        weights=weights or [(1,)] * len(stages),
        deadline=None if time_limit is None else time.perf_counter() + time_limit,
        seed=seed,
        workers=workers,
        log=log,
        strategy=strategy,
        tuning=tuning or Tuning(),
        cpsat=cpsat,
        incumbent=incumbent,
    )
    for k, term in enumerate(stages):
        if not run.stage(k, term):
            break
    return run.result()


@attrs.frozen
class _Settled:
    """A stage's plan and how it was found; ``flow`` and ``lower`` are the flow whose duals fix
    arcs for the next stages (``None`` when the stage has no flow: the ``cp-sat`` strategy, or
    a term over sibling marks)."""

    values: list[int]
    method: str
    flow: FlowStage | None
    lower: int


@attrs.define
class _Run:
    """One lexicographic minimisation in progress: the state the stages share, the best plan
    so far and what each stage took."""

    state: State
    arcs_of: Sequence[Sequence[int]]
    into: Sequence[Sequence[int]]
    stages: Sequence[LinearTerm]
    names: Sequence[tuple[str, ...]]
    weights: Sequence[tuple[int, ...]]
    deadline: float | None
    seed: int
    workers: int
    log: bool
    strategy: str
    tuning: Tuning
    cpsat: Mapping[str, object] | None
    incumbent: Sequence[int] | None
    best: list[int] | None = None
    known: list[int] | None = None  # the incumbent, completed with sibling marks
    following: bool = False  # the incumbent is optimal in every stage so far
    stage_values: list[int] = attrs.field(factory=list)
    stats: list[StageStats] = attrs.field(factory=list)
    proven: int = 0
    bound: int | None = None
    finished_by: str = "branch and bound"  # what settled every stage at once, if anything did
    n_base: int = attrs.field(init=False, default=0)  # arc and unplaced variables: no sibling mark
    best_vector: tuple[int, ...] | None = None  # the stage values of ``best_vector_of``
    best_vector_of: list[int] | None = None
    arrays: dict[int, tuple[np.ndarray, np.ndarray] | None] = attrs.field(factory=dict)  # see ``value``
    #: (perf_counter, stage, the best plan's value there, the stage's bound) whenever the best
    #: plan improves or a stage is proven: the anytime curve.
    progress: list[tuple[float, int, int, int]] = attrs.field(factory=list)

    def __attrs_post_init__(self) -> None:
        self.n_base = self.state.n_arcs + len(self.state.unit_size)
        if self.incumbent is not None:
            self.known = self.best = complete(self.program, self.n_base, self.incumbent)
            self.following = True

    @property
    def program(self) -> BinaryProgram:
        return self.state.program


    def left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.perf_counter()

    def stage(self, k: int, term: LinearTerm) -> bool:
        """Settle stage ``k``; whether the next stage is to be solved."""
        if (remaining := self.left()) is not None and remaining <= 0:
            self.bound = 0
            return False
        started = time.perf_counter()
        self.state.tally.reset()
        coeff = None
        if self.flowable(term):
            coeff = self.per_flow(term)
        stage = None if coeff is None else flow_stage(self.state, coeff, self.arcs_of)
        lower = 0 if stage is None else stage.lower
        settled = None if stage is None else self.by_incumbent(term, stage)
        if settled is None and stage is not None and stage.split:
            self.round(k, stage)
            settled = self.at_bound(k, stage)
        if settled is None and stage is not None and coeff is not None:
            settled = self.by_flow(k, term, stage, coeff)
            if settled is None and self.proven == len(self.stages):
                self.record(k, "", started, lower, all_later=True)
                return False  # a branch and bound or the MIP settled every later stage too
        if settled is None:
            settled = self.by_cpsat(term, stage, lower)
            if settled is None:
                self.record(k, "cp-sat", started, lower, proven=False)
                return False
        self.accept(k, term, settled, started)
        return True

    def round(self, k: int, stage: FlowStage) -> None:
        """Hold a whole plan from the start of stage ``k``, the best of the flow rounded and
        repaired: what comes back if the exact search runs out of time."""
        for eject in (False, True):
            values = rounded(self.state, stage, self.arcs_of, eject=eject)
            self.consider(complete(self.program, self.n_base, values), k, stage.lower)
        later = self.stages[k + 1 :]
        coeffs = [self.per_flow(t) for t in later] if all(self.flowable(t) for t in later) else []
        flowed = reflowed(self.state, stage, self.arcs_of, self.into, coeffs, deadline=self.deadline)
        if flowed is not None:
            self.consider(complete(self.program, self.n_base, flowed), k, stage.lower)

    def by_incumbent(self, term: LinearTerm, stage: FlowStage) -> _Settled | None:
        """The incumbent handed in, when it is optimal in every stage before and meets the flow's
        bound, which holds for all such plans (the fixings so far may have kept a tied other)."""
        if self.known is not None and self.following and term.evaluate(self.known) == stage.lower:
            return _Settled(self.known, "incumbent", stage, stage.lower)
        return None

    def at_bound(self, k: int, stage: FlowStage) -> _Settled | None:
        """The best plan as stage ``k``'s optimum when it is optimal in every stage before and
        meets the flow's bound here, which holds for every such plan: no search needed."""
        if self.best is None:
            return None
        array = np.asarray(self.best, dtype=np.int64)
        if self.value(k, array) != stage.lower:
            return None
        if any(self.value(i, array) != optimum for i, optimum in enumerate(self.stage_values)):
            return None
        return _Settled(self.best, "rounding", stage, stage.lower)

    def consider(self, values: list[int], k: int, lower: int) -> None:
        """Keep ``values`` as the best plan when it is lexicographically better over all stages,
        and note its value in stage ``k`` against that stage's bound ``lower``."""
        array = np.asarray(values, dtype=np.int64)
        if self.best is not None:
            if self.best_vector is None or self.best_vector_of is not self.best:
                best = np.asarray(self.best, dtype=np.int64)
                self.best_vector = tuple(self.value(i, best) for i in range(len(self.stages)))
                self.best_vector_of = self.best
            for i, old in enumerate(self.best_vector):
                new = self.value(i, array)
                if new != old:
                    if new > old:
                        return
                    break
            else:
                return
        self.best = values
        self.best_vector = None
        self.progress.append((time.perf_counter(), k, self.value(k, array), lower))

    def value(self, k: int, values: np.ndarray) -> int:
        """Stage ``k``'s term at ``values`` (0 or 1 each), in numpy where int64 holds every
        partial sum exactly, else in Python integers: rounding compares whole plans often."""
        if k not in self.arrays:
            term = self.stages[k]
            coeffs = np.asarray(term.coeffs, dtype=object)
            exact = int(np.abs(coeffs).sum()) < 2**62 if len(coeffs) else True
            self.arrays[k] = (np.asarray(term.vars, dtype=np.int64), coeffs.astype(np.int64)) if exact else None
        found = self.arrays[k]
        if found is None:
            return self.stages[k].evaluate(values.tolist())
        variables, coeffs = found
        return int(coeffs @ values[variables])

    def per_flow(self, term: LinearTerm) -> Costs:
        return per_flow(term, self.state.n_arcs, self.state.arc_unit, self.state.unit_size)

    def flowable(self, term: LinearTerm) -> bool:
        return self.strategy == "flow" and max(term.vars, default=-1) < self.n_base

    def by_flow(self, k: int, term: LinearTerm, stage: FlowStage, coeff: Costs) -> _Settled | None:
        """The stage by its flow: a whole flow, or the flow's split sibling groups made whole
        (:meth:`whole_groups`)."""
        if not stage.split:
            candidate = complete(self.program, self.n_base, stage.base)
            if all(t.evaluate(candidate) <= z for t, z in self.state.bounds):
                return _Settled(candidate, "flow", stage, stage.lower)
            return None
        if self.state.bounds:
            return None  # an earlier stage's gap is a row the flow cannot keep
        return self.whole_groups(k, term, stage, coeff)

    def whole_groups(self, k: int, term: LinearTerm, stage: FlowStage, coeff: Costs) -> _Settled | None:
        """Make the flow's split sibling groups whole: part by independent part (a dive on the
        optimal face, else a branch and bound, else the MIP), or failing that all at once.

        When a branch and bound or the MIP over the whole matching settles this stage and
        every later one, the stages are recorded here and ``None`` returned with
        ``self.proven`` at the number of stages.
        """
        later = self.stages[k:]
        coeffs = None
        if all(max(t.vars, default=-1) < self.n_base for t in later):
            coeffs = [self.per_flow(t) for t in later]
        # On a column generation round's incumbent the searches would only repeat the MIP.
        hinted = self.known is not None and self.following and coeffs is not None
        mip = None if coeffs is None else self.mip_of(coeffs, self.weights[k:])
        parted = by_part(
            self.state, stage, coeff, coeffs, self.arcs_of, self.into,
            tuning=self.tuning, deadline=self.deadline, mip=mip, hinted=hinted,
        )  # fmt: skip
        if parted is not None:
            return self.hold_parts(term, stage, coeff, *parted)
        if (left := self.left()) is not None and left <= 0:
            return None  # out of time: a search of the whole matching would overrun the limit
        if self.tuning.dive and not hinted:
            budget = self.tuning.dive_per_group * len(stage.split) + self.tuning.dive_base
            dived = dive_on_face(
                self.state, coeff, stage, self.arcs_of, self.into, budget=budget, deadline=self.deadline
            )
            if dived is not None:
                return _Settled(complete(self.program, self.n_base, dived), "dive", stage, stage.lower)
        if coeffs is not None and mip is not None:
            self.search_all(k, term, stage.lower, hinted, coeffs, mip)
        return None

    def mip_of(self, coeffs: list[Costs], weights: Sequence[tuple[int, ...]]) -> _MipCall:
        """The MIP that settles a part, given the incumbent when it is optimal so far: a
        near-optimal start, and its value a bound to fix arcs against (:func:`by_mip`)."""
        so_far = self.known if self.following else self.best
        return _MipCall(run=self, coeffs=coeffs, weights=list(weights), so_far=so_far)

    def hold_parts(
        self, term: LinearTerm, stage: FlowStage, coeff: Costs, base: list[int], held: list[tuple[int, int]]
    ) -> _Settled:
        """Hold the parts the branch and bound or the MIP settled, and check the plan."""
        for u, var in held:
            hold(self.state, u, var, self.arcs_of, record=True)
        # The rest's flow gives the duals for the next stages; it may pick another optimal
        # vertex, but its value must be the plan's: the parts held are constants in it, and
        # the others lie at their flow bounds.
        settled = flow_stage(self.state, coeff, self.arcs_of) if held else stage
        values = complete(self.program, self.n_base, base)
        if settled is None or settled.lower != term.evaluate(values):
            raise SolverError("The parts' optima do not add up to the flow of the rest.")
        return _Settled(values, "parts", settled, settled.lower)

    def search_all(
        self, k: int, term: LinearTerm, lower: int, hinted: bool, coeffs: list[Costs], mip: _MipCall
    ) -> None:
        """The branch and bound over flows on the whole matching, then the MIP: a proven plan
        settles this stage and every later one; an unproven one is CP-SAT's hint."""
        found, done = None, False
        free = sum(var is None for var in self.state.forced)
        if free <= self.tuning.mip_first and not hinted:
            found, _, done = branch_and_bound(
                self.state, coeffs, self.arcs_of, self.into,
                budget=self.tuning.branch_budget, deadline=self.deadline, greedy=self.tuning.greedy_budget,
            )  # fmt: skip
        method = "branch and bound"
        if not done:
            # Every unit, held ones too, so the MIP's plan is complete.
            whole = mip(self.state, set(range(len(self.state.unit_size))), found)
            if whole is not None:
                found, done, method = whole, True, "mip"
        if found is None:
            return
        self.best = complete(self.program, self.n_base, found)
        if done:
            for i, later in enumerate(self.stages[k:], start=k):
                self.stage_values.append(later.evaluate(self.best))
                self.progress.append((time.perf_counter(), i, self.stage_values[-1], self.stage_values[-1]))
            self.proven = len(self.stages)
            self.finished_by = method
            return
        # The flow bound holds for every plan; telling CP-SAT saves it proving it.
        self.state.model(self.into).restrict(term, lower, 2**62)

    def by_cpsat(self, term: LinearTerm, stage: FlowStage | None, lower: int) -> _Settled | None:
        """The stage by CP-SAT on the model narrowed so far; ``None`` (with the bound kept) when
        it is not proven in time."""
        if (remaining := self.left()) is not None and remaining <= 0:
            # No time for CP-SAT: building its model alone takes minutes on a national program.
            self.bound = lower
            self.stage_values.append(term.evaluate(self.best if self.best is not None else self.fallback()))
            self.progress.append((time.perf_counter(), len(self.stage_values) - 1, self.stage_values[-1], lower))
            return None
        result = self.state.model(self.into).minimise(
            term, hint=self.best, time_limit=self.left(), seed=self.seed, workers=self.workers,
            log=self.log, cpsat=self.cpsat,
        )  # fmt: skip
        values = None if result.values is None else list(result.values)
        if result.proven and values is not None:
            return _Settled(values, "cp-sat", stage, lower)
        if values is not None and (self.best is None or term.evaluate(values) <= term.evaluate(self.best)):
            self.best = values
        self.bound = max(result.bound, lower)
        self.stage_values.append(term.evaluate(self.best if self.best is not None else self.fallback()))
        self.progress.append((time.perf_counter(), len(self.stage_values) - 1, self.stage_values[-1], self.bound))
        return None

    def accept(self, k: int, term: LinearTerm, settled: _Settled, started: float) -> None:
        """Take the stage's optimum, and fix for the next stages what it proves."""
        optimum = term.evaluate(settled.values)
        self.following = self.following and self.known is not None and term.evaluate(self.known) == optimum
        self.best = settled.values
        self.stage_values.append(optimum)
        self.proven += 1
        self.progress.append((time.perf_counter(), k, optimum, optimum))
        self.record(k, settled.method, started, settled.lower)
        if settled.flow is None:
            self.state.bound(term, optimum)
            return
        gap = optimum - settled.lower
        if gap < 0:
            raise SolverError(f"A stage optimum {optimum} lies below its flow bound {settled.lower}.")
        rc = reduced_costs(self.state, settled.flow)
        apply_face(self.state, optimal_face(self.state, rc, gap), self.arcs_of, self.into)
        if gap > 0:
            self.state.bound(term, optimum)

    def record(
        self, k: int, method: str, started: float, lower: int, *, proven: bool = True, all_later: bool = False
    ) -> None:
        """The statistics of stage ``k`` (and, with ``all_later``, of the stages it settled)."""
        tally = self.state.tally
        seconds = time.perf_counter() - started
        for i in range(k, len(self.stages) if all_later else k + 1):
            self.stats.append(
                StageStats(
                    terms=self.names[i],
                    method=self.finished_by if all_later else method,
                    proven=proven,
                    seconds=round(seconds if i == k else 0.0, 4),
                    value=self.stage_values[i],
                    bound=lower if i == k else 0,
                    flows=tally.flows if i == k else 0,
                    parts=tuple(tally.parts) if i == k else (),
                    mips=tally.mips if i == k else 0,
                    mip_vars=tally.mip_vars if i == k else 0,
                    mip_rows=tally.mip_rows if i == k else 0,
                    pieces=tally.pieces if i == k else 0,
                )
            )
            logger.info(
                "stage %d (%s) by %s: bound %d, value %d, %d flows, %d MIPs, %.2fs",
                i, "+".join(self.names[i]), self.stats[-1].method, lower, self.stage_values[i],
                tally.flows, tally.mips, seconds,
            )  # fmt: skip

    def fallback(self) -> list[int]:
        """Every unit unplaced: always a plan."""
        n_arcs, n_units = self.state.n_arcs, len(self.state.unit_size)
        return complete(self.program, self.n_base, [0] * n_arcs + [1] * n_units)

    def result(self) -> LexResult:
        best = self.best if self.best is not None else self.fallback()
        return LexResult(
            values=tuple(best),
            proven=self.proven,
            stage_values=tuple(self.stage_values),
            bound=self.bound,
            engine=f"min-cost flow, scip and cp-sat from or-tools {_ortools.ortools_version()}",
            stage_stats=tuple(self.stats),
            progress=tuple(self.progress),
        )


@attrs.frozen
class _MipCall:
    """Settles a part of the matching by :func:`by_mip` over the stages ``coeffs``."""

    run: _Run
    coeffs: list[Costs]
    weights: list[tuple[int, ...]]
    so_far: Sequence[int] | None

    def __call__(self, on: State, units: set[int], hint: Sequence[int] | None) -> list[int] | None:
        run = self.run
        return by_mip(
            on, self.coeffs, run.arcs_of, run.into, units, deadline=run.deadline, seed=run.seed, log=run.log,
            weights=self.weights, hint=self.so_far if hint is None else hint,
        )  # fmt: skip
