"""Solver parameters: time limit, seed, worker count and raw CP-SAT settings, also from TOML."""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from placering import _fields as f
from placering.exceptions import InvalidInputError

__all__ = ["SolveParams"]

#: The top-level keys of a parameters file; ``cpsat`` is a table.
FILE_KEYS = ("time_limit", "seed", "workers", "log", "strategy", "cpsat")


def _freeze(value: Any) -> Any:
    """A read-only copy of a mapping, lists turned into tuples; anything else for the validator."""
    if not isinstance(value, Mapping):
        return value
    return MappingProxyType({k: tuple(v) if isinstance(v, list) else v for k, v in value.items()})


def _cpsat_key(value: Any) -> Any:
    # Equality and hashing look at the sorted items, since a mapping proxy has no hash.
    return tuple(sorted(value.items())) if isinstance(value, Mapping) else value


def _cpsat_parameters() -> f.Validator:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, Mapping):
            raise f.fail(instance, attribute.name, f"must map CP-SAT parameter names to values, got {value!r}")
        if not value:
            return
        # Imported here: only placering._cpsat may import OR-Tools, and most callers pass no settings.
        from placering._cpsat.engines import check_cpsat_parameters

        try:
            check_cpsat_parameters(value)
        except InvalidInputError as error:
            raise error.located(entity=f.entity_of(instance)) from None

    return check


def _canonical(value: Any) -> Any:
    # 10 and 10.0 are equal parameters, so they must give the same digest.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def _read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    # Imported here: placering.io pulls in the whole data model, which params does not need.
    from placering.io import read_text

    name = str(path)
    text = read_text(path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidInputError(f"is not valid TOML: {error}", file=name) from None


@attrs.frozen(kw_only=True)
class SolveParams:
    """How to solve: ``time_limit`` in seconds (``None``: until proven), ``seed``, ``workers``.

    ``strategy`` ``"flow"`` (the default) starts every stage from the min-cost flow relaxation
    and calls CP-SAT only where the flow and its branch and bound cannot settle a stage;
    ``"cp-sat"`` gives every stage to CP-SAT (slower; kept as an independent exact path).
    The same scenario, seed and a single worker give the same plan. With more workers CP-SAT
    searches in parallel; the totals of a proven plan are still the same, the assignment
    behind them may differ.

    ``cpsat`` passes ``SatParameters`` fields straight to CP-SAT (enums by name, lists for
    repeated fields), over placering's own choices; the fields placering sets from the
    parameters above are refused.
    """

    __entity__ = "parameters"

    time_limit: float | None = attrs.field(default=None, validator=f.non_negative_number(optional=True))
    seed: int = attrs.field(default=0, validator=f.int_between(0, 2**31 - 1))
    workers: int = attrs.field(default=1, validator=f.int_between(1, 64))
    log: bool = attrs.field(default=False, validator=f.boolean())
    strategy: str = attrs.field(default="flow", validator=f.one_of(("flow", "cp-sat")))
    cpsat: Mapping[str, object] = attrs.field(
        factory=dict, converter=_freeze, validator=_cpsat_parameters(), eq=_cpsat_key
    )

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> SolveParams:
        """Read a TOML parameters file: the fields above as top-level keys, ``[cpsat]`` a table."""
        data = _read_toml(path)
        try:
            for key in data:
                if key not in FILE_KEYS:
                    raise InvalidInputError(f"unknown field {key!r}", entity=cls.__entity__, field=key)
            if "cpsat" in data and not isinstance(data["cpsat"], dict):
                raise InvalidInputError(
                    f"cpsat must be a table, got {data['cpsat']!r}", entity=cls.__entity__, field="cpsat"
                )
            return cls(**data)
        except InvalidInputError as error:
            raise error.located(file=str(path)) from None

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a parameters file holds them; no ``time_limit`` means none."""
        data: dict[str, Any] = {"time_limit": self.time_limit} if self.time_limit is not None else {}
        data.update(seed=self.seed, workers=self.workers, log=self.log, strategy=self.strategy)
        data["cpsat"] = {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(self.cpsat.items())}
        return data

    def digest(self) -> str:
        """A short stable fingerprint: the first 12 hex digits of the SHA-256 of canonical JSON."""
        text = json.dumps(_canonical(self.to_dict()), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]

    def replace(self, **changes: Any) -> SolveParams:
        """A copy with the given fields changed, leaving ``None`` values out."""
        return attrs.evolve(self, **{k: v for k, v in changes.items() if v is not None})
