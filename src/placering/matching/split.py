"""Making split sibling groups whole: the dive, the branch and bound over flows, and parts.

A flow may spread a sibling group that must share one home over several homes. Per stage:

1. :func:`dive_on_face`: fix split groups to homes on the flow's optimal face, several at once where
   they fit, and re-solve; a whole plan at the flow's bound is the stage optimum.
2. :func:`branch_and_bound`: when the dive fails the stage has an integrality gap; a
   lexicographic branch and bound over flows settles it and every later stage together. A
   node's bound is the vector of LP optima, each stage's flow taken on the optimal face of
   the ones before, so no aggregate stage constraint is ever needed.
3. :func:`by_part`: both run on the independent parts of the matching (units that can never
   compete for a home, not even through others) one at a time, with everything outside a
   part held where the flow put it, so their flows are small. A part whose search does not
   close within its budget, or that is too large for it, goes to the MIP
   (:func:`placering.matching.mip.by_mip`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import attrs

from placering.matching.duals import ReducedCosts, apply_face, optimal_face, reduced_costs
from placering.matching.flow import FlowStage, flow_stage, split_in
from placering.matching.pieces import components_holding
from placering.matching.state import Costs, State, copy_state, fix_unit, hold
from placering.params import Tuning

__all__ = ["PART_METHODS", "branch_and_bound", "by_part", "dive_on_face"]


def _options(
    state: State, stage: FlowStage, u: int, arcs_of: Sequence[Sequence[int]], *, all_homes: bool = True
) -> list[int]:
    """Where a split unit may go: the homes it already partly uses (largest share first), then
    (with ``all_homes``) its other open homes, then unplaced."""
    arcs, flows = stage.shares(state, u)
    carried = {int(a): int(f) for a, f in zip(arcs.tolist(), flows.tolist(), strict=True) if f}
    used = sorted(carried, key=lambda a: (-carried[a], a))
    rest = [a for a in arcs_of[u] if state.active[a] and a not in carried] if all_homes else []
    return used + rest + ([state.n_arcs + u] if state.unplaced_open[u] else [])


def dive_on_face(
    state: State,
    coeff: Costs,
    stage: FlowStage,
    arcs_of: Sequence[Sequence[int]],
    into: Sequence[Sequence[int]],
    budget: int,
    focus: set[int] | None = None,
    deadline: float | None = None,
) -> list[int] | None:
    """Make the flow whole without leaving its optimal face: fix one split sibling group at a
    time to a home (depth first, largest group first) and re-solve the flow, backtracking when
    a fixing raises the flow's cost, until no group is split or ``budget`` flows are spent.

    A plan found has the flow's bound as its value, so it is optimal for the stage. With
    ``focus``, only those units need to end whole.
    """
    if _past(deadline):
        return None
    scratch = copy_state(state)
    rc = reduced_costs(state, stage)
    apply_face(scratch, optimal_face(scratch, rc, 0), arcs_of, into)
    start = flow_stage(scratch, coeff, arcs_of)
    left = [budget]

    def search(node: State, current: FlowStage) -> list[int] | None:
        split = split_in(current, focus)
        if not split:
            return current.base
        if _past(deadline):
            left[0] = -1
            return None
        batched = _batch(node, current, split, coeff, stage.lower, arcs_of, left, deadline)
        if batched is not None:
            found = search(*batched)
            if found is not None or left[0] < 0:
                return found
        u = max(split, key=lambda v: (state.unit_size[v], -v))
        for var in _options(node, current, u, arcs_of):
            left[0] -= 1
            if left[0] < 0 or _past(deadline):  # a national flow takes a second: look each time
                left[0] = -1
                return None
            trial = fix_unit(node, u, var, arcs_of)
            attempt = flow_stage(trial, coeff, arcs_of)
            if attempt is not None and attempt.lower == stage.lower:
                found = search(trial, attempt)
                if found is not None or left[0] < 0:
                    return found
        return None

    if start is None or start.lower != stage.lower:
        return None
    return search(scratch, start)


def _batch(
    node: State,
    current: FlowStage,
    split: list[int],
    coeff: Costs,
    lower: int,
    arcs_of: Sequence[Sequence[int]],
    left: list[int],
    deadline: float | None,
) -> tuple[State, FlowStage] | None:
    """Most split groups fit whole where most of them already are: hold them all there at
    once, and when that leaves the face (the flow's value rises above ``lower``), the larger
    half of them, and so on, so that a large matching needs a few flows per round rather
    than one per group. Each flow spends one of ``left``."""
    chunk = sorted(split, key=lambda v: (-node.unit_size[v], v))
    while len(chunk) > 1 and not _past(deadline):
        batch = copy_state(node)
        for v in chunk:
            hold(batch, v, _options(node, current, v, arcs_of, all_homes=False)[0], arcs_of)
        left[0] -= 1
        attempt = flow_stage(batch, coeff, arcs_of)
        if attempt is not None and attempt.lower == lower:
            return batch, attempt
        chunk = chunk[: len(chunk) // 2]
    return None


#: How a part was settled, as the solver statistics name it.
PART_METHODS = ("dive", "branch and bound", "mip")

#: A settled part's MIP: given a part's state, its units and a hint, the part's plan or None.
MipSettler = Callable[[State, set[int], Sequence[int] | None], list[int] | None]


def by_part(
    state: State,
    stage: FlowStage,
    coeff: Costs,
    coeffs: Sequence[Costs] | None,
    arcs_of: Sequence[Sequence[int]],
    into: Sequence[Sequence[int]],
    *,
    tuning: Tuning,
    deadline: float | None,
    mip: MipSettler | None = None,
    hinted: bool = False,
) -> tuple[list[int], list[tuple[int, int]]] | None:
    """Make the split sibling groups whole one independent part of the matching at a time.

    Units that can never compete for a home, not even through others, form independent parts,
    and the lexicographic optimum of their sum is the sum of their optima. Each part holding a
    split group is searched on its own, with every whole unit elsewhere held where the flow put
    it (they share no home with the part, so they add the same constant everywhere), so its
    flows are small (:func:`_settle_part`). The branch and bound and the MIP give the part's
    final places, returned as ``(unit, var)`` pairs to hold. Returns the stage's plan (arc and
    unplaced values) and those pairs, or ``None`` when the whole matching is one part or a
    search gives up.

    ``hinted``: ``mip`` holds an incumbent optimal in the stages so far, so every part goes
    straight to it (it settles a part the incumbent is optimal in at once, and otherwise looks
    on the optimal face first, which is what the dive would do, only exactly).
    """
    parts = _parts(state, stage, arcs_of, into)
    if len(parts) == 1 and len(parts[0]) == len(stage.free_units):
        return None
    split = set(stage.split)
    whole = [
        (u, next(v for v in (*arcs_of[u], state.n_arcs + u) if stage.base[v]))
        for u in stage.free_units.tolist()
        if u not in split
    ]
    base = list(stage.base)
    held: list[tuple[int, int]] = []
    for part in parts:
        if _past(deadline):
            return None
        sub = copy_state(state)
        for u, var in whole:
            if u not in part:
                hold(sub, u, var, arcs_of)
        local = flow_stage(sub, coeff, arcs_of)
        if local is None or local.lower != stage.lower or _past(deadline):
            return None
        settled = _settle_part(
            sub, local, coeff, coeffs, arcs_of, into, part, len(split & part),
            tuning=tuning, deadline=deadline, mip=mip, hinted=hinted,
        )  # fmt: skip
        if settled is None:
            return None
        found, method = settled
        state.tally.parts.append(method)
        # A dive's plan settles this stage only; the other two settle every later one too.
        _settle(base, part, found, arcs_of, state.n_arcs, None if method == "dive" else held)
    return base, held


def _parts(
    state: State, stage: FlowStage, arcs_of: Sequence[Sequence[int]], into: Sequence[Sequence[int]]
) -> list[set[int]]:
    """The independent parts of the matching that hold a unit the flow splits."""
    return components_holding(state, set(stage.split), arcs_of, into)


def _settle_part(
    sub: State,
    local: FlowStage,
    coeff: Costs,
    coeffs: Sequence[Costs] | None,
    arcs_of: Sequence[Sequence[int]],
    into: Sequence[Sequence[int]],
    part: set[int],
    n_split: int,
    *,
    tuning: Tuning,
    deadline: float | None,
    mip: MipSettler | None,
    hinted: bool,
) -> tuple[list[int], str] | None:
    """One part's plan and how it was found: first a dive on the flow's optimal face; if that
    fails, the branch and bound over this stage and all later ones (``coeffs``); if that runs
    out of budget (or the part is too large for it), ``mip``, given the branch and bound's best
    plan as a hint. ``None`` when none of them settles the part."""
    if tuning.dive and not hinted:
        budget = tuning.dive_per_group * n_split + tuning.dive_base
        found = dive_on_face(sub, coeff, local, arcs_of, into, budget=budget, focus=part, deadline=deadline)
        if found is not None:
            return found, "dive"
    if coeffs is None:
        return None
    # A flow on a large part is slow, and its branch and bound rarely closes there.
    if mip is None:
        budget = tuning.branch_budget
    else:
        budget = 0 if len(part) > tuning.mip_first or hinted else tuning.part_branch_budget
    guess: list[int] | None = None
    if budget:
        guess, _, done = branch_and_bound(
            sub, coeffs, arcs_of, into, budget=budget, deadline=deadline, focus=part, greedy=tuning.greedy_budget
        )
        if done and guess is not None:
            return guess, "branch and bound"
    found = mip(sub, part, guess) if mip is not None else None
    return None if found is None else (found, "mip")


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.perf_counter() > deadline


def _settle(
    base: list[int],
    units: set[int],
    found: Sequence[int],
    arcs_of: Sequence[Sequence[int]],
    n_arcs: int,
    held: list[tuple[int, int]] | None,
) -> None:
    """Copy the units' places from ``found`` into ``base``; ``held`` also collects them as final."""
    for u in units:
        var = next(v for v in (*arcs_of[u], n_arcs + u) if found[v])
        for v in (*arcs_of[u], n_arcs + u):
            base[v] = 0
        base[var] = 1
        if held is not None:
            held.append((u, var))



class _OutOfBudget(Exception):
    pass


@attrs.frozen
class _Relaxation:
    """The lexicographic LP optimum of a node: one flow bound per stage, each stage's flow taken
    on the optimal face of the stages before it, and the reduced costs of every stage."""

    vector: tuple[int, ...]
    reduced: tuple[ReducedCosts, ...]
    last: FlowStage


def _relax(
    state: State, coeffs: Sequence[Costs], arcs_of: Sequence[Sequence[int]], into: Sequence[Sequence[int]]
) -> _Relaxation | None:
    node = copy_state(state)
    vector: list[int] = []
    reduced: list[ReducedCosts] = []
    stage: FlowStage | None = None
    for i, coeff in enumerate(coeffs):
        stage = flow_stage(node, coeff, arcs_of)
        if stage is None:
            return None
        vector.append(stage.lower)
        reduced.append(reduced_costs(node, stage))
        if i + 1 < len(coeffs):
            apply_face(node, optimal_face(node, reduced[-1], 0), arcs_of, into)
    assert stage is not None
    return _Relaxation(vector=tuple(vector), reduced=tuple(reduced), last=stage)


def _lex_greedy(
    state: State,
    coeffs: Sequence[Costs],
    arcs_of: Sequence[Sequence[int]],
    into: Sequence[Sequence[int]],
    root: _Relaxation,
    budget: int,
    focus: set[int] | None = None,
    deadline: float | None = None,
) -> tuple[list[int], tuple[int, ...]] | None:
    """A whole plan near the flow, as a first incumbent: fix each split group to whichever of
    the homes it partly uses (or "unplaced") gives the smallest re-solved bound."""
    node, current = state, root
    while split := split_in(current.last, focus):
        u = max(split, key=lambda v: (state.unit_size[v], -v))
        chosen: tuple[tuple[int, ...], State, _Relaxation] | None = None
        for var in _options(node, current.last, u, arcs_of, all_homes=False):
            budget -= len(coeffs)
            if budget < 0 or (deadline is not None and time.perf_counter() > deadline):
                return None
            trial = fix_unit(node, u, var, arcs_of)
            attempt = _relax(trial, coeffs, arcs_of, into)
            if attempt is not None and (chosen is None or attempt.vector < chosen[0]):
                chosen = (attempt.vector, trial, attempt)
        if chosen is None:
            return None
        _, node, current = chosen
    return current.last.base, current.vector


def branch_and_bound(
    state: State,
    coeffs: Sequence[Costs],
    arcs_of: Sequence[Sequence[int]],
    into: Sequence[Sequence[int]],
    *,
    budget: int,
    deadline: float | None,
    focus: set[int] | None = None,
    greedy: int = 0,
) -> tuple[list[int] | None, tuple[int, ...] | None, bool]:
    """The lexicographic optimum over all stages by depth-first branch and bound on flows.

    A node's bound is its lexicographic LP optimum (:func:`_relax`), which no plan in the node
    beats: a plan with the first stage at its bound is LP-optimal there, so it lies on that
    stage's face, and so on. A node whose last flow keeps every sibling group whole is solved.
    Otherwise it branches on the largest split group: first into the home holding most of it,
    then with that home forbidden. Below an incumbent, the reduced costs of the stages it ties
    and of the first it beats fix the arcs no better plan can use. The first whole plan found
    inside-first is the dive; when its vector equals the root bound it ends the search at once.
    ``greedy`` flows may go to a first incumbent (:func:`_lex_greedy`).

    With ``focus``, only those units count: a plan is whole when they are, and only they are
    branched on. The caller makes sure nothing outside them can change between nodes (see
    :func:`by_part`).

    Returns the best plan's arc and unplaced values, its vector, and whether the search
    finished within ``budget`` flow solves (then the plan is the proven optimum).
    """
    best_values: list[int] | None = None
    best_vector: tuple[int, ...] | None = None
    left = budget

    def visit(node: State, relaxation: _Relaxation) -> None:
        nonlocal best_values, best_vector, left
        if best_vector is not None and relaxation.vector >= best_vector:
            return
        split = split_in(relaxation.last, focus)
        if not split:
            best_values, best_vector = relaxation.last.base, relaxation.vector
            return
        if best_vector is not None:
            node = _below(node, relaxation, best_vector, arcs_of, into)
        branches = _branches(state, node, relaxation.last, split, arcs_of)
        for child in branches:
            left -= len(coeffs)
            if left < 0 or _past(deadline):
                raise _OutOfBudget
            child_relaxation = _relax(child, coeffs, arcs_of, into)
            if child_relaxation is not None:
                visit(child, child_relaxation)

    root = _relax(state, coeffs, arcs_of, into)
    if root is None:
        return None, None, False
    first = _lex_greedy(state, coeffs, arcs_of, into, root, greedy, focus, deadline) if greedy else None
    if first is not None:
        best_values, best_vector = first
    try:
        visit(state, root)
    except _OutOfBudget:
        return best_values, best_vector, False
    return best_values, best_vector, best_values is not None


def _below(
    node: State,
    relaxation: _Relaxation,
    best: tuple[int, ...],
    arcs_of: Sequence[Sequence[int]],
    into: Sequence[Sequence[int]],
) -> State:
    """``node`` narrowed to plans that may beat the incumbent ``best``: the reduced costs of
    the stages it ties, and of the first one it beats, fix the arcs no better plan uses."""
    node = copy_state(node)
    for i, rc in enumerate(relaxation.reduced):
        gap = best[i] - relaxation.vector[i]
        apply_face(node, optimal_face(node, rc, gap), arcs_of, into)
        if gap > 0:
            break
    return node


def _branches(
    state: State, node: State, last: FlowStage, split: list[int], arcs_of: Sequence[Sequence[int]]
) -> tuple[State, ...]:
    """The two children of a node: its largest split group into the home holding most of it,
    and that home forbidden to it; none when the group's flow runs only on fixed arcs."""
    u = max(split, key=lambda v: (state.unit_size[v], -v))
    arcs, flows = last.shares(state, u)
    carried = {int(a): int(f) for a, f in zip(arcs.tolist(), flows.tolist(), strict=True) if f and node.active[a]}
    top = max(carried, key=lambda a: (carried[a], -a), default=None)
    if top is None:
        return ()
    outside = copy_state(node)
    outside.active[top] = False
    return fix_unit(node, u, top, arcs_of), outside
