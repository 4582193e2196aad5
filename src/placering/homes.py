"""Homes that can take children: kin, the municipality's own family homes, consultant homes, HVB."""

from __future__ import annotations

from typing import Any

import attrs

from placering import _fields as f
from placering.policy import KINDS

__all__ = ["DEFAULT_MAX_CARE_LEVEL", "Home"]

#: ``max_care_level`` when a home does not give one (design.md section 3).
DEFAULT_MAX_CARE_LEVEL = {"kin": 1, "municipal": 1, "consultant": 3, "hvb": 4}


def _default_care_level(self: Any) -> Any:
    return DEFAULT_MAX_CARE_LEVEL.get(self.kind, 1)


def _default_owner(self: Any) -> Any:
    return self.municipality


@attrs.frozen(kw_only=True)
class Home:
    """A placement: a kin home (nätverkshem), an own family home (familjehem i egen regi),
    a consultant-supported home (konsulentstött familjehem) or an HVB unit.

    ``capacity`` counts every place, those taken by children already living there too.
    ``cost_per_day`` of ``None`` means the policy's cost for the kind; read the effective cost
    through :meth:`Scenario.cost_of`. A kin home is ``reserved_for`` specific children and
    takes no other child.
    """

    __entity__ = "home"

    id: str = attrs.field(validator=f.identifier())
    kind: str = attrs.field(validator=f.one_of(KINDS))
    municipality: str = attrs.field(validator=f.identifier())
    capacity: int = attrs.field(validator=f.int_between(0, f.MAX_CAPACITY))
    owner: str = attrs.field(default=attrs.Factory(_default_owner, takes_self=True), validator=f.identifier())
    min_age: int = attrs.field(default=0, validator=f.int_between(0, 20))
    max_age: int = attrs.field(default=20, validator=f.int_between(0, 20))
    competences: frozenset[str] = attrs.field(default=frozenset(), converter=f.to_frozenset, validator=f.tag_set())
    max_care_level: int = attrs.field(
        default=attrs.Factory(_default_care_level, takes_self=True), validator=f.int_between(1, 4)
    )
    cost_per_day: float | None = attrs.field(
        default=None, validator=f.non_negative_number(optional=True, high=f.MAX_COST)
    )
    reserved_for: frozenset[str] = attrs.field(
        default=frozenset(), converter=f.to_frozenset, validator=f.tag_set()
    )

    def __attrs_post_init__(self) -> None:
        if self.min_age > self.max_age:
            raise f.fail(self, "max_age", f"must be >= min_age {self.min_age}, got {self.max_age}")
        if self.kind == "kin" and not self.reserved_for:
            raise f.fail(self, "reserved_for", "must name at least one child for a kin home")
        if self.kind != "kin" and self.reserved_for:
            raise f.fail(self, "reserved_for", f"is allowed only on kin homes, not on a {self.kind} home")
