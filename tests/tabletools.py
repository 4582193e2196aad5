"""Turn a ``placering.scenario/1`` dict into the planners' tables of design.md section 10, as a
spreadsheet user would type them: a workbook, or a folder of CSV files (``,`` or ``;`` with a
decimal comma, with or without a byte-order mark). Written with openpyxl and the csv module,
independently of placering.tables, so that the tests compare the reader against the JSON."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import openpyxl

Sheets = dict[str, list[list[Any]]]

_HOME_COLUMNS = (
    "id", "kind", "municipality", "capacity", "owner", "min_age", "max_age", "competences", "max_care_level",
    "cost_per_day", "reserved_for",
)
_CHILD_COLUMNS = ("id", "municipality", "age", "needs", "care_level", "sibling_group", "max_km", "current_home")


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(value)
    return value


def _rows(items: list[dict[str, Any]], columns: tuple[str, ...]) -> list[list[Any]]:
    used = [c for c in columns if any(c in item for item in items)] or list(columns[:3])
    return [used] + [[_cell(item.get(c)) for c in used] for item in items]


def _setting(value: Any) -> Any:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return _cell(value)


def scenario_sheets(data: dict[str, Any], *, names: bool = False) -> Sheets:
    """The sheets of a scenario dict; with ``names`` the municipality columns hold the names."""
    sheets: Sheets = {}
    settings: list[list[Any]] = [["key", "value"]]
    region = data["region"]
    if isinstance(region, str):
        settings.append(["region", region])
    else:
        settings.append(["region", region["name"]])
        sheets["municipalities"] = _rows(region["municipalities"], ("code", "name", "lat", "lon", "population"))
        sheets["roads"] = _rows(region["roads"], ("from", "to", "km"))
    for key, value in data.get("policy", {}).items():
        if isinstance(value, dict):
            settings += [[f"{key}.{kind}", _setting(v)] for kind, v in value.items()]
        else:
            settings.append([key, _setting(value)])
    sheets["settings"] = settings
    homes, children = data["homes"], data["children"]
    if names:
        from placering.io import load_region, region_to_dict

        inline = region if isinstance(region, dict) else region_to_dict(load_region(region))
        towns = inline["municipalities"]
        name = {m["code"]: m["name"] for m in towns}
        homes = [h | {k: name[h[k]] for k in ("municipality", "owner") if k in h} for h in homes]
        children = [c | {"municipality": name[c["municipality"]]} for c in children]
    sheets["homes"] = _rows(homes, _HOME_COLUMNS)
    sheets["children"] = _rows(children, _CHILD_COLUMNS)
    return sheets


def write_workbook(sheets: Sheets, path: Path) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def _csv_value(value: Any, decimal_comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and decimal_comma:
        return repr(value).replace(".", ",")
    return str(value)


def write_csv_folder(sheets: Sheets, folder: Path, *, swedish: bool = False) -> Path:
    """CSV files; ``swedish``: ``;``-separated, decimal comma and a byte-order mark, as Swedish Excel saves."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in sheets.items():
        with (folder / f"{name}.csv").open("w", encoding="utf-8-sig" if swedish else "utf-8", newline="") as out:
            writer = csv.writer(out, delimiter=";" if swedish else ",")
            for row in rows:
                writer.writerow([_csv_value(v, swedish) for v in row])
    return folder
