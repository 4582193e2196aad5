"""Planners' tables (design.md section 10): scenarios from an Excel workbook or a folder of CSV
files, plans back to a workbook, and plans as pandas DataFrames.

A workbook has the sheets ``children`` and ``homes``, and optionally ``settings``,
``municipalities`` and ``roads``; a folder has the same names as ``.csv`` files (UTF-8 with or
without a byte-order mark, ``,`` or ``;`` separated; a ``;`` file may use a decimal comma).
The rows become ``placering.scenario/1`` data, which :func:`placering.io.scenario_from_dict`
validates; every error is then placed back at its file (and sheet), spreadsheet row (the
header is row 1, with the record's id) and column. openpyxl (the ``tables`` extra) reads and
writes workbooks; CSV needs only the standard library; pandas is imported by the frame
functions alone.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from placering._extras import require
from placering.comparison import yearly
from placering.exceptions import InvalidInputError
from placering.region import Region
from placering.result import Plan
from placering.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "PLAN_SHEETS",
    "SHEETS",
    "municipality_frame",
    "plan_frame",
    "read_tables",
    "result_frame",
    "workbook_bytes",
    "write_plan_workbook",
]

logger = logging.getLogger(__name__)

#: The sheets (or ``NAME.csv`` files) a scenario's tables may have, and their columns.
SHEETS: dict[str, tuple[str, ...]] = {
    "children": ("id", "municipality", "age", "needs", "care_level", "sibling_group", "max_km", "current_home"),
    "homes": (
        "id", "kind", "municipality", "capacity", "owner", "min_age", "max_age", "competences",
        "max_care_level", "cost_per_day", "reserved_for",
    ),
    "settings": ("key", "value"),
    "municipalities": ("code", "name", "lat", "lon", "population"),
    "roads": ("from", "to", "km"),
}
REQUIRED_SHEETS = ("children", "homes")
_REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "children": ("id", "municipality", "age"),
    "homes": ("id", "kind", "municipality", "capacity"),
    "settings": ("key", "value"),
    "municipalities": ("code", "name", "lat", "lon"),
    "roads": ("from", "to", "km"),
}
#: How a cell of each column is read; columns not named here are text.
_INTEGERS = frozenset({"age", "care_level", "capacity", "min_age", "max_age", "max_care_level", "population"})
_NUMBERS = frozenset({"max_km", "cost_per_day", "lat", "lon", "km"})
_LISTS = frozenset({"needs", "competences", "reserved_for"})
_TAGS = frozenset({"needs", "competences"})
_PLACES = frozenset({"municipality", "owner", "from", "to"})
#: The sheets of a plan workbook (design.md section 10).
PLAN_SHEETS = ("assignments", "unplaced", "totals", "municipalities", "explanations")

#: The columns of a plan's per-municipality table.
MUNICIPALITY_COLUMNS = (
    "code", "name", "children", "kin", "municipal", "consultant", "hvb", "unplaced", "cost_per_day", "yearly_cost",
    "yearly_cost_per_child",
)

_SPACES = re.compile(r"[\s\u00a0\u202f]")
_ENTITY = re.compile(r"^(homes|children|region municipalities|region roads)\[(\d+)\]")


@attrs.frozen(kw_only=True)
class Record:
    """One row of a table: its row number as a spreadsheet shows it, and its non-empty cells."""

    row: int
    cells: Mapping[str, Any]

    @property
    def label(self) -> str:
        ident = self.cells.get("id", self.cells.get("code", self.cells.get("key")))
        return f"row {self.row} ({_text(ident)})" if isinstance(ident, (str, int, float)) else f"row {self.row}"


@attrs.frozen(kw_only=True)
class Table:
    """A sheet or CSV file as read: where it came from, its columns and its rows."""

    name: str
    where: str
    columns: tuple[str, ...]
    records: tuple[Record, ...]
    decimal_comma: bool = False

    def error(self, message: str, record: Record | None = None, field: str = "") -> InvalidInputError:
        return InvalidInputError(message, file=self.where, entity=record.label if record else "", field=field)


# --- reading the raw tables ----------------------------------------------------------------


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _header(name: str, where: str, cells: list[Any]) -> list[str | None]:
    """The column names of row 1, checked: known, not repeated, the required ones present."""
    header: list[str | None] = []
    for i, cell in enumerate(cells):
        title = None if cell is None or str(cell).strip() == "" else str(cell).strip().lower()
        if title is not None and title not in SHEETS[name]:
            known = ", ".join(SHEETS[name])
            raise InvalidInputError(
                f"unknown column {title!r} in column {_column_letter(i)} (known columns: {known})",
                file=where, entity="row 1", field=title,
            )
        if title is not None and title in header:
            raise InvalidInputError(
                f"column {title!r} appears twice (column {_column_letter(i)})", file=where, entity="row 1", field=title
            )
        header.append(title)
    for column in _REQUIRED_COLUMNS[name]:
        if column not in header:
            raise InvalidInputError(f"missing required column {column!r}", file=where, entity="row 1", field=column)
    return header


def _table(name: str, where: str, rows: Iterable[tuple[int, list[Any]]], decimal_comma: bool = False) -> Table:
    """A table from its rows (row number, cell values with ``None`` for empty cells)."""
    rows = [(n, cells) for n, cells in rows if any(c is not None for c in cells)]
    if not rows:
        raise InvalidInputError("is empty: row 1 must name the columns", file=where)
    first, cells = rows[0]
    if first != 1:
        raise InvalidInputError("row 1 must name the columns, but it is empty", file=where, entity="row 1")
    header = _header(name, where, cells)
    records = []
    for n, values in rows[1:]:
        record: dict[str, Any] = {}
        for i, value in enumerate(values):
            if value is None:
                continue
            column = header[i] if i < len(header) else None
            if column is None:
                raise InvalidInputError(
                    f"column {_column_letter(i)} has a value but no column name in row 1",
                    file=where, entity=f"row {n}",
                )
            record[column] = value
        records.append(Record(row=n, cells=record))
        for value in record.values():
            if isinstance(value, Formula):
                raise InvalidInputError(
                    f"cell {value.cell} holds a formula ({value.text}); enter the value itself",
                    file=where, entity=records[-1].label,
                )
    return Table(
        name=name,
        where=where,
        columns=tuple(c for c in header if c is not None),
        records=tuple(records),
        decimal_comma=decimal_comma,
    )


@attrs.frozen
class Formula:
    """A workbook cell that holds a formula: refused once its row's id is known."""

    text: str
    cell: str


def _cell_value(cell: Any, row: int, column: int) -> Any:
    """A workbook cell's value: ``None`` when empty, a :class:`Formula` for a formula."""
    if cell.data_type == "f":
        return Formula(str(cell.value), f"{_column_letter(column)}{row}")
    value = cell.value
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _read_workbook(path: Path) -> dict[str, Table]:
    openpyxl = require("openpyxl", "tables", "reading an Excel workbook")
    name = str(path)
    try:
        book = openpyxl.load_workbook(path, data_only=False)
    except FileNotFoundError:
        raise InvalidInputError("no such file", file=name) from None
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise InvalidInputError("is not an Excel workbook (.xlsx)", file=name) from None
    tables: dict[str, Table] = {}
    for sheet in book.worksheets:
        title = sheet.title.strip().lower()
        if title not in SHEETS:
            known = ", ".join(SHEETS)
            raise InvalidInputError(f"has an unknown sheet {sheet.title!r} (known sheets: {known})", file=name)
        where = f"{name}, sheet {sheet.title}"
        rows = (
            (n, [_cell_value(cell, n, i) for i, cell in enumerate(cells)])
            for n, cells in enumerate(sheet.iter_rows(min_row=1, min_col=1), start=1)
        )
        tables[title] = _table(title, where, rows)
    return tables


def _read_csv(path: Path) -> Table:
    name = str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInputError("is not UTF-8 text", file=name) from None
    except OSError as error:
        raise InvalidInputError(f"cannot be read ({error.strerror})", file=name) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    try:
        rows = [
            (n, [cell.strip() or None for cell in cells])
            for n, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True), 1)
        ]
    except csv.Error as error:
        raise InvalidInputError(f"is not a readable CSV file ({error})", file=name) from None
    return _table(path.stem.lower(), name, rows, decimal_comma=delimiter == ";")


def _read_folder(path: Path) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    for file in sorted(path.iterdir()):
        if file.suffix.lower() != ".csv":
            continue
        if file.stem.lower() not in SHEETS:
            known = ", ".join(f"{s}.csv" for s in SHEETS)
            raise InvalidInputError(f"is not one of the scenario's files ({known})", file=str(file))
        tables[file.stem.lower()] = _read_csv(file)
    return tables


# --- cells to scenario data ------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(table: Table, record: Record, column: str, value: Any, *, whole: bool) -> int | float:
    what = "a whole number" if whole else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise table.error(f"{column} must be {what}, got {value!r}", record, column)
    number: int | float
    if isinstance(value, str):
        text = _SPACES.sub("", value)
        if table.decimal_comma:
            text = text.replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            raise table.error(f"{column} must be {what}, got {value!r}", record, column) from None
    else:
        number = value
    if float(number).is_integer():
        return int(number)
    if whole:
        raise table.error(f"{column} must be {what}, got {value!r}", record, column)
    return float(number)


def _cell(table: Table, record: Record, column: str, value: Any) -> Any:
    if column in _INTEGERS:
        return _number(table, record, column, value, whole=True)
    if column in _NUMBERS:
        return _number(table, record, column, value, whole=False)
    if column in _LISTS:
        text = _text(value)
        if column in _TAGS and "," in text:
            raise table.error(f"{column} separates its items with ';', got {text!r}", record, column)
        return [part.strip() for part in text.split(";") if part.strip()]
    return _text(value)


def _places(region: Region) -> dict[str, str]:
    """Codes and names (case-insensitive) of the region's municipalities, to their codes."""
    places = {m.name.casefold(): m.code for m in region.municipalities}
    places.update({m.code.casefold(): m.code for m in region.municipalities})
    return places


def _records(table: Table, places: Mapping[str, str] | None, region_name: str) -> list[dict[str, Any]]:
    out = []
    for record in table.records:
        item = {}
        for column, value in record.cells.items():
            item[column] = _cell(table, record, column, value)
            if column in _PLACES and places is not None:
                code = places.get(item[column].casefold())
                if code is None:
                    raise table.error(
                        f"{column} {item[column]!r} is neither an SCB code nor a municipality name of region "
                        f"{region_name!r}",
                        record, column,
                    )
                item[column] = code
        out.append(item)
    return out


def _setting_value(table: Table, record: Record, key: str, value: Any) -> Any:
    """A settings value: ``true``/``false``/``null``, the objective's list, a number or text."""
    words = {"true": True, "false": False, "null": None}
    if not isinstance(value, str):
        return int(value) if isinstance(value, float) and value.is_integer() else value
    if value.lower() in words:
        return words[value.lower()]
    if key == "objective":
        return [part.strip() for part in value.split(";") if part.strip()]
    if key != "region":
        try:
            return _number(table, record, "value", value, whole=False)
        except InvalidInputError:
            pass
    return value


def _setting(table: Table, record: Record) -> tuple[str, Any]:
    key = _text(record.cells.get("key", "")).strip()
    if not key:
        raise table.error("key is empty", record, "key")
    return key, _setting_value(table, record, key, record.cells.get("value"))


def _settings(table: Table | None) -> tuple[str | None, dict[str, Any]]:
    """The region's name (if set) and the policy, from the dotted keys of the settings."""
    region: str | None = None
    policy: dict[str, Any] = {}
    seen: set[str] = set()
    for record in table.records if table else ():
        assert table is not None
        key, value = _setting(table, record)
        if key in seen:
            raise table.error(f"key {key!r} is set twice", record, "key")
        seen.add(key)
        if key == "region":
            if not isinstance(value, str):
                raise table.error(f"region must name a region, got {value!r}", record, "value")
            region = value
            continue
        *parents, leaf = key.split(".")
        target = policy
        for parent in parents:
            nested = target.setdefault(parent, {})
            if not isinstance(nested, dict):
                raise table.error(f"key {key!r} sets part of {parent!r}, which another row sets whole", record, "key")
            target = nested
        if isinstance(target.get(leaf), dict):
            raise table.error(f"key {key!r} is set whole and by its parts", record, "key")
        target[leaf] = value
    return region, policy


def _inline_region(tables: Mapping[str, Table], name: str) -> dict[str, Any]:
    if "municipalities" not in tables or "roads" not in tables:
        missing = "roads" if "municipalities" in tables else "municipalities"
        raise InvalidInputError(f"an inline region needs both municipalities and roads; {missing} is missing",
                                entity=missing)
    municipalities = _records(tables["municipalities"], None, name)
    places = {}
    for m in municipalities:
        places[str(m.get("name", "")).casefold()] = m.get("code", "")
        places[str(m.get("code", "")).casefold()] = m.get("code", "")
    roads = _records(tables["roads"], places, name)
    return {"name": name, "municipalities": municipalities, "roads": roads}


def _scenario_data(tables: Mapping[str, Table], stem: str) -> dict[str, Any]:
    from placering.io import SCENARIO_FORMAT, load_region, region_from_dict

    region_name, policy = _settings(tables.get("settings"))
    region_data: str | dict[str, Any]
    if "municipalities" in tables or "roads" in tables:
        region_data = _inline_region(tables, region_name or stem)
        region = region_from_dict(region_data)
    else:
        region_data = region_name or "dalarna"
        region = load_region(region_data)
    places = _places(region)
    return {
        "format": SCENARIO_FORMAT,
        "region": region_data,
        "policy": policy,
        "homes": _records(tables["homes"], places, region.name),
        "children": _records(tables["children"], places, region.name),
    }


def _relocate(error: InvalidInputError, tables: Mapping[str, Table], where: str) -> InvalidInputError:
    """An error that names a JSON entity (``homes[3] 'H4'``), placed at its table's row."""
    match = _ENTITY.match(error.entity)
    if match:
        table = tables[match[1].removeprefix("region ")]
        record = table.records[int(match[2])]
        return InvalidInputError(error.message, file=table.where, entity=record.label, field=error.field)
    settings = tables.get("settings")
    if error.entity in ("policy", "scenario") and settings is not None:
        key = "region" if error.entity == "scenario" else error.field
        for record in settings.records:
            text = _text(record.cells.get("key", ""))
            if key and (text == key or text.startswith(key + ".") or key.startswith(text + ".")):
                return InvalidInputError(error.message, file=settings.where, entity=record.label, field=error.field)
        return InvalidInputError(error.message, file=settings.where, field=error.field)
    if error.entity in tables:
        return InvalidInputError(error.message, file=tables[error.entity].where, field=error.field)
    if error.entity.startswith("region") and "municipalities" in tables:
        return InvalidInputError(error.message, file=tables["municipalities"].where, field=error.field)
    return error.located(file=error.file or where)


def read_tables(path: str | os.PathLike[str]) -> Scenario:
    """A scenario from an ``.xlsx`` workbook or a folder of CSV files (design.md section 10)."""
    from placering.io import scenario_from_dict

    source = Path(path)
    where = str(path)
    if source.is_dir():
        tables = _read_folder(source)
    elif source.suffix.lower() == ".csv":
        raise InvalidInputError("is one CSV file: give the folder that holds children.csv and homes.csv", file=where)
    else:
        tables = _read_workbook(source)
    for name in REQUIRED_SHEETS:
        if name not in tables:
            what = f"a {name}.csv file" if source.is_dir() else f"a sheet named {name!r}"
            raise InvalidInputError(f"has no {name}: it needs {what}", file=where)
    try:
        data = _scenario_data(tables, source.stem)
        scenario = scenario_from_dict(data)
    except InvalidInputError as error:
        raise _relocate(error, tables, where) from None
    logger.info("read %d children and %d homes from %s", len(scenario.children), len(scenario.homes), where)
    return scenario


# --- plans out -------------------------------------------------------------------------------


def _plan_rows(scenario: Scenario, plan: Plan) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The plan's sheets as column names and rows."""
    municipality = {c.id: c.municipality for c in scenario.children}
    home_place = {h.id: h.municipality for h in scenario.homes}
    rules = {child: e.rule for child, e in plan.explanations.items()}
    sheets: dict[str, tuple[list[str], list[list[Any]]]] = {}
    sheets["assignments"] = (
        ["child", "municipality", "home", "home_municipality", "kind", "km", "cost_per_day", "kept"],
        [
            [a.child, municipality.get(a.child), a.home, home_place.get(a.home), a.kind, a.km, a.cost_per_day, a.kept]
            for a in plan.assignments
        ],
    )
    sheets["unplaced"] = (
        ["child", "municipality", "reasons"],
        [[u.child, municipality.get(u.child), "; ".join(u.reasons)] for u in plan.unplaced],
    )
    totals = plan.totals.to_dict()
    year = yearly(plan.totals.cost_per_day, plan.totals.unplaced, scenario.policy)
    total_rows: list[list[Any]] = [["status", plan.status], *([k, v] for k, v in totals.items())]
    total_rows.append(["yearly_cost", year])
    total_rows += [[f"bound.{k}", v] for k, v in plan.bounds.items()]
    sheets["totals"] = (["term", "value"], total_rows)
    sheets["municipalities"] = (
        list(MUNICIPALITY_COLUMNS),
        [[r[c] for c in MUNICIPALITY_COLUMNS] for r in _municipality_rows(scenario, plan)],
    )
    sheets["explanations"] = (
        ["child", "rule", "text"],
        [[child, rules.get(child) or None, e.text] for child, e in sorted(plan.explanations.items())],
    )
    return sheets


def _municipality_rows(scenario: Scenario, plan: Plan) -> list[dict[str, Any]]:
    rows = []
    for row in plan.by_municipality(scenario):
        year = yearly(row.cost_per_day, row.unplaced, scenario.policy)
        rows.append(
            {
                "code": row.code,
                "name": row.name,
                "children": row.children,
                **dict(row.placements),
                "unplaced": row.unplaced,
                "cost_per_day": row.cost_per_day,
                "yearly_cost": year,
                "yearly_cost_per_child": year / row.children if row.children else 0.0,
            }
        )
    return rows


def workbook_bytes(scenario: Scenario, plan: Plan) -> bytes:
    """The plan as an ``.xlsx`` workbook (sheets :data:`PLAN_SHEETS`), in memory."""
    openpyxl = require("openpyxl", "tables", "writing an Excel workbook")
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, (columns, rows) in _plan_rows(scenario, plan).items():
        sheet = book.create_sheet(name)
        sheet.append(columns)
        for row in rows:
            sheet.append(row)
        for cells in sheet.iter_rows(min_row=2):
            for cell in cells:
                # An id such as "=1+1" is text: a written cell never becomes a formula.
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_plan_workbook(path: str | os.PathLike[str], scenario: Scenario, plan: Plan) -> None:
    """Write the plan workbook atomically, readable by its owner only."""
    from placering.io import write_bytes

    write_bytes(path, workbook_bytes(scenario, plan))


def plan_frame(plan: Plan, scenario: Scenario | None = None) -> pd.DataFrame:
    """One row per child: placed (home, kind, km, cost) or unplaced, with the explanation.

    With the scenario, the child's and the home's municipalities are columns too.
    """
    pandas = require("pandas", "tables", "a pandas DataFrame")
    municipality = {c.id: c.municipality for c in scenario.children} if scenario else {}
    home_place = {h.id: h.municipality for h in scenario.homes} if scenario else {}
    rows = []
    for a in plan.assignments:
        rows.append({"child": a.child, "municipality": municipality.get(a.child), "home": a.home,
                     "home_municipality": home_place.get(a.home), "kind": a.kind, "km": a.km,
                     "cost_per_day": a.cost_per_day, "kept": a.kept})
    for u in plan.unplaced:
        rows.append({"child": u.child, "municipality": municipality.get(u.child), "home": None,
                     "home_municipality": None, "kind": "unplaced", "km": None, "cost_per_day": None,
                     "kept": False})
    columns = ["child", "municipality", "home", "home_municipality", "kind", "km", "cost_per_day", "kept"]
    frame = pandas.DataFrame(rows, columns=columns)
    explanation = {child: e.text for child, e in plan.explanations.items()}
    frame["explanation"] = frame["child"].map(explanation)
    if scenario is None:
        frame = frame.drop(columns=["municipality", "home_municipality"])
    return frame.set_index("child")


def municipality_frame(plan: Plan, scenario: Scenario) -> pd.DataFrame:
    """One row per responsible municipality: children, placements by kind, unplaced, costs."""
    pandas = require("pandas", "tables", "a pandas DataFrame")
    rows = _municipality_rows(scenario, plan)
    return pandas.DataFrame(rows, columns=list(MUNICIPALITY_COLUMNS)).set_index("code")


def result_frame(data: Mapping[str, Any]) -> pd.DataFrame:
    """A cooperation, recruitment, marginal or conversion result (design.md sections 8-9, as
    parsed JSON) as a DataFrame: the shares per member, the recommended homes, or the rows with
    their totals as ``totals.TERM`` columns."""
    pandas = require("pandas", "tables", "a pandas DataFrame")
    kind = str(data.get("format", ""))
    if kind == "placering.cooperation/1":
        return pandas.DataFrame(list(data["shares"])).set_index("municipality")
    if kind == "placering.recruitment/1":
        return pandas.DataFrame(list(data["homes"]), columns=["municipality", "profile", "count"])
    if kind in ("placering.marginal/1", "placering.conversion/1"):
        return pandas.json_normalize(list(data["rows"]))
    raise InvalidInputError(f"format must be a cooperation, recruitment, marginal or conversion result, got {kind!r}",
                            field="format")
