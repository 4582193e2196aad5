"""Planners' tables (design.md section 10): workbooks and CSV folders in, plan workbooks and
DataFrames out, and every bad table refused in one line naming its file (sheet), row and column."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import placering
from conftest import Outcome, scenario_data
from placering import tables
from tabletools import Sheets, scenario_sheets, write_csv_folder, write_workbook

CASES = [f"case-{i:02d}" for i in range(1, 23)]
FORMS = ("xlsx", "csv", "csv-swedish")


def write(sheets: Sheets, path: Path, form: str) -> Path:
    if form == "xlsx":
        return write_workbook(sheets, path.with_suffix(".xlsx"))
    return write_csv_folder(sheets, path, swedish=form == "csv-swedish")


def same_scenario(a: placering.Scenario, b: placering.Scenario) -> None:
    assert a.policy == b.policy
    assert a.homes == b.homes
    assert a.children == b.children
    assert a.region.roads == b.region.roads
    # Excel keeps 15 significant digits of a coordinate; nothing placed depends on them.
    for m, n in zip(a.region.municipalities, b.region.municipalities, strict=True):
        assert (m.code, m.name) == (n.code, n.name)
        assert m.lat == pytest.approx(n.lat, abs=1e-9) and m.lon == pytest.approx(n.lon, abs=1e-9)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("case", CASES)
def test_contract_case_as_tables_gives_the_same_plan_totals(
    case: str, form: str, contract_dir: Path, tmp_path: Path
) -> None:
    source = contract_dir / f"{case}.json"
    expected = json.loads((contract_dir / f"{case}.expected.json").read_text())["totals"]
    reference = placering.read_scenario(source)
    scenario = placering.read_scenario(write(scenario_sheets(json.loads(source.read_text())), tmp_path / case, form))
    same_scenario(scenario, reference)
    totals = placering.solve(scenario, placering.SolveParams(seed=0, workers=1)).totals.to_dict()
    for term, value in expected.items():
        assert totals[term] == pytest.approx(value, abs=0.01), term


def test_demo_workbook_with_municipality_names_solves_to_the_json_plan(tmp_path: Path) -> None:
    scenario = placering.generate("dalarna", seed=1)  # the demo scenario
    data = placering.scenario_to_dict(scenario)
    sheets = scenario_sheets(data, names=True)
    assert "Falun" in {row[1] for row in sheets["children"][1:]}
    from_book = placering.read_scenario(write_workbook(sheets, tmp_path / "demo.xlsx"))
    assert from_book == placering.scenario_from_dict(data)
    params = placering.SolveParams(seed=0, workers=1)
    plan_json = placering.solve(placering.scenario_from_dict(data), params)
    plan_book = placering.solve(from_book, params)
    assert plan_book.totals == plan_json.totals
    assert plan_book.home_of() == plan_json.home_of()


# --- the bad-table corpus ------------------------------------------------------------------


def good() -> Sheets:
    """A small valid scenario in the test region, by municipality names."""
    return {
        "settings": [["key", "value"], ["region", "testland"], ["max_km.municipal", "null"], ["pooling", "pooled"]],
        "municipalities": [["code", "name", "lat", "lon"], ["A", "Alby", 60.0, 15.0], ["B", "Bryn", 60.2, 15.1],
                           ["C", "Cederby", 60.6, 15.3]],
        "roads": [["from", "to", "km"], ["Alby", "Bryn", 20], ["B", "C", 50]],
        "homes": [["id", "kind", "municipality", "capacity", "competences"],
                  ["H1", "municipal", "Alby", 2, "npf;trauma"],
                  ["H2", "hvb", "C", 3, None],
                  ["H3", "consultant", "Bryn", 1, None]],
        "children": [["id", "municipality", "age", "needs"],
                     ["C1", "Bryn", 9, "npf"],
                     ["C2", "Cederby", 15, None]],
    }


def test_a_formula_in_the_id_column_names_its_cell(tmp_path: Path) -> None:
    sheets = good()
    sheets["homes"][2][0] = '=CONCAT("H", 2)'
    with pytest.raises(placering.InvalidInputError) as caught:
        placering.read_scenario(write_workbook(sheets, tmp_path / "f.xlsx"))
    assert str(caught.value).endswith(
        "f.xlsx, sheet homes: row 3: cell A3 holds a formula (=CONCAT(\"H\", 2)); enter the value itself"
    )


def test_the_good_tables_read(tmp_path: Path) -> None:
    scenario = placering.read_scenario(write_workbook(good(), tmp_path / "good.xlsx"))
    assert scenario.home("H1").competences == {"npf", "trauma"}
    assert scenario.child("C2").municipality == "C"
    assert scenario.policy.max_km["municipal"] is None
    assert scenario.region.km("A", "C") == 70


def _set(sheets: Sheets, sheet: str, row: int, column: str, value: Any) -> Sheets:
    """Put ``value`` at spreadsheet ``row`` (the header is row 1) of ``column``, adding the column if new."""
    rows = sheets[sheet]
    if column not in rows[0]:
        for r in rows:
            r.append(None)
        rows[0][-1] = column
    rows[row - 1][rows[0].index(column)] = value
    return sheets


def _formula(sheets: Sheets) -> Sheets:
    sheets["children"][2][2] = "=B2+1"
    return sheets


#: (what is wrong, how the good tables are spoiled, the sheet, the words the one line must hold)
BAD: list[tuple[str, Callable[[Sheets], Sheets], str, tuple[str, ...]]] = [
    ("text in a number column", lambda s: _set(s, "homes", 3, "capacity", "tre"), "homes",
     ("row 3 (H2)", "capacity must be a whole number, got 'tre'")),
    ("negative capacity", lambda s: _set(s, "homes", 4, "capacity", -1), "homes",
     ("row 4 (H3)", "capacity must be >= 0, got -1")),
    ("missing required column", lambda s: {**s, "children": [r[:2] + r[3:] for r in s["children"]]}, "children",
     ("row 1", "missing required column 'age'")),
    ("unknown column", lambda s: _set(s, "homes", 2, "capcity", 3), "homes",
     ("row 1", "unknown column 'capcity' in column F")),
    ("unknown municipality name", lambda s: _set(s, "children", 3, "municipality", "Dalby"), "children",
     ("row 3 (C2)", "municipality 'Dalby' is neither an SCB code nor a municipality name")),
    ("empty sheet", lambda s: {**s, "homes": []}, "homes", ("is empty",)),
    ("duplicate id", lambda s: _set(s, "children", 3, "id", "C1"), "children",
     ("row 3 (C1)", "id 'C1' is used twice")),
    ("formula cell", _formula, "children", ("row 3 (C2)", "cell C3 holds a formula (=B2+1)")),
    ("required value left empty", lambda s: _set(s, "children", 2, "age", None), "children",
     ("row 2 (C1)", "age is required")),
    ("age out of range", lambda s: _set(s, "children", 2, "age", 25), "children",
     ("row 2 (C1)", "age must be <= 20, got 25")),
    ("bad policy value", lambda s: _set(s, "settings", 4, "value", "pool"), "settings",
     ("row 4 (pooling)", "pooling")),
    ("unknown policy key", lambda s: _set(s, "settings", 4, "key", "polling"), "settings",
     ("row 4 (polling)", "unknown field 'polling'")),
    ("unknown kind in a dotted key", lambda s: _set(s, "settings", 3, "key", "max_km.family"), "settings",
     ("row 3 (max_km.family)", "unknown kind 'family'")),
    ("unknown road end", lambda s: _set(s, "roads", 3, "to", "Dalby"), "roads",
     ("row 3", "to 'Dalby' is neither an SCB code nor a municipality name")),
    ("comma in a list", lambda s: _set(s, "children", 2, "needs", "npf, trauma"), "children",
     ("row 2 (C1)", "needs separates its items with ';', got 'npf, trauma'")),
    ("unknown shipped region", lambda s: {k: v for k, v in _set(s, "settings", 2, "value", "dalarn").items()
                                          if k not in ("municipalities", "roads")}, "settings",
     ("row 2 (region)", "unknown shipped region 'dalarn'")),
    ("kin home without reserved_for", lambda s: _set(s, "homes", 2, "kind", "kin"), "homes",
     ("row 2 (H1)", "reserved_for must name at least one child")),
]


def _where(tmp_path: Path, form: str, sheet: str) -> str:
    return f"bad.xlsx, sheet {sheet}" if form == "xlsx" else f"{sheet}.csv"


@pytest.mark.parametrize("form", ("xlsx", "csv-swedish"))
@pytest.mark.parametrize(("what", "spoil", "sheet", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_tables_are_refused_naming_file_row_and_column(
    what: str, spoil: Callable[[Sheets], Sheets], sheet: str, words: tuple[str, ...], form: str, tmp_path: Path
) -> None:
    if what == "formula cell" and form != "xlsx":
        words = ("row 3 (C2)", "age must be a whole number, got '=B2+1'")
    path = write(spoil(good()), tmp_path / "bad", form)
    with pytest.raises(placering.InvalidInputError) as caught:
        placering.read_scenario(path)
    message = str(caught.value)
    assert "\n" not in message
    assert _where(tmp_path, form, sheet) in message
    for word in words:
        assert word in message


def test_a_missing_extra_is_one_line_naming_it() -> None:
    from placering._extras import MissingExtraError, require

    with pytest.raises(MissingExtraError) as caught:
        require("placering_no_such_module", "report", "the HTML report")
    assert str(caught.value) == (
        "the HTML report needs placering_no_such_module, which the 'report' extra installs: "
        "pip install 'placering[report]'"
    )


def test_missing_sheet_unknown_sheet_and_a_lone_csv_file(tmp_path: Path) -> None:
    sheets = good()
    del sheets["homes"]
    with pytest.raises(placering.InvalidInputError, match=r"has no homes: it needs a sheet named 'homes'"):
        placering.read_scenario(write_workbook(sheets, tmp_path / "a.xlsx"))
    with pytest.raises(placering.InvalidInputError, match=r"has no homes: it needs a homes.csv file"):
        placering.read_scenario(write_csv_folder(sheets, tmp_path / "a"))
    with pytest.raises(placering.InvalidInputError, match=r"unknown sheet 'Blad1'"):
        placering.read_scenario(write_workbook({**good(), "Blad1": [["x"]]}, tmp_path / "b.xlsx"))
    with pytest.raises(placering.InvalidInputError, match=r"is one CSV file"):
        placering.read_scenario(tmp_path / "a" / "children.csv")
    (tmp_path / "c.xlsx").write_text("not a workbook")
    with pytest.raises(placering.InvalidInputError, match=r"is not an Excel workbook"):
        placering.read_scenario(tmp_path / "c.xlsx")


def test_csv_dialects_and_shipped_region_by_default(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "homes.csv").write_bytes(
        "\ufeffid;kind;municipality;capacity;cost_per_day\nH1;municipal;Falun;2;812,5\nH2;hvb;2081;1;\n".encode()
    )
    (folder / "children.csv").write_text("id,municipality,age,needs\nC1,Borlänge,9,\"npf;trauma\"\nC2,2080,15,\n")
    (folder / "settings.csv").write_text("key,value\nkeep_current,false\nobjective,unplaced;cost;km\n")
    scenario = placering.read_scenario(folder)
    assert scenario.region.name == "dalarna"
    assert scenario.home("H1").cost_per_day == 812.5
    assert scenario.home("H1").municipality == "2080"
    assert scenario.child("C1").needs == {"npf", "trauma"}
    assert scenario.policy.keep_current is False
    assert scenario.policy.objective == ("unplaced", "cost", "km")


# --- tables out ------------------------------------------------------------------------------


def test_plan_workbook_and_frames(tmp_path: Path, contract_dir: Path) -> None:
    scenario = placering.read_scenario(contract_dir / "case-03.json")
    plan = placering.solve(scenario)
    path = tmp_path / "plan.xlsx"
    tables.write_plan_workbook(path, scenario, plan)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["assignments", "unplaced", "totals", "municipalities", "explanations"]
    totals = {row[0]: row[1] for row in book["totals"].iter_rows(min_row=2, values_only=True)}
    assert totals["hvb"] == plan.totals.hvb
    assert totals["yearly_cost"] == 365 * (plan.totals.cost_per_day + 8000 * plan.totals.unplaced)
    assert book["assignments"].max_row == len(plan.assignments) + 1
    assert book["unplaced"].max_row == len(plan.unplaced) + 1
    assert book["explanations"].max_row == len(plan.explanations) + 1

    frame = tables.plan_frame(plan, scenario)
    assert len(frame) == len(scenario.children)
    assert (frame["kind"] == "hvb").sum() == plan.totals.hvb
    assert frame.equals(plan.to_frame(scenario))
    by_place = plan.municipalities_frame(scenario)
    assert by_place["children"].sum() == len(scenario.children)
    assert by_place["unplaced"].sum() == plan.totals.unplaced


def test_an_id_that_looks_like_a_formula_is_written_as_text(tmp_path: Path, make_scenario: Any) -> None:
    scenario = make_scenario(
        homes=[{"id": "=1+1", "kind": "municipal", "municipality": "A", "capacity": 1}],
        children=[{"id": "=HYPERLINK(\"x\")", "municipality": "A", "age": 5}],
    )
    path = tmp_path / "plan.xlsx"
    tables.write_plan_workbook(path, scenario, placering.solve(scenario))
    cell = openpyxl.load_workbook(path)["assignments"]["A2"]
    assert cell.data_type == "s" and cell.value == "=HYPERLINK(\"x\")"


# --- the command line ------------------------------------------------------------------------


def test_solve_reads_a_workbook_and_writes_a_plan_workbook(invoke: Callable[..., Outcome], tmp_path: Path) -> None:
    book = write_workbook(good(), tmp_path / "scenario.xlsx")
    result = invoke("solve", str(book), "--out", str(tmp_path / "plan.xlsx"))
    assert result.returncode == 0, result.stderr
    assert openpyxl.load_workbook(tmp_path / "plan.xlsx").sheetnames[0] == "assignments"
    result = invoke("solve", str(write_csv_folder(good(), tmp_path / "csv")), "--out", str(tmp_path / "plan.json"))
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "plan.json").read_text())["format"] == "placering.plan/1"


@pytest.mark.parametrize("out", ("plan.xlsx", "plan.json"))
def test_cli_refuses_a_bad_table_in_one_line_and_writes_nothing(
    invoke: Callable[..., Outcome], tmp_path: Path, out: str
) -> None:
    book = write_workbook(_set(good(), "homes", 3, "capacity", "tre"), tmp_path / "scenario.xlsx")
    result = invoke("solve", str(book), "--out", str(tmp_path / out))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr == (
        f"error: {book}, sheet homes: row 3 (H2): capacity must be a whole number, got 'tre'\n"
    )
    assert not (tmp_path / out).exists()


def test_workbook_of_a_scenario_made_by_hand(make_data: Any, tmp_path: Path) -> None:
    data = scenario_data(
        homes=[{"id": "H1", "kind": "kin", "municipality": "A", "capacity": 1, "reserved_for": ["C1"]}],
        children=[{"id": "C1", "municipality": "B", "age": 3, "sibling_group": "S1"}],
        policy={"costs_per_day": {"kin": 650}, "max_km": {"municipal": None}, "siblings": "prefer"},
    )
    scenario = placering.read_scenario(write_workbook(scenario_sheets(data), tmp_path / "x.xlsx"))
    same_scenario(scenario, placering.scenario_from_dict(data))


def test_the_example_export_reads_and_solves() -> None:
    """examples/treserva-export: the README's walk-through, as Swedish Excel saves CSV."""
    folder = Path(__file__).parents[1] / "examples" / "treserva-export"
    scenario = placering.read_scenario(folder)
    assert len(scenario.children) == 60 and scenario.region.name == "dalarna"
    assert placering.check_plan(scenario, placering.solve(scenario)) == []
