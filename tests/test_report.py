"""The HTML report (design.md section 10), read as text: what it shows, in which language, that
ids are escaped, that nothing is fetched, and the ``report`` and ``demo`` commands. The browser
tests (test_browser.py) open it in Chromium."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Callable
from html import unescape
from pathlib import Path

import attrs
import pytest

import placering
from conftest import Outcome
from placering.comparison import yearly as yearly_cost
from placering.report import render_report, write_report

DATA = Path(__file__).parent / "data"
DALARNA_CODES = {
    "2021", "2023", "2026", "2029", "2031", "2034", "2039", "2061", "2062", "2080", "2081", "2082", "2083", "2084",
    "2085",
}
XSS_CHILD = "<script>alert(1)</script>"
XSS_HOME = "<img src=x onerror=alert(2)>"


def dalarna() -> tuple[placering.Scenario, placering.Plan]:
    scenario = placering.generate("dalarna", children=120, seed=3)
    return scenario, placering.solve(scenario)


def with_hostile_ids() -> tuple[placering.Scenario, placering.Plan]:
    """A Dalarna scenario with a child and an HVB home whose ids are markup."""
    scenario = placering.generate("dalarna", children=60, seed=2)
    child = placering.Child(id=XSS_CHILD, municipality="2080", age=15, care_level=4)
    home = placering.Home(id=XSS_HOME, kind="hvb", municipality="2081", capacity=1)
    scenario = attrs.evolve(scenario, children=[*scenario.children, child], homes=[*scenario.homes, home])
    return scenario, placering.solve(scenario)


def map_ids(html: str) -> set[str]:
    return set(re.findall(r'id="municipality-([^"]+)"', html))


def test_report_shows_figures_map_reasons_and_every_explanation() -> None:
    scenario, plan = dalarna()
    html = render_report(scenario, plan)
    assert DALARNA_CODES <= map_ids(html)
    assert "Municipal borders: processed from SCB's DeSO 2025 (CC0)" in unescape(html)
    for heading in ("Per municipality", "Why children end in HVB", "Every explanation"):
        assert heading in html
    for child in plan.explanations:
        assert f'<td class="id">{child}</td>' in html
    year = yearly_cost(plan.totals.cost_per_day, plan.totals.unplaced, scenario.policy)
    assert f"{year / 1e6:,.1f}".replace(",", "\u202f") + " Mkr" in html
    # The counts per reason add up to the children in each group.
    why = html[html.index("<div id=\"why\">"):html.index("Per municipality</h2>")]
    counts = [int(n) for n in re.findall(r'<td class="num">(\d+)</td></tr>', why)]
    assert sum(counts) == plan.totals.hvb + plan.totals.consultant + plan.totals.unplaced


def test_report_in_swedish_names_the_kinds_as_section_1() -> None:
    scenario, plan = dalarna()
    html = render_report(scenario, plan, lang="sv")
    assert '<html lang="sv">' in html
    for words in ("nätverkshem / släktinghem", "familjehem i egen regi", "konsulentstött familjehem",
                  "HVB (hem för vård eller boende)", "Per kommun", "Alla förklaringar", "Kommungränser"):
        assert words in html
    assert "Every explanation" not in html


def test_report_is_self_contained() -> None:
    html = render_report(*dalarna())
    # Only references within the page: the SVG's own clip paths and its inline colour bar image.
    assert not re.search(r"""\s(src|href|srcset|action|xlink:href)="(?!#|data:)""", html)
    assert not re.search(r"url\((?!#)", html)
    assert "@import" not in html and "<script" not in html and "<link" not in html
    assert "default-src 'none'" in html  # the browser itself refuses any request


def test_every_id_is_escaped() -> None:
    html = render_report(*with_hostile_ids())
    assert XSS_CHILD not in html and XSS_HOME not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html


def test_region_without_borders_draws_seats(contract_dir: Path) -> None:
    scenario = placering.read_scenario(contract_dir / "case-03.json")
    html = render_report(scenario, placering.solve(scenario))
    assert {"M0", "M1", "M2"} <= map_ids(html)
    assert "this region ships no borders" in html


def test_cooperation_recruitment_and_marginal_parts() -> None:
    scenario, plan = dalarna()
    files = {name: json.loads((DATA / f"{name}.json").read_text()) for name in ("cooperation", "recruitment",
                                                                               "marginal")}
    html = render_report(scenario, plan, **files)
    assert "Regional cooperation" in html and "Recruitment plan" in html and "Value of one more home" in html
    assert "The Shapley shares are in the core" in html
    assert "The population shares are not in the core: Falun would together pay 10.0 Mkr less" in html
    assert {"recommended-2080", "recommended-2062", "recommended-2085"} <= set(re.findall(r'id="(recommended-\d+)"',
                                                                                            html))
    # Marginal values alone mark the largest positive savings.
    html = render_report(scenario, plan, marginal=files["marginal"], lang="sv")
    assert set(re.findall(r'id="recommended-(\d+)"', html)) == {"2081", "2080", "2084"}
    assert "Värdet av ett hem till" in html


def test_yearly_cost_prices_unplaced_children() -> None:
    policy = placering.Policy()
    assert yearly_cost(1000, 2, policy) == 365 * (1000 + 2 * 8000)  # the default price (design.md section 7)


def test_report_written_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    write_report(path, *dalarna())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_report_command(invoke: Callable[..., Outcome], tmp_path: Path) -> None:
    scenario, plan = dalarna()
    placering.write_json(tmp_path / "s.json", placering.scenario_to_dict(scenario))
    placering.write_json(tmp_path / "p.json", placering.plan_to_dict(plan))
    out = tmp_path / "r.html"
    result = invoke("report", str(tmp_path / "s.json"), str(tmp_path / "p.json"), "--lang", "sv",
                    "--cooperation", str(DATA / "cooperation.json"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Regional samverkan" in out.read_text()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--cooperation", str(DATA / "marginal.json")), "format must be 'placering.cooperation/1'"),
        (("--marginal", str(DATA / "missing.json")), "missing.json: no such file"),
    ],
)
def test_report_command_refuses_bad_files(
    invoke: Callable[..., Outcome], tmp_path: Path, args: tuple[str, ...], words: str
) -> None:
    scenario, plan = dalarna()
    placering.write_json(tmp_path / "s.json", placering.scenario_to_dict(scenario))
    placering.write_json(tmp_path / "p.json", placering.plan_to_dict(plan))
    result = invoke("report", str(tmp_path / "s.json"), str(tmp_path / "p.json"), *args, "--out",
                    str(tmp_path / "r.html"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and words in result.stderr
    assert not (tmp_path / "r.html").exists()


def test_report_of_a_plan_from_another_scenario_is_refused(
    invoke: Callable[..., Outcome], tmp_path: Path, contract_dir: Path
) -> None:
    _, plan = dalarna()
    placering.write_json(tmp_path / "p.json", placering.plan_to_dict(plan))
    result = invoke("report", str(contract_dir / "case-03.json"), str(tmp_path / "p.json"), "--out",
                    str(tmp_path / "r.html"))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {tmp_path / 'p.json'}: plan: names child")
    assert not (tmp_path / "r.html").exists()


def test_demo_writes_the_report(invoke: Callable[..., Outcome], tmp_path: Path) -> None:
    result = invoke("demo", "--children", "40", "--out", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == ["plan.json", "report.html", "scenario.json"]
    assert DALARNA_CODES <= map_ids((tmp_path / "demo" / "report.html").read_text())


def test_results_as_frames() -> None:
    from placering.tables import result_frame

    cooperation = result_frame(json.loads((DATA / "cooperation.json").read_text()))
    assert cooperation.loc["2080", "shapley"] == 154000000.0
    assert cooperation["shapley"].sum() == 390000000.0
    marginal = result_frame(json.loads((DATA / "marginal.json").read_text()))
    assert list(marginal["municipality"]) == ["2081", "2080", "2039", "2084"]
    assert marginal.loc[0, "totals.hvb"] == 166
    assert result_frame(json.loads((DATA / "recruitment.json").read_text()))["count"].sum() == 6
