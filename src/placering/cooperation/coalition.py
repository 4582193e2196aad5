"""The coalition scenario ``restrict(scenario, S)`` of design.md section 8, the default members,
and which members can share a home (:class:`Links`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import attrs

from placering.exceptions import InvalidInputError
from placering.scenario import Scenario

__all__ = ["Links", "check_members", "codes_of", "default_members", "restrict"]


def default_members(scenario: Scenario) -> tuple[str, ...]:
    """Every municipality that has a child or owns a municipal home, in the region's order."""
    used = {c.municipality for c in scenario.children} | {h.owner for h in scenario.homes if h.kind == "municipal"}
    return tuple(code for code in scenario.region.codes if code in used)


def check_members(scenario: Scenario, members: Iterable[str], field: str = "members") -> tuple[str, ...]:
    """The members in the region's order; an unknown code or none at all is invalid input."""
    chosen = set()
    for code in members:
        if code not in scenario.region:
            raise InvalidInputError(
                f"{field} names unknown municipality {code!r} (not in region {scenario.region.name!r})",
                entity="cooperation",
                field=field,
            )
        chosen.add(code)
    if not chosen:
        raise InvalidInputError(f"{field} must name at least one municipality", entity="cooperation", field=field)
    return tuple(code for code in scenario.region.codes if code in chosen)


def restrict(scenario: Scenario, members: Iterable[str]) -> Scenario:
    """The scenario of coalition ``members`` (design.md section 8).

    The children of the members; kin homes reserved for one of them (``reserved_for`` narrowed
    to them); the municipal homes the members own; every consultant and HVB home, its capacity
    raised to at least the coalition's number of children; an outsider's municipal home in which
    a member's child is kept, its capacity cut to those kept children; the policy with
    ``pooling: "pooled"``. A kin home in which a member's child is kept without being reserved
    for it stays too, reserved for the kept children only. With ``keep_current: false``, a child
    whose current home leaves the coalition's scenario loses it (as do its siblings): the
    matching ignores it anyway.
    """
    chosen = set(check_members(scenario, members))
    children = [c for c in scenario.children if c.municipality in chosen]
    ids = {c.id for c in children}
    kept = Counter(c.current_home for c in children if scenario.is_kept(c))
    kept_ids: dict[str, set[str]] = {}
    for c in children:
        if scenario.is_kept(c) and c.current_home is not None:
            kept_ids.setdefault(c.current_home, set()).add(c.id)
    homes = []
    for h in scenario.homes:
        if h.kind == "kin":
            reserved = (h.reserved_for & ids) or frozenset(kept_ids.get(h.id, ()))
            if reserved:
                homes.append(attrs.evolve(h, reserved_for=reserved))
        elif h.kind == "municipal":
            if h.owner in chosen:
                homes.append(h)
            elif kept[h.id]:
                homes.append(attrs.evolve(h, capacity=kept[h.id]))
        else:
            homes.append(attrs.evolve(h, capacity=max(h.capacity, len(children))) if h.capacity < len(children) else h)
    present = {h.id for h in homes}
    lost = {c.sibling_group or c.id for c in children if c.current_home is not None and c.current_home not in present}
    if lost:
        children = [attrs.evolve(c, current_home=None) if (c.sibling_group or c.id) in lost else c for c in children]
    policy = scenario.policy if scenario.policy.pooling == "pooled" else attrs.evolve(scenario.policy, pooling="pooled")
    return Scenario(region=scenario.region, homes=homes, children=children, policy=policy)


# --- which members can share a home ----------------------------------------------------------


@attrs.frozen(kw_only=True)
class Links:
    """Which members can share a home, as one bit mask of neighbours per member.

    Two members are linked when a child of one may use (rules 1-6, pooled) a municipal home the
    other owns, when a kin home is reserved for children of both, or when a child of one is
    kept in a home the other owns. A coalition is the sum of its connected parts.
    """

    members: tuple[str, ...]
    neighbours: tuple[int, ...]

    @classmethod
    def of(cls, scenario: Scenario, members: Sequence[str]) -> Links:
        from placering.eligibility import arc_pairs

        pooled = restrict(scenario, members)
        bit = {code: 1 << i for i, code in enumerate(members)}
        masks = dict.fromkeys(members, 0)

        def link(a: str, b: str) -> None:
            if a != b and a in bit and b in bit:
                masks[a] |= bit[b]
                masks[b] |= bit[a]

        child, home = arc_pairs(pooled)
        pairs = {(pooled.children[c].municipality, pooled.homes[h].owner) for c, h in zip(
            child.tolist(), home.tolist(), strict=True) if pooled.homes[h].kind == "municipal"}
        for a, b in pairs:
            link(a, b)
        for h in pooled.homes:
            towns = sorted({pooled.child(c).municipality for c in h.reserved_for})
            for a in towns:
                for b in towns:
                    link(a, b)
        for c in pooled.children:  # a kept child takes a place from whoever may use its home
            if pooled.is_kept(c) and c.current_home is not None:
                kept_in = pooled.home(c.current_home)
                link(c.municipality, kept_in.owner)
                for other in kept_in.reserved_for:
                    link(c.municipality, pooled.child(other).municipality)
        return cls(members=tuple(members), neighbours=tuple(masks[code] for code in members))

    def part_of(self, mask: int) -> int:
        """The connected part of coalition ``mask`` that holds its lowest member."""
        part = frontier = mask & -mask
        while frontier:
            low = frontier & -frontier
            frontier ^= low
            new = self.neighbours[low.bit_length() - 1] & mask & ~part
            part |= new
            frontier |= new
        return part

    def parts(self, mask: int) -> list[int]:
        """The connected parts of coalition ``mask``."""
        out = []
        while mask:
            part = self.part_of(mask)
            out.append(part)
            mask &= ~part
        return out



def codes_of(members: Sequence[str], mask: int) -> tuple[str, ...]:
    """The members in coalition ``mask`` (bit ``i`` is ``members[i]``)."""
    return tuple(code for i, code in enumerate(members) if mask >> i & 1)
