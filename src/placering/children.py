"""Children in need of an out-of-home placement."""

from __future__ import annotations

import attrs

from placering import _fields as f

__all__ = ["Child"]


@attrs.frozen(kw_only=True)
class Child:
    """A child to place, known only by a pseudonymous ``id``.

    ``municipality`` is the responsible (home) municipality. ``care_level`` runs from 1
    (ordinary) to 4 (institutional, HVB only). ``max_km`` tightens the distance limit for
    municipal and consultant homes. ``current_home`` is where the child lives today, if placed.
    """

    __entity__ = "child"

    id: str = attrs.field(validator=f.identifier())
    municipality: str = attrs.field(validator=f.identifier())
    age: int = attrs.field(validator=f.int_between(0, 20))
    needs: frozenset[str] = attrs.field(default=frozenset(), converter=f.to_frozenset, validator=f.tag_set())
    care_level: int = attrs.field(default=1, validator=f.int_between(1, 4))
    sibling_group: str | None = attrs.field(default=None, validator=f.optional_identifier())
    max_km: float | None = attrs.field(default=None, validator=f.non_negative_number(optional=True, high=f.MAX_KM))
    current_home: str | None = attrs.field(default=None, validator=f.optional_identifier())
