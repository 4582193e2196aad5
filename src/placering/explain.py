"""Why a child ends in an HVB or consultant home, or unplaced, said in domain terms.

For such a child we look at the homes of every cheaper kind (for an unplaced child, every
home) and narrow them down rule by rule: ownership under isolated pooling, distance, needs,
care level, age. The first rule that leaves none is the explanation ("no kin or municipal home
within 90 km of Mora covers needs {substance}"). When suitable cheaper homes remain, we say
who occupies them, that a sibling group found no room together, or which objective term a
move there would worsen.

A national plan explains some 10 000 children against some 19 000 homes, so nothing here
looks at every home in Python per child: the homes become numpy arrays once per plan
(:class:`placering.eligibility.Facts`), each rule a boolean mask over the candidates, tested
by the one statement of the rules in :mod:`placering.eligibility`, and the narrowing is cached by the child attributes
it depends on (most children share their municipality, needs, care level and age band with
many others). The totals of a plan with a sibling group moved are the plan's totals plus the
change the move makes, not a recount of the whole plan.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from placering._fields import format_tags
from placering.children import Child
from placering.eligibility import KIND_CODE, Facts, distance_limit, passes
from placering.policy import KINDS
from placering.result import Explanation, Plan, TotalUnits, Unplacement, total_units
from placering.scenario import Scenario

__all__ = ["explain_child", "explain_plan"]

#: The kinds that are cheaper than each kind on the ladder; ``None`` stands for unplaced.
CHEAPER: dict[str | None, tuple[str, ...]] = {
    "hvb": ("kin", "municipal", "consultant"),
    "consultant": ("kin", "municipal"),
    None: KINDS,
}

_MAX_NAMES = 6

_KIND_WORD = {"kin": "kin", "municipal": "municipal", "consultant": "consultant", "hvb": "HVB"}

#: The rules that narrow the candidates, in the order an explanation applies them (the rules
#: that depend on where the child comes from first); kin homes are the child's own already.
_RULES = ("pooling", "distance", "needs", "care_level", "age")

#: Each kind's code in the home arrays: its place on the ladder.
_CODE = KIND_CODE

#: Integer sums below this convert to float64 exactly, so numpy's ``units / scale`` is the
#: same float as Python's; beyond it the objective comparison runs in Python integers.
_EXACT = 1 << 53


def _kinds_phrase(kinds: Sequence[str]) -> str:
    """``kin or municipal``; every kind at once reads as plain ``home``."""
    ordered = [k for k in KINDS if k in kinds]
    if len(ordered) == len(KINDS):
        return ""
    words = [k if k != "hvb" else "HVB" for k in ordered]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _names_of(shown: Sequence[str], total: int) -> str:
    """:func:`_names` of a list of ``total`` ids of which ``shown`` holds (at least) the first six."""
    shown = list(shown[:_MAX_NAMES])
    more = total - len(shown)
    if more:
        return ", ".join(shown) + f" and {more} more"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _names(ids: Sequence[str]) -> str:
    return _names_of(ids, len(ids))


@attrs.frozen(kw_only=True)
class _Context:
    """One plan and the scenario's homes as arrays, built once per :func:`explain_plan`.

    Home arrays are indexed like ``scenario.homes``; municipality indices follow
    ``region.codes``. The caches at the end fill as children are explained.
    """

    scenario: Scenario
    home_of: dict[str, str]
    facts: Facts  # what the rules read of every child and home
    # Homes.
    home_ids: list[str]
    kind: np.ndarray  # _CODE of the kind
    at: np.ndarray  # municipality index
    of_kind: dict[str, np.ndarray]  # the homes of each kind, ascending
    kin_of: dict[str, np.ndarray]  # child id -> the kin homes reserved for it, ascending
    cost_units: list[int]  # round(cost_of(home) * cost_scale), exact
    cost_scale: int
    # Municipalities.
    place: dict[str, int]
    km: np.ndarray  # km between municipalities, the very floats region.km gives
    # The plan.
    where: dict[str, int]  # child id -> home index, for every entry of home_of
    free: np.ndarray  # capacity less the entries of home_of in the home
    ranked: list[str]  # the ids of home_of, sorted
    home_by_rank: np.ndarray  # the home index of ranked[i]
    groups: dict[str, tuple[Child, ...]]
    totals: TotalUnits
    #: Whether every integer total and change fits float64 exactly (see :data:`_EXACT`).
    exact: bool
    km_units: np.ndarray | None  # km between municipalities in region units, when exact
    cost_array: np.ndarray | None  # cost_units as an array, when exact
    # Caches.
    kind_sets: dict[tuple[str, ...], np.ndarray] = attrs.field(factory=dict)
    wheres: dict[tuple[Any, ...], _Where] = attrs.field(factory=dict)
    fits: dict[tuple[Any, ...], _Fit] = attrs.field(factory=dict)
    narrowed: dict[tuple[Any, ...], tuple[Any, ...]] = attrs.field(factory=dict)
    taken: dict[tuple[Any, ...], tuple[int, list[str]]] = attrs.field(factory=dict)
    movers: dict[str, tuple[Child, ...]] = attrs.field(factory=dict)
    bundles: dict[str, _Bundle] = attrs.field(factory=dict)
    moves: dict[str, _Move] = attrs.field(factory=dict)

    def masks(self, child: Child, homes: np.ndarray, rules: tuple[str, ...]) -> list[np.ndarray]:
        """Over ``homes``: whether each rule of ``rules`` lets ``child`` in."""
        pairs = self.facts.pairs(self.facts.child_index[child.id], homes)
        return [_over(passes(pairs, (rule,)), homes.shape) for rule in rules]

    def of_kinds(self, kinds: tuple[str, ...]) -> np.ndarray:
        """The homes of ``kinds`` other than kin (those are reserved per child), ascending."""
        found = self.kind_sets.get(kinds)
        if found is None:
            found = np.sort(np.concatenate([self.of_kind[k] for k in kinds if k != "kin"] + [_NONE]))
            self.kind_sets[kinds] = found
        return found

    def moving(self, child: Child) -> tuple[Child, ...]:
        """The children that move with ``child``: its group's children not kept, under ``together``."""
        group = child.sibling_group
        if group is None or self.scenario.policy.siblings != "together":
            return (child,)
        found = self.movers.get(group)
        if found is None:
            found = tuple(c for c in self.groups[group] if not self.scenario.is_kept(c))
            self.movers[group] = found
        return found

    def bundle(self, child: Child) -> _Bundle:
        """What every member of ``child``'s moving group shares, worked out once per group so that
        explaining a group costs time linear in its size."""
        group = str(child.sibling_group)
        found = self.bundles.get(group)
        if found is None:
            movers = self.moving(child)
            homes = np.arange(len(self.home_ids), dtype=np.int64)
            allowed = np.ones(len(homes), dtype=bool)
            for s in movers:
                allowed &= _over(passes(self.facts.pairs(self.facts.child_index[s.id], homes)), homes.shape)
            placed = [self.where[s.id] for s in movers if s.id in self.where]
            ranked = np.zeros(len(self.ranked), dtype=bool)
            ranked[[bisect.bisect_left(self.ranked, s.id) for s in movers if s.id in self.where]] = True
            found = _Bundle(
                ids=frozenset(s.id for s in movers),
                first=tuple(s.id for s in movers[: _MAX_NAMES + 1]),
                allowed=allowed,
                living=np.bincount(np.array(placed, dtype=np.int64), minlength=len(homes)).astype(np.int64),
                ranked=ranked,
            )
            self.bundles[group] = found
        return found


@attrs.frozen
class _Bundle:
    """A moving sibling group as its members' explanations read it: their ids, the first of them
    (enough to name the others of any one member), the homes that rules 1-6 allow for all of them,
    how many of them each home holds now, and which of the plan's children they are."""

    ids: frozenset[str]
    first: tuple[str, ...]
    allowed: np.ndarray
    living: np.ndarray
    ranked: np.ndarray  # over ``_Context.ranked``: whether the child is one of them


_NONE = np.zeros(0, dtype=np.int64)


def _context(scenario: Scenario, home_of: dict[str, str]) -> _Context:
    homes = scenario.homes
    region = scenario.region
    facts = Facts.of(scenario)
    home_index = {h.id: j for j, h in enumerate(homes)}
    kind = facts.kind
    kin_lists: dict[str, list[int]] = defaultdict(list)
    for j, h in enumerate(homes):
        for cid in h.reserved_for:
            kin_lists[cid].append(j)
    cost_units = list(scenario.cost_units)
    km_units = region.km_units_matrix

    home_of = dict(home_of)
    where = {c: home_index[h] for c, h in home_of.items()}
    ranked = sorted(where)
    home_by_rank = np.array([where[c] for c in ranked], dtype=np.int64)
    occupied = np.bincount(home_by_rank, minlength=len(homes)).astype(np.int64)
    groups = scenario.sibling_groups
    totals = total_units(scenario, home_of)

    # The largest sum an objective comparison forms: every child moved to the dearest, farthest home.
    reach = len(scenario.children) + len(where) + 1
    top_cost = max(cost_units, default=0)
    top_km = int(km_units.max(initial=0))
    exact = reach * max(top_cost, top_km, 1) < _EXACT
    return _Context(
        scenario=scenario,
        home_of=home_of,
        facts=facts,
        home_ids=[h.id for h in homes],
        kind=kind,
        at=facts.at,
        of_kind={k: np.flatnonzero(kind == _CODE[k]) for k in KINDS},
        kin_of={cid: np.array(js, dtype=np.int64) for cid, js in kin_lists.items()},
        cost_units=cost_units,
        cost_scale=scenario.cost_scale,
        place=region.index,
        km=region.km_matrix,
        where=where,
        free=np.array([h.capacity for h in homes], dtype=np.int64) - occupied,
        ranked=ranked,
        home_by_rank=home_by_rank,
        groups=groups,
        totals=totals,
        exact=exact,
        km_units=km_units if exact else None,
        cost_array=np.array(cost_units, dtype=np.int64) if exact else None,
    )


def _distance_phrase(
    ctx: _Context, child: Child, present: set[str], farthest: dict[str, float]
) -> str | None:
    """How far the candidate homes may lie, stated so that it is true of every one of them.

    ``within 90 km of Mora`` when every kind has that limit, or the kinds without a limit have
    no candidate beyond it; otherwise the limit of each kind, e.g. ``within reach of Mora
    (municipal 90 km, consultant 150 km, HVB any distance)``. ``present`` are the kinds among
    the candidates and ``farthest`` the km of the farthest candidate of each.
    """
    scenario = ctx.scenario
    limits = {k: distance_limit(scenario, child, k, ctx.facts.policy_km) for k in present}
    finite = sorted({v for v in limits.values() if v is not None})
    place = scenario.region.name_of(child.municipality)
    if not finite:
        return None
    if len(finite) == 1 and all(farthest[k] <= finite[0] for k in present if limits[k] is None):
        return f"within {finite[0]:g} km of {place}"
    parts = ", ".join(
        f"{_KIND_WORD[k]} {limits[k]:g} km" if limits[k] is not None else f"{_KIND_WORD[k]} any distance"
        for k in KINDS
        if k in limits
    )
    return f"within reach of {place} ({parts})"


@attrs.frozen
class _Where:
    """The candidates of the kinds other than kin for a municipality and personal limit, and
    the rules that depend on where the child comes from: pooling, then distance."""

    candidates: np.ndarray
    present: frozenset[str]  # the kinds among the candidates
    farthest: dict[str, float]  # the km of the farthest candidate of each kind
    pooled: bool  # whether any candidate passes pooling
    reached: bool  # whether any passes pooling and distance
    near: np.ndarray  # the candidates that pass both


@attrs.frozen
class _Fit:
    """Of the candidates that pass pooling and distance: whether any also passes the needs,
    then care level, then age, and those that pass all."""

    needs: bool
    care_level: bool
    age: bool
    suitable: np.ndarray


def _placed_within(ctx: _Context, child: Child, homes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Over ``homes``: whether pooling lets ``child`` in, and whether the distance limit does.

    The distance mask is the same whether or not the explanation states a distance step: without
    a finite limit for any kind among the candidates, it keeps every one of them.
    """
    own, within = ctx.masks(child, homes, ("pooling", "distance"))
    return own, within


def _fitting(ctx: _Context, child: Child, homes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Over ``homes``: whether they cover the child's needs, take its care level, take its age."""
    needs, care, age = ctx.masks(child, homes, ("needs", "care_level", "age"))
    return needs, care, age


def _where(ctx: _Context, child: Child, kinds: tuple[str, ...]) -> _Where:
    candidates = ctx.of_kinds(kinds)
    origin = ctx.place[child.municipality]
    kind = ctx.kind[candidates]
    km = ctx.km[origin, ctx.at[candidates]]
    counts = np.bincount(kind, minlength=len(KINDS))
    present = frozenset(KINDS[c] for c in np.flatnonzero(counts).tolist())
    farthest = {k: float(km[kind == _CODE[k]].max()) for k in present}
    own, within = _placed_within(ctx, child, candidates)
    near = own & within
    return _Where(candidates, present, farthest, bool(own.any()), bool(near.any()), candidates[near])


def _fit(ctx: _Context, child: Child, near: np.ndarray) -> _Fit:
    needs, care, age = _fitting(ctx, child, near)
    needs_ok = needs
    care_ok = needs_ok & care
    age_ok = care_ok & age
    return _Fit(bool(needs_ok.any()), bool(care_ok.any()), bool(age_ok.any()), near[age_ok])


def _steps(
    ctx: _Context, child: Child, present: set[str], farthest: dict[str, float]
) -> list[tuple[str, str, str | None]]:
    """The narrowing's steps for ``child``: each rule, what to say when no home passes it, and the
    qualifier the homes that pass it earn (``None``: none worth saying)."""
    scenario = ctx.scenario
    place = scenario.region.name_of(child.municipality)
    steps: list[tuple[str, str, str | None]] = []
    if ctx.facts.isolated:  # the pooling rule can exclude homes: say which ones are open
        steps.append(
            (
                "pooling",
                f"is open to children of {place}, as each municipality uses only its own homes",
                f"open to {place}",
            )
        )
    distance = _distance_phrase(ctx, child, present, farthest)
    if distance is not None:
        steps.append(("distance", f"lies {distance}", distance))
    if child.needs:
        tags = format_tags(child.needs)
        steps.append(("needs", f"covers needs {tags}", f"covering needs {tags}"))
    steps.append(
        (
            "care_level",
            f"takes care level {child.care_level}",
            f"for care level {child.care_level}" if child.care_level > 1 else None,
        )
    )
    steps.append(("age", f"takes a child aged {child.age}", None))
    return steps


def _narrow(
    ctx: _Context, child: Child, kinds: tuple[str, ...], noun: str
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The narrowing of the candidate homes, rule by rule, and a key that names its result.

    ``("none",)``, ``("fail", rule, text)`` or ``("ok", suitable, phrase)``. The rules keep or
    drop each home on its own, so the homes that survive a step are those of the kinds other
    than kin that survive it, and the child's kin homes that do. The former depend only on a
    few child attributes that many children share, and are cached by those.
    """
    kin = ctx.kin_of.get(child.id, _NONE) if "kin" in kinds else _NONE
    where_key = (kinds, child.municipality, child.max_km)
    fit_key = (where_key, child.needs, child.care_level, child.age)
    key: tuple[Any, ...] = fit_key
    if len(kin):
        key = (fit_key, tuple(kin.tolist()))
    else:
        cached = ctx.narrowed.get(key)
        if cached is not None:
            return cached, key
    where = ctx.wheres.get(where_key)
    if where is None:
        where = _where(ctx, child, kinds)
        ctx.wheres[where_key] = where
    fit = ctx.fits.get(fit_key)
    if fit is None:
        fit = _fit(ctx, child, where.near)
        ctx.fits[fit_key] = fit

    present = set(where.present)
    farthest = dict(where.farthest)
    # Whether any home survives each rule and those before it, and the survivors of all: the
    # candidates' and the kin homes'.
    alive = dict(zip(_RULES, (where.pooled, where.reached, fit.needs, fit.care_level, fit.age), strict=True))
    suitable = fit.suitable
    if len(kin):
        present.add("kin")
        km = ctx.km[ctx.place[child.municipality], ctx.at[kin]]
        farthest["kin"] = float(km.max())  # the other candidates hold no kin home
        passed = np.ones(len(kin), dtype=bool)
        for rule, keep in zip(_RULES, (*_placed_within(ctx, child, kin), *_fitting(ctx, child, kin)), strict=True):
            passed = passed & keep
            alive[rule] = alive[rule] or bool(passed.any())
        extra = kin[passed]
        suitable = np.insert(suitable, np.searchsorted(suitable, extra), extra)

    if not where.present and not len(kin):
        found: tuple[Any, ...] = ("none",)
    else:
        steps = _steps(ctx, child, present, farthest)
        qualifiers: list[str] = []
        for rule, failure, qualifier in steps:
            if not alive[rule]:
                found = ("fail", rule, f"{' '.join([f'no {noun}', *qualifiers])} {failure}")
                break
            if qualifier:
                qualifiers.append(qualifier)
        else:
            plural = "s" if len(suitable) > 1 else ""
            found = ("ok", suitable, " ".join([f"{noun}{plural}", *qualifiers]))
    if not len(kin):
        ctx.narrowed[key] = found
    return found, key


def explain_child(
    scenario: Scenario, plan_home_of: dict[str, str], child: Child, *, _ctx: _Context | None = None
) -> Explanation:
    """Explain why ``child`` is where ``plan_home_of`` puts it (absent: unplaced)."""
    ctx = _ctx or _context(scenario, plan_home_of)
    home_id = ctx.home_of.get(child.id)
    kind = scenario.home(home_id).kind if home_id is not None else None
    if home_id is not None and scenario.is_kept(child):
        return Explanation(
            child=child.id,
            rule="stability",
            text=f"{child.id} stays in its current {kind} home {home_id}, as the policy keeps current placements",
        )
    kinds = CHEAPER.get(kind, ())
    what = _kinds_phrase(kinds)
    noun = f"{what} home" if what else "home"
    found, key = _narrow(ctx, child, kinds, noun)
    if found[0] == "none":
        return Explanation(child=child.id, rule="none", text=f"there is no {noun} that could take {child.id}")
    if found[0] == "fail":
        return Explanation(child=child.id, rule=found[1], text=found[2])
    return _suitable_but_taken(ctx, child, kind, found[1], found[2], key)


def _allowed(ctx: _Context, child: Child, homes: np.ndarray) -> np.ndarray:
    """Over ``homes``: whether rules 1-6 allow ``child`` there (:func:`exclusion` is ``None``)."""
    return _over(passes(ctx.facts.pairs(ctx.facts.child_index[child.id], homes)), homes.shape)


def _over(result: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A rule's result over ``shape``: a rule that reads no home fact gives one boolean for all
    (``np.full`` is several times cheaper than ``np.broadcast_to`` for that case)."""
    if np.ndim(result) == 0:
        return np.full(shape, bool(result))
    return np.asarray(result)


def _occupants(
    ctx: _Context, suitable: np.ndarray, first: int, skip: np.ndarray | None = None
) -> tuple[int, list[str]]:
    """How many children the plan puts in ``suitable``, and the ``first`` of their ids in sorted
    order; ``skip`` marks children (over ``ctx.ranked``) not to count."""
    inside = np.zeros(len(ctx.home_ids), dtype=bool)
    inside[suitable] = True
    occupied = inside[ctx.home_by_rank]
    ranks = np.flatnonzero(occupied if skip is None else occupied & ~skip)
    return len(ranks), [ctx.ranked[r] for r in ranks[:first].tolist()]


def _suitable_but_taken(
    ctx: _Context, child: Child, kind: str | None, suitable: np.ndarray, phrase: str, key: tuple[Any, ...]
) -> Explanation:
    siblings = ctx.moving(child)
    size = len(siblings)
    narrowed = True  # whether ``suitable`` is still the cached narrowing of ``key``
    if size > 1:
        bundle = ctx.bundle(child)
        together = bundle.allowed[suitable]  # the child's own rules made ``suitable``
        if not together.any():
            others = _names_of([c for c in bundle.first if c != child.id], size - 1)
            shown = [ctx.home_ids[j] for j in suitable[:_MAX_NAMES].tolist()]
            return Explanation(
                child=child.id,
                rule="together",
                text=(
                    f"sibling group {child.sibling_group} stays together, and none of the {len(suitable)} "
                    f"suitable {phrase} ({_names_of(shown, len(suitable))}) also suits {others}"
                ),
            )
        if not together.all():
            suitable = suitable[together]
            narrowed = False
        # The places each suitable home has free once the moving children have left it.
        living = bundle.living[suitable]
        free = ctx.free[suitable] + living
        leaving = int(living.sum())
    else:
        free = ctx.free[suitable]
        leaving = 0
        j = ctx.where.get(child.id)
        if j is not None:
            at = int(np.searchsorted(suitable, j))
            if at < len(suitable) and suitable[at] == j:
                free[at] += 1
                leaving = 1
    roomy = suitable[free >= size]
    if not len(roomy):
        return _full(ctx, child, siblings, suitable, phrase, key if narrowed else None, leaving)
    return _roomy(ctx, child, siblings, kind, roomy)


def _roomy(
    ctx: _Context, child: Child, siblings: tuple[Child, ...], kind: str | None, roomy: np.ndarray
) -> Explanation:
    """A suitable home has room: a move there would worsen a term the policy ranks higher, or
    the plan is one of several optimal ones."""
    scenario = ctx.scenario
    worse = _first_worse(ctx, child, siblings, roomy, scenario.policy.effective_objective())
    if worse is not None:
        j, term = worse
        h = scenario.homes[j]
        where = "unplaced" if kind is None else f"in a {kind} home"
        return Explanation(
            child=child.id,
            rule="objective",
            text=(
                f"the suitable {h.kind} home {h.id} has room, but placing {child.id} there instead "
                f"of {where} would raise {term}, which the policy's objective ranks first"
            ),
        )
    h = scenario.homes[int(roomy[0])]
    return Explanation(
        child=child.id,
        rule="tie",
        text=(
            f"the suitable {h.kind} home {h.id} has room and would serve equally well under the policy's "
            f"objective; this plan is one of several optimal ones"
        ),
    )


def _full(
    ctx: _Context,
    child: Child,
    siblings: tuple[Child, ...],
    suitable: np.ndarray,
    phrase: str,
    key: tuple[Any, ...] | None,
    leaving: int,
) -> Explanation:
    """Every suitable home lacks room for the moving children: who takes the places.

    ``key`` names ``suitable`` when it is still the cached narrowing of the key (``None`` when
    siblings narrowed it further); ``leaving`` is how many moving children live in those homes.
    """
    size = len(siblings)
    # The occupants of the suitable homes, the moving children aside, and the first of them in
    # sorted order. A group's own children are left out at once, so that its members cost time
    # linear in its size. A lone child's suitable homes are those of every child with the same
    # key, so their occupants are looked up once; the child itself may be among the first.
    if size > 1:
        count, names = _occupants(ctx, suitable, _MAX_NAMES + 1, ctx.bundle(child).ranked)
    else:
        found = ctx.taken.get(key) if key is not None else None
        if found is None:
            found = _occupants(ctx, suitable, _MAX_NAMES + 1)
            if key is not None:
                ctx.taken[key] = found
        count, names = found
        count -= leaving
        names = [c for c in names if c != child.id]
    shown = [ctx.home_ids[j] for j in suitable[:_MAX_NAMES].tolist()]
    which = f"the suitable {phrase} ({_names_of(shown, len(suitable))})"
    if len(suitable) > 1:
        which = f"all {len(suitable)} suitable {phrase} ({_names_of(shown, len(suitable))})"
    if size > 1:
        text = f"{which} for sibling group {child.sibling_group} lack {size} free places together"
        rule = "siblings"
    else:
        text = f"{which} {'are' if len(suitable) > 1 else 'is'} full"
        rule = "full"
    text += f", taken by {_names_of(names, count)}" if count else " (no places)"
    return Explanation(child=child.id, rule=rule, text=text)


def _first_worse(
    ctx: _Context, child: Child, siblings: tuple[Child, ...], roomy: np.ndarray, terms: tuple[str, ...]
) -> tuple[int, str] | None:
    """The first home of ``roomy`` (in scenario order) where moving ``siblings`` makes the first
    objective term that changes larger, and that term; ``None`` when there is none.

    The totals after a move are the plan's totals plus what changes: the moving children's own
    terms and their sibling group's split. Each term compares as the float :class:`Totals`
    holds, ``units / scale``, exactly as a recount of the whole plan would give it.
    """
    group = child.sibling_group if len(siblings) > 1 else None
    move = ctx.moves.get(group) if group is not None else None
    if move is None:  # a group's move is the same for each member: worked out once
        move = _move_of(ctx, child, siblings)
        if group is not None:
            ctx.moves[group] = move
    base = ctx.totals
    olds: dict[str, float] = {
        "unplaced": base.unplaced,
        "hvb": base.hvb,
        "consultant": base.consultant,
        "split_siblings": base.split_siblings,
        "cost": base.cost_units / ctx.cost_scale,
        "km": base.km_units / ctx.scenario.region.km_scale,
    }
    if not ctx.exact or ctx.km_units is None or ctx.cost_array is None:
        return _first_worse_in_python(ctx, move, roomy, terms, olds)
    return _first_worse_in_numpy(ctx, move, roomy, terms, olds, (ctx.km_units, ctx.cost_array))


def _move_of(ctx: _Context, child: Child, siblings: tuple[Child, ...]) -> _Move:
    """What the moving children (``child`` or its group) contribute to the plan's totals now."""
    scenario = ctx.scenario
    region = scenario.region
    base = ctx.totals
    # What the moving children contribute where they are now.
    unplaced = hvb = consultant = cost = km = 0
    for s in siblings:
        j = ctx.where.get(s.id)
        if j is None:
            unplaced += 1
            continue
        hvb += int(ctx.kind[j] == _CODE["hvb"])
        consultant += int(ctx.kind[j] == _CODE["consultant"])
        cost += ctx.cost_units[j]
        km += region.km_units(s.municipality, scenario.homes[j].municipality)
    # Only the child's group can split differently (the moving children are the child or its
    # group): after a move to home j its homes are those of the members staying put, and j.
    group = child.sibling_group
    split = base.split_siblings
    static: list[int] = []
    if group is not None:
        members = ctx.groups[group]
        moving = {s.id for s in siblings}
        split -= max(0, len({ctx.where[c.id] for c in members if c.id in ctx.where}) - 1)
        static = sorted({ctx.where[c.id] for c in members if c.id not in moving and c.id in ctx.where})
    return _Move(
        siblings=siblings, group=group, unplaced=unplaced, hvb=hvb, consultant=consultant, cost=cost, km=km,
        split=split, static=static,
    )


@attrs.frozen(kw_only=True)
class _Move:
    """Moving children out of their places, for :func:`_first_worse`: what they contribute now."""

    siblings: tuple[Child, ...]
    group: str | None
    unplaced: int  # how many of them are unplaced
    hvb: int
    consultant: int
    cost: int  # cost units of their homes
    km: int  # km units to their homes
    split: int  # their group's split_siblings less its homes now
    static: list[int]  # the homes of the group's members who stay put, ascending


def _first_worse_in_python(
    ctx: _Context, move: _Move, roomy: np.ndarray, terms: tuple[str, ...], olds: dict[str, float]
) -> tuple[int, str] | None:
    """:func:`_first_worse` home by home, in Python integers: for totals beyond float64's exact range."""
    scenario = ctx.scenario
    region = scenario.region
    base = ctx.totals
    size = len(move.siblings)
    for j in roomy.tolist():
        home = scenario.homes[j]
        # Siblings share their municipality (the scenario checks it), so each travels as far.
        km = size * region.km_units(move.siblings[0].municipality, home.municipality) if size else 0
        new = {
            "unplaced": base.unplaced - move.unplaced,
            "hvb": base.hvb - move.hvb + (size if home.kind == "hvb" else 0),
            "consultant": base.consultant - move.consultant + (size if home.kind == "consultant" else 0),
            "split_siblings": base.split_siblings,
            "cost": (base.cost_units - move.cost + size * ctx.cost_units[j]) / ctx.cost_scale,
            "km": (base.km_units - move.km + km) / region.km_scale,
        }
        if move.group is not None:
            homes = len(move.static) + (1 if size and j not in move.static else 0)
            new["split_siblings"] = move.split + max(0, homes - 1)
        for term in terms:
            if new[term] != olds[term]:
                if new[term] > olds[term]:
                    return j, term
                break
    return None


def _moved_totals(
    ctx: _Context, move: _Move, roomy: np.ndarray, term: str, km_units: np.ndarray, cost_array: np.ndarray
) -> np.ndarray:
    """Over ``roomy``: objective term ``term`` of the plan with the moving children in each home;
    ``km_units`` and ``cost_array`` are the context's, present when its sums are exact."""
    base = ctx.totals
    size = len(move.siblings)
    kind = ctx.kind[roomy]
    if term == "unplaced":
        return np.asarray(base.unplaced - move.unplaced)  # the same wherever the children go
    if term in ("hvb", "consultant"):
        return getattr(base, term) - getattr(move, term) + size * (kind == _CODE[term]).astype(np.int64)
    if term == "split_siblings":
        if move.group is None:
            return np.asarray(base.split_siblings)
        homes = len(move.static) + (size > 0) * (~np.isin(roomy, move.static)).astype(np.int64)
        return move.split + np.maximum(0, homes - 1)
    if term == "cost":
        return (base.cost_units - move.cost + size * cost_array[roomy]) / ctx.cost_scale
    units = np.full(len(roomy), base.km_units - move.km, dtype=np.int64)
    if size:  # siblings share their municipality (the scenario checks it), so each travels as far
        units += size * km_units[ctx.place[move.siblings[0].municipality], ctx.at[roomy]]
    return units / ctx.scenario.region.km_scale


def _first_worse_in_numpy(
    ctx: _Context,
    move: _Move,
    roomy: np.ndarray,
    terms: tuple[str, ...],
    olds: dict[str, float],
    exact: tuple[np.ndarray, np.ndarray],
) -> tuple[int, str] | None:
    """:func:`_first_worse` over all of ``roomy`` at once, term by term; ``exact`` holds the
    context's km units and cost array."""
    decided = np.zeros(len(roomy), dtype=bool)
    worse = np.zeros(len(roomy), dtype=bool)
    worse_term = np.full(len(roomy), -1, dtype=np.int64)
    for t, term in enumerate(terms):
        new = _moved_totals(ctx, move, roomy, term, *exact)
        old = olds[term]
        differs = ~decided & (new != old)
        worse |= differs & (new > old)
        worse_term[differs] = t
        decided |= differs
        if decided.all():  # usually after the first term: leaving the unplaced or HVB homes
            break
    hits = np.flatnonzero(worse)
    if not len(hits):
        return None
    first = int(hits[0])
    return int(roomy[first]), terms[int(worse_term[first])]


def explain_plan(scenario: Scenario, plan: Plan) -> Plan:
    """The plan with an explanation for every child in HVB or consultant homes or unplaced."""
    home_of = plan.home_of()
    ctx = _context(scenario, home_of)
    explanations: dict[str, Explanation] = {}
    for a in plan.assignments:
        if a.kind in ("hvb", "consultant"):
            explanations[a.child] = explain_child(scenario, home_of, scenario.child(a.child), _ctx=ctx)
    unplaced = []
    for u in plan.unplaced:
        e = explain_child(scenario, home_of, scenario.child(u.child), _ctx=ctx)
        explanations[u.child] = e
        unplaced.append(Unplacement(child=u.child, reasons=(e.text,)))
    return attrs.evolve(plan, explanations=explanations, unplaced=tuple(unplaced))
