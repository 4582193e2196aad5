"""The policy: costs, distance limits, pooling, sibling and stability rules, and the objective."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from placering import _fields as f
from placering.exceptions import InvalidInputError

__all__ = ["CARE_LEVELS", "DEFAULT_UNPLACED_COST", "KINDS", "TERMS", "CostTable", "KindTable", "Policy"]

#: Placement kinds, from what law and budget both prefer to what they both avoid.
KINDS: tuple[str, ...] = ("kin", "municipal", "consultant", "hvb")

#: Objective terms a policy may name.
TERMS: tuple[str, ...] = ("unplaced", "hvb", "consultant", "split_siblings", "cost", "km")

#: Care levels: 1 ordinary, 2 reinforced (förstärkt), 3 treatment (behandling), 4 institutional.
CARE_LEVELS: tuple[int, ...] = (1, 2, 3, 4)

#: Model defaults from domain.md section 2.2 (kr per dygn, all [E]).
DEFAULT_COSTS = {"kin": 700, "municipal": 800, "consultant": 2500, "hvb": 5500}
#: What one day of a child left without a placement costs: an emergency place bought outside the
#: scenario's homes (design.md section 7; [E] the top of the HVB range in domain.md section 2.2).
DEFAULT_UNPLACED_COST = 8000
DEFAULT_MAX_KM: dict[str, float | None] = {"kin": None, "municipal": 90, "consultant": 150, "hvb": None}
DEFAULT_OBJECTIVE = ("unplaced", "hvb", "consultant", "cost", "km")


@attrs.frozen(kw_only=True)
class KindTable:
    """One value per placement kind, read as ``table["municipal"]``."""

    __entity__ = "policy"
    #: The keys a table holds: the placement kinds.
    KEYS: ClassVar[tuple[str, ...]] = KINDS

    kin: Any
    municipal: Any
    consultant: Any
    hvb: Any

    def __getitem__(self, kind: str) -> Any:
        return getattr(self, kind)

    def to_dict(self) -> dict[str, Any]:
        return {kind: self[kind] for kind in KINDS}

    @classmethod
    def with_defaults(
        cls, defaults: Mapping[str, Any], overrides: Mapping[str, Any] | None, field: str = "table"
    ) -> KindTable:
        """The defaults, with the kinds that ``overrides`` names replaced."""
        for kind in overrides or {}:
            if kind not in cls.KEYS:
                known = ", ".join(cls.KEYS)
                raise InvalidInputError(
                    f"{field} names unknown kind {kind!r} (known kinds: {known})", entity="policy", field=field
                )
        values = dict(defaults)
        values.update(overrides or {})
        return cls(**{key: values[key] for key in cls.KEYS if key in values})


@attrs.frozen(kw_only=True)
class CostTable(KindTable):
    """Costs per dygn: one per placement kind, and ``unplaced``, what a day of a child left
    without a placement costs (design.md section 7). ``unplaced`` changes no placement: it puts
    a plan's outcome in kronor (:func:`placering.yearly_cost`)."""

    KEYS: ClassVar[tuple[str, ...]] = (*KINDS, "unplaced")

    unplaced: Any = DEFAULT_UNPLACED_COST

    def to_dict(self) -> dict[str, Any]:
        """The kinds' costs, and ``unplaced`` only where it is not the default, so that a scenario
        that never set it is written (and digested) exactly as before the key existed."""
        data = super().to_dict()
        if self.unplaced != DEFAULT_UNPLACED_COST:
            data["unplaced"] = self.unplaced
        return data


def _costs(value: Any) -> Any:
    if isinstance(value, KindTable) and not isinstance(value, CostTable):  # a table of the kinds only
        return CostTable(**value.to_dict())
    return CostTable.with_defaults(DEFAULT_COSTS, value, "costs_per_day") if isinstance(value, Mapping) else value


def _max_km(value: Any) -> Any:
    return KindTable.with_defaults(DEFAULT_MAX_KM, value, "max_km") if isinstance(value, Mapping) else value


def _check_table(optional: bool, high: float) -> f.Validator:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, KindTable):
            raise f.fail(instance, attribute.name, f"must map placement kinds to numbers, got {value!r}")
        for kind in type(value).KEYS:
            item = value[kind]
            if item is None and optional:
                continue
            if not f.is_number(item) or not 0 <= item <= high:
                what = f"a number from 0 to {high}" + (" or null" if optional else "")
                raise f.fail(instance, f"{attribute.name}.{kind}", f"must be {what}, got {item!r}")

    return check


def _check_objective(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, tuple) or not value:
        raise f.fail(instance, "objective", f"must be a non-empty list of terms, got {value!r}")
    for term in value:
        if term not in TERMS:
            known = ", ".join(TERMS)
            raise f.fail(instance, "objective", f"names unknown term {term!r} (known terms: {known})")
    if len(set(value)) != len(value):
        raise f.fail(instance, "objective", f"must not repeat a term, got {list(value)!r}")


def _as_terms(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


@attrs.frozen(kw_only=True)
class Policy:
    """How a region places children: costs, distance limits and what the optimum minimises.

    ``objective`` is lexicographic: the first term is minimised first, ties go to the next.
    With ``siblings="prefer"`` the term ``split_siblings`` goes right after ``unplaced``
    (or first, when the objective has no ``unplaced``) unless the objective lists it.
    """

    __entity__ = "policy"

    costs_per_day: CostTable = attrs.field(
        factory=lambda: CostTable.with_defaults(DEFAULT_COSTS, None),
        converter=_costs,
        validator=_check_table(False, f.MAX_COST),
    )
    max_km: KindTable = attrs.field(
        factory=lambda: KindTable.with_defaults(DEFAULT_MAX_KM, None),
        converter=_max_km,
        validator=_check_table(True, f.MAX_KM),
    )
    pooling: str = attrs.field(default="pooled", validator=f.one_of(("pooled", "isolated")))
    siblings: str = attrs.field(default="together", validator=f.one_of(("together", "prefer", "ignore")))
    keep_current: bool = attrs.field(default=True, validator=f.boolean())
    objective: tuple[str, ...] = attrs.field(
        default=DEFAULT_OBJECTIVE,
        converter=_as_terms,
        validator=_check_objective,
    )

    def effective_objective(self) -> tuple[str, ...]:
        """The terms the solver minimises, in order.

        ``split_siblings`` is an objective term only with ``siblings="prefer"``: it is dropped
        otherwise (under ``together`` it is constant, under ``ignore`` groups mean nothing) and
        inserted after ``unplaced`` when ``prefer`` and the objective does not place it itself.
        """
        terms = [t for t in self.objective if t != "split_siblings" or self.siblings == "prefer"]
        if self.siblings == "prefer" and "split_siblings" not in terms:
            at = terms.index("unplaced") + 1 if "unplaced" in terms else 0
            terms.insert(at, "split_siblings")
        return tuple(terms)
