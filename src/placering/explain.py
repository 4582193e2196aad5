"""Why a child ends in an HVB or consultant home, or unplaced, said in domain terms.

For such a child we look at the homes of every cheaper kind (for an unplaced child, every
home) and narrow them down rule by rule: ownership under isolated pooling, distance, needs,
care level, age. The first rule that leaves none is the explanation ("no kin or municipal home
within 90 km of Mora covers needs {substance}"). When suitable cheaper homes remain, we say
who occupies them, that a sibling group found no room together, or which objective term a
move there would worsen.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

import attrs

from placering._fields import format_tags
from placering.children import Child
from placering.eligibility import distance_limit, exclusion
from placering.homes import Home
from placering.policy import KINDS
from placering.result import Explanation, Plan, Unplacement, totals_of
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


def _kinds_phrase(kinds: Sequence[str]) -> str:
    """``kin or municipal``; every kind at once reads as plain ``home``."""
    ordered = [k for k in KINDS if k in kinds]
    if len(ordered) == len(KINDS):
        return ""
    words = [k if k != "hvb" else "HVB" for k in ordered]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _names(ids: Sequence[str]) -> str:
    shown = list(ids[:_MAX_NAMES])
    more = len(ids) - len(shown)
    if more:
        return ", ".join(shown) + f" and {more} more"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


@attrs.frozen
class _Context:
    scenario: Scenario
    home_of: dict[str, str]
    occupants: dict[str, list[str]]


def _distance_phrase(scenario: Scenario, child: Child, candidates: Sequence[Home]) -> str | None:
    """How far the candidate homes may lie, stated so that it is true of every one of them.

    ``within 90 km of Mora`` when every kind has that limit, or the kinds without a limit have
    no candidate beyond it; otherwise the limit of each kind, e.g. ``within reach of Mora
    (municipal 90 km, consultant 150 km, HVB any distance)``.
    """
    kinds = {h.kind for h in candidates}
    limits = {k: distance_limit(scenario, child, k) for k in kinds}
    finite = sorted({v for v in limits.values() if v is not None})
    place = scenario.region.name_of(child.municipality)
    if not finite:
        return None
    if len(finite) == 1 and all(
        scenario.km_between(child, h) <= finite[0] for h in candidates if limits[h.kind] is None
    ):
        return f"within {finite[0]:g} km of {place}"
    parts = ", ".join(
        f"{_KIND_WORD[k]} {limits[k]:g} km" if limits[k] is not None else f"{_KIND_WORD[k]} any distance"
        for k in KINDS
        if k in limits
    )
    return f"within reach of {place} ({parts})"


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
    candidates = [
        h for h in scenario.homes if h.kind in kinds and (h.kind != "kin" or child.id in h.reserved_for)
    ]
    what = _kinds_phrase(kinds)
    noun = f"{what} home" if what else "home"
    if not candidates:
        return Explanation(child=child.id, rule="none", text=f"there is no {noun} that could take {child.id}")

    place = scenario.region.name_of(child.municipality)
    qualifiers: list[str] = []
    steps: list[tuple[str, Callable[[Home], bool], str, str | None]] = []
    if scenario.policy.pooling == "isolated":
        steps.append(
            (
                "pooling",
                lambda h: h.kind != "municipal" or h.owner == child.municipality,
                f"is open to children of {place}, as each municipality uses only its own homes",
                f"open to {place}",
            )
        )
    distance = _distance_phrase(scenario, child, candidates)
    if distance is not None:
        steps.append(
            (
                "distance",
                lambda h: (lim := distance_limit(scenario, child, h.kind)) is None
                or scenario.km_between(child, h) <= lim,
                f"lies {distance}",
                distance,
            )
        )
    if child.needs:
        tags = format_tags(child.needs)
        steps.append(("needs", lambda h: child.needs <= h.competences, f"covers needs {tags}", f"covering needs {tags}"))
    steps.append(
        (
            "care_level",
            lambda h: child.care_level <= h.max_care_level,
            f"takes care level {child.care_level}",
            f"for care level {child.care_level}" if child.care_level > 1 else None,
        )
    )
    steps.append(("age", lambda h: h.min_age <= child.age <= h.max_age, f"takes a child aged {child.age}", None))
    for rule, keep, failure, qualifier in steps:
        survivors = [h for h in candidates if keep(h)]
        if not survivors:
            subject = " ".join([f"no {noun}", *qualifiers])
            return Explanation(child=child.id, rule=rule, text=f"{subject} {failure}")
        candidates = survivors
        if qualifier:
            qualifiers.append(qualifier)
    plural = "s" if len(candidates) > 1 else ""
    suitable_phrase = " ".join([f"{noun}{plural}", *qualifiers])
    return _suitable_but_taken(ctx, child, kind, candidates, suitable_phrase)


def _suitable_but_taken(
    ctx: _Context, child: Child, kind: str | None, suitable: list[Home], phrase: str
) -> Explanation:
    scenario = ctx.scenario
    siblings: tuple[Child, ...] = (child,)
    if child.sibling_group is not None and scenario.policy.siblings == "together":
        siblings = tuple(c for c in scenario.sibling_groups[child.sibling_group] if not scenario.is_kept(c))
    moving = {c.id for c in siblings}
    size = len(siblings)
    if size > 1:
        together = [h for h in suitable if all(exclusion(scenario, s, h) is None for s in siblings)]
        if not together:
            others = _names([s.id for s in siblings if s.id != child.id])
            return Explanation(
                child=child.id,
                rule="siblings",
                text=(
                    f"sibling group {child.sibling_group} stays together, and none of the {len(suitable)} "
                    f"suitable {phrase} ({_names([h.id for h in suitable])}) also suits {others}"
                ),
            )
        suitable = together
    ids = [h.id for h in suitable]

    def free(h: Home) -> int:
        return h.capacity - sum(1 for c in ctx.occupants[h.id] if c not in moving)

    roomy = [h for h in suitable if free(h) >= size]
    if not roomy:
        taken = sorted({c for h in suitable for c in ctx.occupants[h.id] if c not in moving})
        which = f"the suitable {phrase} ({_names(ids)})"
        if len(suitable) > 1:
            which = f"all {len(suitable)} suitable {phrase} ({_names(ids)})"
        if size > 1:
            text = f"{which} for sibling group {child.sibling_group} lack {size} free places together"
            rule = "siblings"
        else:
            text = f"{which} {'are' if len(suitable) > 1 else 'is'} full"
            rule = "full"
        text += f", taken by {_names(taken)}" if taken else " (no places)"
        return Explanation(child=child.id, rule=rule, text=text)
    # A suitable home has room: a move there would worsen a term the policy ranks higher.
    terms = scenario.policy.effective_objective()
    before = totals_of(scenario, ctx.home_of).vector(terms)
    for h in roomy:
        moved = dict(ctx.home_of)
        for s in siblings:
            moved[s.id] = h.id
        after = totals_of(scenario, moved).vector(terms)
        for term, old, new in zip(terms, before, after, strict=True):
            if new != old:
                if new > old:
                    where = "unplaced" if kind is None else f"in a {kind} home"
                    return Explanation(
                        child=child.id,
                        rule="objective",
                        text=(
                            f"the suitable {h.kind} home {h.id} has room, but placing {child.id} there instead "
                            f"of {where} would raise {term}, which the policy's objective ranks first"
                        ),
                    )
                break
    h = roomy[0]
    return Explanation(
        child=child.id,
        rule="tie",
        text=(
            f"the suitable {h.kind} home {h.id} has room and would serve equally well under the policy's "
            f"objective; this plan is one of several optimal ones"
        ),
    )


def _context(scenario: Scenario, home_of: dict[str, str]) -> _Context:
    occupants: dict[str, list[str]] = defaultdict(list)
    for c, h in home_of.items():
        occupants[h].append(c)
    for h in scenario.homes:
        occupants.setdefault(h.id, [])
    return _Context(scenario, dict(home_of), occupants)


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
