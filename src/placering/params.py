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

__all__ = ["SolveParams", "Tuning"]

#: The top-level keys of a parameters file; ``cpsat`` and ``tuning`` are tables.
FILE_KEYS = ("time_limit", "seed", "workers", "log", "strategy", "cpsat", "tuning")

#: The kinds of home, in the order of :data:`placering.policy.KINDS` (not imported: params
#: stays free of the data model).
_KINDS = ("kin", "municipal", "consultant", "hvb")


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
        # Imported here: only placering._ortools may import OR-Tools, and most callers pass no settings.
        from placering._ortools.engines import check_cpsat_parameters

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


def _first_arcs(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    return MappingProxyType({**dict.fromkeys(_KINDS, 0), **_FIRST_ARCS_DEFAULT, **value})


def _first_arcs_valid() -> f.Validator:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, Mapping):
            raise f.fail(instance, attribute.name, f"must map kinds of home to arc counts, got {value!r}")
        for kind, count in value.items():
            if kind not in _KINDS:
                raise f.fail(instance, f"{attribute.name}.{kind}", f"is not a kind of home, one of {list(_KINDS)}")
            if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 10**6:
                message = f"must be a whole number from 0 to 1000000, got {count!r}"
                raise f.fail(instance, f"{attribute.name}.{kind}", message)

    return check


#: Arcs per unit and kind the restricted program of column generation starts with.
_FIRST_ARCS_DEFAULT = {"kin": 4, "municipal": 8, "consultant": 6, "hvb": 3}

#: The largest budget a tuning knob takes: far beyond any useful setting, far inside int64.
_MOST = 10**9


@attrs.frozen(kw_only=True)
class Tuning:
    """How hard each exact method of the pipeline tries before it hands a stage on.

    No knob changes a proven optimum, only how fast it is found (and, under a time limit, how
    good the plan is). They are here so that a solver tuner can set them in the ``[tuning]``
    table of a parameters file; the defaults were measured on the benchmark families.
    """

    __entity__ = "tuning"

    #: Flow solves the branch and bound may spend on a stage before the MIP (or CP-SAT) takes it.
    branch_budget: int = attrs.field(default=2000, validator=f.int_between(0, _MOST))
    #: The same for one independent part: a part the flows' branch and bound has not closed in
    #: this many flows is quicker for the MIP. County-xl seeds 1, 2, 3, 5, 7, 8 and 10 took 85 s in all
    #: with 300 (the earlier default), 69 with 150, 63 with 60 and 68 with 0; siblings-heavy
    #: seed 3 2.9 -> 1.6 s with 60.
    part_branch_budget: int = attrs.field(default=60, validator=f.int_between(0, _MOST))
    #: Parts with more units go straight from the dive to the MIP: each of their flows is slow,
    #: and a depth-first search over their many split groups rarely closes (national).
    mip_first: int = attrs.field(default=1000, validator=f.int_between(0, _MOST))
    #: Flow solves the greedy first incumbent of the branch and bound may spend (0: none).
    greedy_budget: int = attrs.field(default=200, validator=f.int_between(0, _MOST))
    #: Whether to dive on the flow's optimal face before any branch and bound.
    dive: bool = attrs.field(default=True, validator=f.boolean())
    #: A dive may spend ``dive_per_group`` flows per split sibling group, plus ``dive_base``.
    dive_per_group: int = attrs.field(default=8, validator=f.int_between(0, _MOST))
    dive_base: int = attrs.field(default=40, validator=f.int_between(0, _MOST))
    #: Above this many arcs the matching is solved by column generation: a national scenario
    #: has about 10^7 arcs, most of them to HVB units hundreds of kilometres away.
    price_above: int = attrs.field(default=400_000, validator=f.int_between(0, _MOST))
    #: Arcs with a negative reduced cost each unit may take in per round of pricing, without a
    #: time limit: the restricted program stays small, and its exact rounds fast (national seed
    #: 1: its first round's first stage took 349 s with 8, and had not ended in an hour with 32).
    arcs_per_round: int = attrs.field(default=8, validator=f.int_between(1, _MOST))
    #: The same under a time limit, where pricing may use half of it: on national a round takes
    #: seconds, and with 32 the first stage's LP is certified in 7 rounds instead of 17 (within
    #: half of a 60 s limit), so the plan comes with the LP's bound.
    arcs_per_round_limited: int = attrs.field(default=32, validator=f.int_between(1, _MOST))
    #: Arcs within an integrality gap each unit may take in per round: the gap's parts on
    #: national want 350 000 arcs at once.
    gap_arcs_per_round: int = attrs.field(default=16, validator=f.int_between(1, _MOST))
    #: After a round no better than the last, each unit may take in this many times as many
    #: arcs: on national, km stayed put for four rounds of 16 per unit.
    gap_growth: int = attrs.field(default=4, validator=f.int_between(1, 1024))
    #: Arcs per unit and kind the restricted program starts with: the cheapest, then nearest.
    first_arcs: Mapping[str, int] = attrs.field(
        factory=lambda: MappingProxyType(dict(_FIRST_ARCS_DEFAULT)),
        converter=_first_arcs,
        validator=_first_arcs_valid(),
        eq=_cpsat_key,
    )

    def to_dict(self) -> dict[str, Any]:
        """The knobs as a ``[tuning]`` table holds them."""
        data = attrs.asdict(self, recurse=False)
        data["first_arcs"] = dict(self.first_arcs)
        return data


def _tuning(value: Any) -> Any:
    if isinstance(value, Mapping):
        known = {a.name for a in attrs.fields(Tuning)}
        for key in value:
            if key not in known:
                raise InvalidInputError(f"unknown field {key!r}", entity="tuning", field=key)
        return Tuning(**value)
    return value


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
    parameters above are refused. ``tuning`` holds the pipeline's knobs (:class:`Tuning`).
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
    tuning: Tuning = attrs.field(factory=Tuning, converter=_tuning, validator=attrs.validators.instance_of(Tuning))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> SolveParams:
        """Read a TOML parameters file: the fields above as top-level keys, ``[cpsat]`` a table."""
        data = _read_toml(path)
        try:
            for key in data:
                if key not in FILE_KEYS:
                    raise InvalidInputError(f"unknown field {key!r}", entity=cls.__entity__, field=key)
            for table in ("cpsat", "tuning"):
                if table in data and not isinstance(data[table], dict):
                    raise InvalidInputError(
                        f"{table} must be a table, got {data[table]!r}", entity=cls.__entity__, field=table
                    )
            return cls(**data)
        except InvalidInputError as error:
            raise error.located(file=str(path)) from None

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a parameters file holds them; no ``time_limit`` means none."""
        data: dict[str, Any] = {"time_limit": self.time_limit} if self.time_limit is not None else {}
        data.update(seed=self.seed, workers=self.workers, log=self.log, strategy=self.strategy)
        data["cpsat"] = {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(self.cpsat.items())}
        if self.tuning != Tuning():  # left out at its defaults, so that older digests still hold
            data["tuning"] = self.tuning.to_dict()
        return data

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as its parameters-file form: the read-only mappings inside cannot be pickled,
        # and a sweep sends the caller's parameters to every process or Dask worker.
        return (_from_dict, (self.to_dict(),))

    def digest(self) -> str:
        """A short stable fingerprint: the first 12 hex digits of the SHA-256 of canonical JSON."""
        text = json.dumps(_canonical(self.to_dict()), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]

    def replace(self, **changes: Any) -> SolveParams:
        """A copy with the given fields changed, leaving ``None`` values out."""
        return attrs.evolve(self, **{k: v for k, v in changes.items() if v is not None})


def _from_dict(data: dict[str, Any]) -> SolveParams:
    return SolveParams(**data)
