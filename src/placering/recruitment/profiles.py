"""Profiles: the kinds of home a municipality could recruit (design.md section 9, ``placering.profiles/1``).

A profile holds the home fields of section 3 except ``id``, ``municipality``, ``owner`` and
``reserved_for``, its ``kind`` is ``municipal`` or ``hvb``, and ``recruitment_cost`` is what it
costs to recruit, investigate and approve one such home. Files are read as strictly as
scenarios: unknown keys, a repeated name, a kind other than ``municipal`` or ``hvb`` (a kin home
is brought by a child's network, not recruited) and negative costs are invalid input.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import resources
from typing import Any

import attrs

from placering import _fields as f
from placering.exceptions import InvalidInputError
from placering.homes import DEFAULT_MAX_CARE_LEVEL, Home

__all__ = [
    "DEFAULT_RECRUITMENT_COST",
    "PROFILES_FORMAT",
    "RECRUITABLE",
    "Profile",
    "default_profiles",
    "profiles_from_dict",
    "read_profiles",
]

PROFILES_FORMAT = "placering.profiles/1"

#: The kinds of home a municipality can recruit.
RECRUITABLE = ("municipal", "hvb")

#: Kr to recruit, investigate and approve one home when a profile does not say [E: domain.md section 5].
DEFAULT_RECRUITMENT_COST = 100_000

_REQUIRED = ("name", "kind", "capacity")
_OPTIONAL = ("min_age", "max_age", "competences", "max_care_level", "cost_per_day", "recruitment_cost", "source")


def _default_care_level(self: Any) -> Any:
    return DEFAULT_MAX_CARE_LEVEL.get(self.kind, 1)


@attrs.frozen(kw_only=True)
class Profile:
    """A kind of home a municipality could recruit: ``home(m, id)`` is one of them in ``m``.

    ``cost_per_day`` of ``None`` means the policy's cost for the kind. ``source`` says where
    the figures come from (free text, as the shipped region's tags).
    """

    __entity__ = "profile"

    name: str = attrs.field(validator=f.identifier())
    kind: str = attrs.field(validator=f.one_of(RECRUITABLE))
    capacity: int = attrs.field(validator=f.int_between(0, f.MAX_CAPACITY))
    min_age: int = attrs.field(default=0, validator=f.int_between(0, 20))
    max_age: int = attrs.field(default=20, validator=f.int_between(0, 20))
    competences: frozenset[str] = attrs.field(default=frozenset(), converter=f.to_frozenset, validator=f.tag_set())
    max_care_level: int = attrs.field(
        default=attrs.Factory(_default_care_level, takes_self=True), validator=f.int_between(1, 4)
    )
    cost_per_day: float | None = attrs.field(
        default=None, validator=f.non_negative_number(optional=True, high=f.MAX_COST)
    )
    recruitment_cost: float = attrs.field(
        default=DEFAULT_RECRUITMENT_COST, validator=f.non_negative_number(high=1e12)
    )
    source: str | None = attrs.field(default=None, validator=f.optional_identifier(), eq=False)

    def __attrs_post_init__(self) -> None:
        if self.min_age > self.max_age:
            raise f.fail(self, "max_age", f"must be >= min_age {self.min_age}, got {self.max_age}")

    def home(self, municipality: str, home_id: str) -> Home:
        """One home of this profile recruited in ``municipality``: it lies there and is owned by it."""
        return Home(
            id=home_id,
            kind=self.kind,
            municipality=municipality,
            owner=municipality,
            capacity=self.capacity,
            min_age=self.min_age,
            max_age=self.max_age,
            competences=self.competences,
            max_care_level=self.max_care_level,
            cost_per_day=self.cost_per_day,
        )


def profiles_from_dict(data: Any, *, file: str = "") -> tuple[Profile, ...]:
    """Validated profiles from parsed ``placering.profiles/1`` JSON, in the file's order."""
    from placering.io import check_keys, construct, list_fields

    try:
        check_keys(data, "profiles", ("profiles",), ("format", "description"))
        if "format" in data and data["format"] != PROFILES_FORMAT:
            raise InvalidInputError(
                f"format must be {PROFILES_FORMAT!r}, got {data['format']!r}", entity="profiles", field="format"
            )
        items = data["profiles"]
        if not isinstance(items, list) or not items:
            raise InvalidInputError(
                f"profiles must be a non-empty list, got {items!r}", entity="profiles", field="profiles"
            )
        profiles: list[Profile] = []
        seen: set[str] = set()
        for i, item in enumerate(items):
            name = item.get("name") if isinstance(item, dict) else None
            entity = f"profiles[{i}] {name!r}" if isinstance(name, str) else f"profiles[{i}]"
            list_fields(check_keys(item, entity, _REQUIRED, _OPTIONAL), entity)
            profile: Profile = construct(Profile, item, entity)
            if profile.name in seen:
                raise InvalidInputError(
                    f"name {profile.name!r} is given to two profiles", entity=entity, field="name"
                )
            seen.add(profile.name)
            profiles.append(profile)
        return tuple(profiles)
    except InvalidInputError as error:
        raise error.located(file=file) from None


def read_profiles(path: str | os.PathLike[str]) -> tuple[Profile, ...]:
    """Read and validate a ``placering.profiles/1`` file."""
    from placering.io import read_json

    return profiles_from_dict(read_json(path, "profiles"), file=str(path))


def default_profiles(region: str = "dalarna") -> tuple[Profile, ...]:
    """The profiles shipped for a region (``profiles/dalarna.json``), each figure tagged to domain.md."""
    import json

    folder = resources.files("placering") / "profiles"
    names: Sequence[str] = sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json"))
    if region not in names:
        raise InvalidInputError(
            f"no profiles ship for region {region!r} (shipped: {', '.join(names)}); give --profiles",
            entity="profiles",
        )
    text = (folder / f"{region}.json").read_text(encoding="utf-8")
    return profiles_from_dict(json.loads(text), file=f"placering/profiles/{region}.json")
