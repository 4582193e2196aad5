"""A scenario: a region, a policy, the homes and the children to place."""

from __future__ import annotations

import functools
from collections import Counter
from typing import Any

import attrs

from placering.children import Child
from placering.exceptions import InvalidInputError
from placering.homes import Home
from placering.policy import Policy
from placering.region import Region, decimal_scale

__all__ = ["Scenario"]


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _home_entity(i: int, home: Home) -> str:
    return f"homes[{i}] {home.id!r}"


def _child_entity(i: int, child: Child) -> str:
    return f"children[{i}] {child.id!r}"


def _check_sibling(i: int, child: Child, first: Child) -> None:
    """``child`` (``children[i]``) shares its group's municipality and placed-or-not with ``first``."""
    if first.municipality != child.municipality:
        raise InvalidInputError(
            f"municipality {child.municipality!r} differs from {first.municipality!r} of sibling "
            f"{first.id!r} in group {child.sibling_group!r}",
            entity=_child_entity(i, child),
            field="municipality",
        )
    if (first.current_home is None) != (child.current_home is None):
        placed, unplaced = (child, first) if child.current_home is not None else (first, child)
        raise InvalidInputError(
            f"current_home must be set for all or none of sibling group {child.sibling_group!r}, "
            f"but {placed.id!r} has one and {unplaced.id!r} has none",
            entity=_child_entity(i, child),
            field="current_home",
        )


@attrs.frozen(kw_only=True)
class Scenario:
    """Everything one matching needs. Construction checks every cross-reference.

    Use :func:`attrs.evolve` for what-ifs: ``attrs.evolve(s, homes=s.homes + (new_home,))``.
    """

    region: Region
    homes: tuple[Home, ...] = attrs.field(converter=_as_tuple)
    children: tuple[Child, ...] = attrs.field(converter=_as_tuple)
    policy: Policy = attrs.field(factory=Policy)

    _home_by_id: dict[str, Home] = attrs.field(init=False, eq=False, repr=False)
    _child_by_id: dict[str, Child] = attrs.field(init=False, eq=False, repr=False)
    _groups: dict[str, tuple[Child, ...]] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._check_types()
        homes = self._index(self.homes, _home_entity)
        children = self._index(self.children, _child_entity)
        self._check_homes(children)
        groups = self._check_children(homes)
        self._check_capacity()
        object.__setattr__(self, "_home_by_id", homes)
        object.__setattr__(self, "_child_by_id", children)
        object.__setattr__(self, "_groups", groups)

    def _check_types(self) -> None:
        if not isinstance(self.region, Region):
            raise InvalidInputError(f"must be a Region, got {self.region!r}", entity="scenario", field="region")
        if not isinstance(self.policy, Policy):
            raise InvalidInputError(f"must be a Policy, got {self.policy!r}", entity="scenario", field="policy")
        for name, items, cls in (("homes", self.homes, Home), ("children", self.children, Child)):
            if not isinstance(items, tuple):
                raise InvalidInputError(f"must be a list, got {items!r}", entity="scenario", field=name)
            for i, item in enumerate(items):
                if not isinstance(item, cls):
                    raise InvalidInputError(f"must be a {cls.__name__}, got {item!r}", entity=f"{name}[{i}]")

    def _check_homes(self, children: dict[str, Child]) -> None:
        """Every home lies in, and is owned by, a municipality of the region; kin homes name known children."""
        for i, h in enumerate(self.homes):
            for field in ("municipality", "owner"):
                code = getattr(h, field)
                if code not in self.region:
                    raise InvalidInputError(
                        f"{field} names unknown municipality {code!r}", entity=_home_entity(i, h), field=field
                    )
            for cid in sorted(h.reserved_for):
                if cid not in children:
                    raise InvalidInputError(
                        f"reserved_for names unknown child {cid!r}", entity=_home_entity(i, h), field="reserved_for"
                    )

    def _check_children(self, homes: dict[str, Home]) -> dict[str, tuple[Child, ...]]:
        """Every child comes from the region and lives in a known home, if any; siblings share their
        municipality and are all placed today or none. The sibling groups, in scenario order."""
        groups: dict[str, list[Child]] = {}
        for i, c in enumerate(self.children):
            if c.municipality not in self.region:
                raise InvalidInputError(
                    f"municipality names unknown municipality {c.municipality!r}",
                    entity=_child_entity(i, c),
                    field="municipality",
                )
            if c.current_home is not None and c.current_home not in homes:
                raise InvalidInputError(
                    f"current_home names unknown home {c.current_home!r}",
                    entity=_child_entity(i, c),
                    field="current_home",
                )
            if c.sibling_group is not None:
                group = groups.setdefault(c.sibling_group, [])
                if group:
                    _check_sibling(i, c, group[0])
                group.append(c)
        return {g: tuple(m) for g, m in groups.items()}

    def _check_capacity(self) -> None:
        occupancy = Counter(c.current_home for c in self.children if c.current_home is not None)
        for i, h in enumerate(self.homes):
            if occupancy[h.id] > h.capacity:
                raise InvalidInputError(
                    f"capacity {h.capacity} is below the {occupancy[h.id]} children whose current_home it is",
                    entity=_home_entity(i, h),
                    field="capacity",
                )

    @staticmethod
    def _index(items: tuple[Any, ...], entity: Any) -> dict[str, Any]:
        by_id: dict[str, Any] = {}
        for i, item in enumerate(items):
            if item.id in by_id:
                raise InvalidInputError(f"id {item.id!r} is used twice", entity=entity(i, item), field="id")
            by_id[item.id] = item
        return by_id

    def home(self, home_id: str) -> Home:
        return self._home_by_id[home_id]

    def child(self, child_id: str) -> Child:
        return self._child_by_id[child_id]

    def has_home(self, home_id: str) -> bool:
        return home_id in self._home_by_id

    def has_child(self, child_id: str) -> bool:
        return child_id in self._child_by_id

    @property
    def sibling_groups(self) -> dict[str, tuple[Child, ...]]:
        """Every sibling group with its members, in scenario order."""
        return dict(self._groups)

    def cost_of(self, home: Home) -> float:
        """What a place in ``home`` costs per day: its own cost, else the policy's for its kind."""
        return home.cost_per_day if home.cost_per_day is not None else self.policy.costs_per_day[home.kind]

    @functools.cached_property
    def cost_scale(self) -> int:
        """The power of ten that makes every home's :meth:`cost_of` whole (see :func:`decimal_scale`).

        Computed once per scenario: totals, explanations and the solver all scale costs by it.
        """
        return decimal_scale(self.cost_of(h) for h in self.homes)

    @functools.cached_property
    def cost_units(self) -> tuple[int, ...]:
        """``round(cost_of(home) * cost_scale)`` for each home, in scenario order: exact integers."""
        scale = self.cost_scale
        return tuple(round(self.cost_of(h) * scale) for h in self.homes)

    def is_kept(self, child: Child) -> bool:
        """Whether the child stays in its current home without being re-matched (rule 9)."""
        return self.policy.keep_current and child.current_home is not None

    def km_between(self, child: Child, home: Home) -> float:
        return self.region.km(child.municipality, home.municipality)
