"""Converters and validators shared by the frozen domain classes.

Converters are lenient (they only turn lists into frozensets); validators are strict and raise
:class:`InvalidInputError` naming the entity, the field and the bad value.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from placering.exceptions import InvalidInputError

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]

# --- limits: what makes sense for a region's placements, far inside int64 once scaled --------
# Costs and km are scaled to integers by up to 10**6 (region.MAX_DECIMALS) and summed over
# children, so these bounds keep every sum of a national scenario below 2**63.

#: Places in one home: the largest HVB units have tens of places, SiS all of ~700 [S, domain.md 2.2].
MAX_CAPACITY = 10_000
#: Road km of one link or a distance limit: Sweden is about 1 600 km from end to end.
MAX_KM = 10_000
#: Kr per day of one place: specialised HVB costs up to 20 000, SiS's full cost 13 000+ [S, 2.2].
MAX_COST = 1_000_000
#: Characters in an id, code or name: pseudonymous ids are short.
MAX_TEXT = 200


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot stand as an id or name, or ``None``: a character that cannot be
    written as UTF-8 (a lone surrogate), a control character (it could steer a terminal), or
    more than :data:`MAX_TEXT` characters."""
    if len(value) > MAX_TEXT:
        return f"must be at most {MAX_TEXT} characters, got {len(value)}"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"holds a character that cannot be written as UTF-8 (a lone surrogate), got {value!r}"
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        return f"must not hold control characters, got {value!r}"
    return None


def entity_of(instance: Any) -> str:
    """How an error names the entity: ``home 'H4'``, ``child 'C1'``, ``policy``."""
    noun = getattr(type(instance), "__entity__", type(instance).__name__.lower())
    ident = getattr(instance, "id", None) or getattr(instance, "code", None)
    return f"{noun} {ident!r}" if isinstance(ident, str) and ident else noun


def fail(instance: Any, field: str, message: str) -> InvalidInputError:
    """Build the error for ``field`` of ``instance``; the caller raises it."""
    return InvalidInputError(f"{field} {message}", entity=entity_of(instance), field=field)


def to_frozenset(value: Any) -> Any:
    """Turn a list, tuple or set into a frozenset; leave anything else for the validator."""
    if isinstance(value, (list, tuple, set, frozenset)):
        try:
            return frozenset(value)
        except TypeError:  # unhashable members: the validator reports them
            return value
    return value


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)) and math.isfinite(value)


def identifier() -> Validator:
    """A non-empty string id or code."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, str) or not value.strip():
            raise fail(instance, attribute.name, f"must be a non-empty string, got {value!r}")
        problem = text_problem(value)
        if problem:
            raise fail(instance, attribute.name, problem)

    return check


def optional_identifier() -> Validator:
    inner = identifier()

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            inner(instance, attribute, value)

    return check


def int_between(low: int | None, high: int | None, *, optional: bool = False) -> Validator:
    """An int (not a bool) within ``[low, high]``; ``None`` passes when ``optional``."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if not is_int(value):
            raise fail(instance, attribute.name, f"must be an integer, got {value!r}")
        if low is not None and value < low:
            raise fail(instance, attribute.name, f"must be >= {low}, got {value!r}")
        if high is not None and value > high:
            raise fail(instance, attribute.name, f"must be <= {high}, got {value!r}")

    return check


def number() -> Validator:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not is_number(value):
            raise fail(instance, attribute.name, f"must be a number, got {value!r}")

    return check


def non_negative_number(*, optional: bool = False, high: float | None = None) -> Validator:
    """A finite number (not a bool) within ``[0, high]``; ``None`` passes when ``optional``."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if not is_number(value):
            raise fail(instance, attribute.name, f"must be a number, got {value!r}")
        if value < 0:
            raise fail(instance, attribute.name, f"must be >= 0, got {value!r}")
        if high is not None and value > high:
            raise fail(instance, attribute.name, f"must be <= {high}, got {value!r}")

    return check


def one_of(choices: Iterable[str]) -> Validator:
    allowed = tuple(choices)

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value not in allowed:
            names = ", ".join(repr(c) for c in allowed)
            raise fail(instance, attribute.name, f"must be one of {names}, got {value!r}")

    return check


def tag_set() -> Validator:
    """A frozenset of non-empty strings (need tags, competences, child ids)."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, frozenset):
            raise fail(instance, attribute.name, f"must be a list of strings, got {value!r}")
        for item in value:
            if not isinstance(item, str) or not item.strip():
                raise fail(instance, attribute.name, f"must hold non-empty strings, got {item!r}")
            problem = text_problem(item)
            if problem:
                raise fail(instance, attribute.name, problem)

    return check


def boolean() -> Validator:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, bool):
            raise fail(instance, attribute.name, f"must be true or false, got {value!r}")

    return check


def format_tags(tags: Iterable[str]) -> str:
    """``{npf, trauma}``: the notation explanations and reasons use for need sets."""
    return "{" + ", ".join(sorted(tags)) + "}"
