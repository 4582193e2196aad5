"""Scenario and plan files (JSON), shipped regions, and atomic writes.

Parsing is strict: unknown keys, missing required keys and wrong types are
:class:`InvalidInputError` naming the file, the entity and the field. Nothing here unpickles,
evaluates or fetches anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from placering._fields import is_int, is_number, text_problem
from placering.children import Child
from placering.exceptions import InvalidInputError
from placering.homes import Home
from placering.policy import KINDS, TERMS, Policy
from placering.region import Municipality, Region, Road
from placering.result import (
    STATUSES,
    Assignment,
    Explanation,
    Plan,
    SolverStats,
    Totals,
    Unplacement,
    whole,
)
from placering.scenario import Scenario

__all__ = [
    "PLAN_FORMAT",
    "SCENARIO_FORMAT",
    "load_region",
    "plan_from_dict",
    "plan_to_dict",
    "read_plan",
    "read_scenario",
    "region_to_dict",
    "scenario_digest",
    "scenario_from_dict",
    "scenario_to_dict",
    "shipped_regions",
    "write_bytes",
    "write_json",
]

SCENARIO_FORMAT = "placering.scenario/1"
PLAN_FORMAT = "placering.plan/1"

_HOME_REQUIRED = ("id", "kind", "municipality", "capacity")
_HOME_OPTIONAL = ("owner", "min_age", "max_age", "competences", "max_care_level", "cost_per_day", "reserved_for")
_CHILD_REQUIRED = ("id", "municipality", "age")
_CHILD_OPTIONAL = ("needs", "care_level", "sibling_group", "max_km", "current_home")
_POLICY_KEYS = ("costs_per_day", "max_km", "pooling", "siblings", "keep_current", "objective")
_LISTS = ("competences", "reserved_for", "needs")


# --- reading -------------------------------------------------------------------------------


def _entity(kind: str, i: int, item: Any) -> str:
    ident = item.get("id") if isinstance(item, dict) else None
    return f"{kind}[{i}] {ident!r}" if isinstance(ident, str) else f"{kind}[{i}]"


def _check_keys(
    item: Any, entity: str, required: tuple[str, ...], optional: tuple[str, ...], what: str = "an object"
) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise InvalidInputError(f"must be {what}, got {type(item).__name__}", entity=entity)
    for key in item:
        if key not in required and key not in optional:
            raise InvalidInputError(f"unknown field {key!r}", entity=entity, field=str(key))
    for key in required:
        if key not in item:
            raise InvalidInputError(f"{key} is required", entity=entity, field=key)
    return item


def _list_fields(item: dict[str, Any], entity: str) -> dict[str, Any]:
    """Need and competence lists must be JSON arrays (a bare string would be split into letters)."""
    for key in _LISTS:
        if key in item and not isinstance(item[key], list):
            raise InvalidInputError(
                f"{key} must be a list of strings, got {item[key]!r}", entity=entity, field=key
            )
    return item


def _build(cls: Any, item: dict[str, Any], entity: str) -> Any:
    try:
        return cls(**item)
    except InvalidInputError as error:
        raise error.located(entity=entity) from None


def region_from_dict(data: Any) -> Region:
    """An inline region object ``{"name", "municipalities", "roads"}``."""
    _check_keys(data, "region", ("name", "municipalities", "roads"), ())
    for key in ("municipalities", "roads"):
        if not isinstance(data[key], list):
            raise InvalidInputError(f"{key} must be a list, got {data[key]!r}", entity="region", field=key)
    municipalities = []
    for i, m in enumerate(data["municipalities"]):
        entity = f"region municipalities[{i}]"
        _check_keys(m, entity, ("code", "name", "lat", "lon"), ("population",))  # population: design.md section 8
        municipalities.append(_build(Municipality, m, entity))
    roads = []
    for i, r in enumerate(data["roads"]):
        entity = f"region roads[{i}]"
        _check_keys(r, entity, ("from", "to", "km"), ())
        roads.append(_build(Road, {"a": r["from"], "b": r["to"], "km": r["km"]}, entity))
    try:
        return Region(name=data["name"], municipalities=municipalities, roads=roads)
    except InvalidInputError as error:
        if error.entity.startswith("region"):
            raise
        raise error.located(entity="region") from None


def shipped_regions() -> tuple[str, ...]:
    """Names of the regions that ship with placering."""
    folder = resources.files("placering") / "regions"
    return tuple(sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json")))


@cache
def load_region(name: str) -> Region:
    """A region shipped with placering, by name (``"dalarna"``)."""
    if name not in shipped_regions():
        known = ", ".join(shipped_regions())
        raise InvalidInputError(
            f"region names unknown shipped region {name!r} (shipped: {known})", entity="scenario", field="region"
        )
    text = (resources.files("placering") / "regions" / f"{name}.json").read_text(encoding="utf-8")
    data = json.loads(text)
    return Region(
        name=data["name"],
        municipalities=[
            Municipality(code=m["code"], name=m["name"], lat=m["lat"], lon=m["lon"], population=m.get("population"))
            for m in data["municipalities"]
        ],
        roads=[Road(a=r["from"], b=r["to"], km=r["km"]) for r in data["roads"]],
    )


def _policy_from_dict(data: Any) -> Policy:
    _check_keys(data, "policy", (), _POLICY_KEYS)
    values = dict(data)
    for key in ("costs_per_day", "max_km"):
        if key in values and not isinstance(values[key], dict):
            raise InvalidInputError(
                f"{key} must map placement kinds to numbers, got {values[key]!r}", entity="policy", field=key
            )
    if "objective" in values and not isinstance(values["objective"], list):
        raise InvalidInputError(
            f"objective must be a list of terms, got {values['objective']!r}", entity="policy", field="objective"
        )
    return _build(Policy, values, "policy")


def _entities(
    data: dict[str, Any], key: str, required: tuple[str, ...], optional: tuple[str, ...], cls: Any
) -> list[Any]:
    """The homes or the children, each checked for unknown, missing and list fields, then built."""
    if not isinstance(data[key], list):
        raise InvalidInputError(f"{key} must be a list, got {data[key]!r}", entity="scenario", field=key)
    out = []
    for i, item in enumerate(data[key]):
        entity = _entity(key, i, item)
        _list_fields(_check_keys(item, entity, required, optional), entity)
        out.append(_build(cls, item, entity))
    return out


def scenario_from_dict(data: Any, *, file: str = "") -> Scenario:
    """A validated scenario from parsed ``placering.scenario/1`` JSON."""
    try:
        _check_keys(data, "scenario", ("region", "homes", "children"), ("format", "policy"))
        if "format" in data and data["format"] != SCENARIO_FORMAT:
            raise InvalidInputError(
                f"format must be {SCENARIO_FORMAT!r}, got {data['format']!r}", entity="scenario", field="format"
            )
        region_data = data["region"]
        region = load_region(region_data) if isinstance(region_data, str) else region_from_dict(region_data)
        policy = _policy_from_dict(data.get("policy", {}))
        homes: list[Home] = _entities(data, "homes", _HOME_REQUIRED, _HOME_OPTIONAL, Home)
        children: list[Child] = _entities(data, "children", _CHILD_REQUIRED, _CHILD_OPTIONAL, Child)
        return Scenario(region=region, policy=policy, homes=homes, children=children)
    except InvalidInputError as error:
        raise error.located(file=file) from None


def read_text(path: str | os.PathLike[str]) -> str:
    """A UTF-8 text file's contents; a missing or unreadable file is invalid input naming it."""
    name = str(path)
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError("no such file", file=name) from None
    except IsADirectoryError:
        raise InvalidInputError("is a directory, not a file", file=name) from None
    except UnicodeDecodeError:
        raise InvalidInputError("is not UTF-8 text", file=name) from None
    except OSError as error:
        raise InvalidInputError(f"cannot be read ({error.strerror})", file=name) from None


#: How deep a file may nest arrays and objects: placering's formats need five levels.
MAX_DEPTH = 64

#: Digits an integer in a file may have: far more than any count, km or cost needs, far fewer
#: than Python's conversion limit.
MAX_DIGITS = 100


class _Repeated(dict[str, Any]):
    """A JSON object in which a key was given twice; ``repeated`` names the first such key."""

    repeated = ""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out and not isinstance(out, _Repeated):
            out = _Repeated(out)
            out.repeated = key
        out[key] = value
    return out


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise _TooLong(len(text.lstrip("-")))
    return int(text)


class _TooLong(Exception):
    def __init__(self, digits: int) -> None:
        self.digits = digits


def _label(parent: str, key: str) -> str:
    return key if not parent else f"{parent} {key}"


def _check_tree(data: Any, top: str) -> None:
    """Refuse an object with a repeated key, naming the entity and the key, and nesting deeper
    than :data:`MAX_DEPTH`; walked without recursion, so any depth is safe."""
    stack: list[tuple[Any, str, int]] = [(data, "", 1)]
    while stack:
        item, label, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidInputError(f"nests arrays or objects deeper than {MAX_DEPTH} levels", entity=label or top)
        if isinstance(item, _Repeated):
            key = item.repeated
            raise InvalidInputError(
                f"key {key!r} is given twice (a repeated key would silently lose a value)",
                entity=label or top,
                field=key,
            )
        children: list[tuple[Any, str, int]] = []
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(value, list):
                    children.extend(
                        (v, _entity(_label(label, key), i, v), depth + 2) for i, v in enumerate(value)
                    )
                elif isinstance(value, dict):
                    children.append((value, _label(label, key), depth + 1))
        elif isinstance(item, list):
            # Arrays in arrays name the outer entity only: no format nests them.
            children.extend((v, f"{label}[{i}]" if depth < 4 else label, depth + 1) for i, v in enumerate(item))
        stack.extend(reversed(children))


def _read_json(path: str | os.PathLike[str], top: str = "scenario") -> Any:
    """Parse a JSON file strictly: no repeated keys, no absurd nesting or integers."""
    name = str(path)
    text = read_text(path)
    try:
        data = json.loads(text, object_pairs_hook=_object, parse_int=_integer)
    except json.JSONDecodeError as error:
        raise InvalidInputError(
            f"is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}", file=name
        ) from None
    except RecursionError:
        raise InvalidInputError(f"nests arrays or objects deeper than {MAX_DEPTH} levels", file=name) from None
    except _TooLong as error:
        raise InvalidInputError(
            f"holds an integer of {error.digits} digits, more than the {MAX_DIGITS} any number needs", file=name
        ) from None
    try:
        _check_tree(data, top)
    except InvalidInputError as error:
        raise error.located(file=name) from None
    return data


# The strict reading above, for the package's other file formats (profiles, design.md section 9).
check_keys = _check_keys
list_fields = _list_fields
construct = _build
read_json = _read_json


def read_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and validate a ``placering.scenario/1`` file, an ``.xlsx`` workbook or a folder of
    CSV files (design.md section 10; :mod:`placering.tables`)."""
    if Path(path).is_dir() or Path(path).suffix.lower() in (".xlsx", ".xlsm", ".csv"):
        from placering.tables import read_tables

        return read_tables(path)
    return scenario_from_dict(_read_json(path), file=str(path))


# --- writing -------------------------------------------------------------------------------


def region_to_dict(region: Region) -> dict[str, Any]:
    """The region as an inline object (municipalities and roads)."""
    return {
        "name": region.name,
        "municipalities": [_municipality_dict(m) for m in region.municipalities],
        "roads": [{"from": r.a, "to": r.b, "km": whole(r.km)} for r in region.roads],
    }


def _municipality_dict(m: Municipality) -> dict[str, Any]:
    data: dict[str, Any] = {"code": m.code, "name": m.name, "lat": m.lat, "lon": m.lon}
    if m.population is not None:  # cost shares by population need it (design.md section 8)
        data["population"] = m.population
    return data


def _is_shipped(region: Region) -> bool:
    return region.name in shipped_regions() and load_region(region.name) == region


def scenario_to_dict(scenario: Scenario, *, inline_region: bool = False) -> dict[str, Any]:
    """The scenario as ``placering.scenario/1`` JSON, defaults left out.

    A shipped region is written by name unless ``inline_region``.
    """
    region = scenario.region
    policy = scenario.policy
    homes = []
    for h in scenario.homes:
        item: dict[str, Any] = {"id": h.id, "kind": h.kind, "municipality": h.municipality, "capacity": h.capacity}
        if h.owner != h.municipality:
            item["owner"] = h.owner
        if (h.min_age, h.max_age) != (0, 20):
            item["min_age"], item["max_age"] = h.min_age, h.max_age
        if h.competences:
            item["competences"] = sorted(h.competences)
        item["max_care_level"] = h.max_care_level
        if h.cost_per_day is not None:
            item["cost_per_day"] = whole(h.cost_per_day)
        if h.reserved_for:
            item["reserved_for"] = sorted(h.reserved_for)
        homes.append(item)
    children = []
    for c in scenario.children:
        child: dict[str, Any] = {"id": c.id, "municipality": c.municipality, "age": c.age}
        if c.needs:
            child["needs"] = sorted(c.needs)
        if c.care_level != 1:
            child["care_level"] = c.care_level
        for key in ("sibling_group", "max_km", "current_home"):
            value = getattr(c, key)
            if value is not None:
                child[key] = whole(value) if key == "max_km" else value
        children.append(child)
    return {
        "format": SCENARIO_FORMAT,
        "region": region_to_dict(region) if inline_region or not _is_shipped(region) else region.name,
        "policy": {
            "costs_per_day": {k: whole(v) for k, v in policy.costs_per_day.to_dict().items()},
            "max_km": {k: (None if v is None else whole(v)) for k, v in policy.max_km.to_dict().items()},
            "pooling": policy.pooling,
            "siblings": policy.siblings,
            "keep_current": policy.keep_current,
            "objective": list(policy.objective),
        },
        "homes": homes,
        "children": children,
    }


def scenario_digest(scenario: Scenario) -> str:
    """The SHA-256 (hex) of the scenario's canonical JSON: a fingerprint that a best-known
    optimum stores, so that a change in the generator's output is noticed, not silently compared."""
    data = scenario_to_dict(scenario)
    if isinstance(data["region"], dict):
        # Populations only share costs (design.md section 8); no placement depends on them, so the
        # fingerprint of the placement instance leaves them out (as files written before had them).
        for m in data["region"]["municipalities"]:
            m.pop("population", None)
    text = json.dumps(data, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The plan as ``placering.plan/1`` JSON."""
    data: dict[str, Any] = {
        "format": PLAN_FORMAT,
        "status": plan.status,
        "assignments": [
            {"child": a.child, "home": a.home, "kind": a.kind, "km": float(a.km), "cost_per_day": whole(a.cost_per_day)}
            for a in plan.assignments
        ],
        "unplaced": [{"child": u.child, "reasons": list(u.reasons)} for u in plan.unplaced],
        "totals": plan.totals.to_dict(),
        "explanations": {child: e.text for child, e in plan.explanations.items()},
    }
    if plan.bounds:
        data["bounds"] = {k: whole(v) for k, v in plan.bounds.items()}
    if plan.solver is not None:
        data["solver"] = plan.solver.to_dict()
    return data


def _text(value: Any, entity: str, field: str) -> str:
    """A non-empty string that can be written (see :func:`placering._fields.text_problem`)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{field} must be a non-empty string, got {value!r}", entity=entity, field=field)
    problem = text_problem(value)
    if problem:
        raise InvalidInputError(f"{field} {problem}", entity=entity, field=field)
    return value


def _amount(value: Any, entity: str, field: str, *, whole_number: bool = False) -> Any:
    """A finite number >= 0 (a whole one for counts); never a bool."""
    ok = is_int(value) if whole_number else is_number(value)
    if not ok or value < 0:
        what = "an integer >= 0" if whole_number else "a number >= 0"
        raise InvalidInputError(f"{field} must be {what}, got {value!r}", entity=entity, field=field)
    return value


def _writable(text: Any) -> bool:
    """Whether ``text`` is a string that UTF-8 can write (no lone surrogates)."""
    try:
        return isinstance(text, str) and bool(text.encode("utf-8") or True)
    except UnicodeEncodeError:
        return False


def _list(data: dict[str, Any], key: str, entity: str) -> list[Any]:
    value = data[key]
    if not isinstance(value, list):
        raise InvalidInputError(f"{key} must be a list, got {value!r}", entity=entity, field=key)
    return value


def _assignment(a: Any, entity: str) -> Assignment:
    _check_keys(a, entity, ("child", "home", "kind", "km", "cost_per_day"), ())
    if a["kind"] not in KINDS:
        raise InvalidInputError(f"kind must be one of {KINDS}, got {a['kind']!r}", entity=entity, field="kind")
    return Assignment(
        child=_text(a["child"], entity, "child"),
        home=_text(a["home"], entity, "home"),
        kind=a["kind"],
        km=_amount(a["km"], entity, "km"),
        cost_per_day=_amount(a["cost_per_day"], entity, "cost_per_day"),
    )


def _unplacement(u: Any, entity: str) -> Unplacement:
    _check_keys(u, entity, ("child",), ("reasons",))
    reasons = u.get("reasons", [])
    if not isinstance(reasons, list) or not all(_writable(r) for r in reasons):
        raise InvalidInputError(f"reasons must be a list of strings, got {reasons!r}", entity=entity, field="reasons")
    return Unplacement(child=_text(u["child"], entity, "child"), reasons=tuple(reasons))


def _totals(totals: Any) -> Totals:
    _check_keys(totals, "totals", ("unplaced", "hvb", "consultant", "cost_per_day", "km"), ("split_siblings",))
    counts = {k: _amount(totals.get(k, 0), "totals", k, whole_number=True)
              for k in ("unplaced", "hvb", "consultant", "split_siblings")}
    return Totals(
        **counts,
        cost_per_day=_amount(totals["cost_per_day"], "totals", "cost_per_day"),
        km=_amount(totals["km"], "totals", "km"),
    )


def _explanations(data: Any) -> dict[str, Explanation]:
    if not isinstance(data, dict):
        raise InvalidInputError(
            f"explanations must map child ids to texts, got {data!r}", entity="plan", field="explanations"
        )
    out = {}
    for child, text in data.items():
        _text(child, "explanations", "child")
        if not _writable(text):
            raise InvalidInputError(f"{child!r} must be a text, got {text!r}", entity="explanations", field=child)
        out[child] = Explanation(child=child, rule="", text=text)
    return out


def _bounds(data: Any) -> dict[str, float]:
    if not isinstance(data, dict):
        raise InvalidInputError(f"bounds must map terms to numbers, got {data!r}", entity="plan", field="bounds")
    for term, value in data.items():
        if term not in TERMS:
            raise InvalidInputError(f"names unknown term {term!r}", entity="bounds", field=term)
        _amount(value, "bounds", term)
    return dict(data)


def plan_from_dict(data: Any, *, file: str = "") -> Plan:
    """A plan from ``placering.plan/1`` JSON (for checking plans written by any tool), validated
    as strictly as :func:`scenario_from_dict`: every entry's shape, types and ranges."""
    try:
        _check_keys(
            data,
            "plan",
            ("status", "assignments", "unplaced", "totals"),
            ("format", "explanations", "bounds", "solver"),
        )
        if "format" in data and data["format"] != PLAN_FORMAT:
            raise InvalidInputError(
                f"format must be {PLAN_FORMAT!r}, got {data['format']!r}", entity="plan", field="format"
            )
        if data["status"] not in STATUSES:
            raise InvalidInputError(
                f"status must be one of {STATUSES}, got {data['status']!r}", entity="plan", field="status"
            )
        assignments = [_assignment(a, f"assignments[{i}]") for i, a in enumerate(_list(data, "assignments", "plan"))]
        unplaced = [_unplacement(u, f"unplaced[{i}]") for i, u in enumerate(_list(data, "unplaced", "plan"))]
        solver = data.get("solver")
        if solver is not None and not isinstance(solver, Mapping):
            raise InvalidInputError(f"solver must be an object, got {solver!r}", entity="plan", field="solver")
        return Plan(
            status=data["status"],
            assignments=tuple(assignments),
            unplaced=tuple(unplaced),
            totals=_totals(data["totals"]),
            explanations=_explanations(data.get("explanations", {})),
            bounds=_bounds(data.get("bounds", {})),
            solver=SolverStats(**solver) if solver is not None else None,
        )
    except InvalidInputError as error:
        raise error.located(file=file) from None
    except (TypeError, ValueError) as error:
        message = f"has a malformed solver entry ({error})"
        raise InvalidInputError(message, entity="plan", field="solver", file=file) from None


def read_plan(path: str | os.PathLike[str]) -> Plan:
    """Read and validate a ``placering.plan/1`` file."""
    return plan_from_dict(_read_json(path, "plan"), file=str(path))


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Write JSON atomically (:func:`write_bytes`): a reader never sees half a file, and a
    failure leaves any earlier file untouched."""
    write_bytes(path, (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write bytes atomically: a temporary file in the same folder, readable by its owner only,
    then a rename over ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
