"""The planners' report (design.md section 10): one self-contained HTML file with the map, the
headline figures, the table per municipality, why children end in HVB, consultant homes or
unplaced, every explanation, and, when given, the cooperation, recruitment and marginal-value
results (design.md sections 8 and 9).

Jinja2 renders the package template ``templates/report.html.j2`` with autoescaping on, so every
id and free text is escaped; the map is matplotlib's SVG (:mod:`placering.reportmap`), inline.
Nothing is fetched: the page's Content-Security-Policy forbids every request.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from placering._extras import require
from placering._report_text import LANGUAGES, words
from placering.comparison import yearly
from placering.exceptions import InvalidInputError
from placering.policy import KINDS
from placering.reportmap import MapData, borders_of, map_svg, source_line
from placering.result import Plan
from placering.scenario import Scenario

__all__ = [
    "COOPERATION_FORMAT",
    "MARGINAL_FORMAT",
    "RECRUITMENT_FORMAT",
    "read_result",
    "render_report",
    "write_report",
]

logger = logging.getLogger(__name__)

COOPERATION_FORMAT = "placering.cooperation/1"
RECRUITMENT_FORMAT = "placering.recruitment/1"
MARGINAL_FORMAT = "placering.marginal/1"
_REQUIRED = {
    COOPERATION_FORMAT: ("members", "shares"),
    RECRUITMENT_FORMAT: ("homes",),
    MARGINAL_FORMAT: ("base", "rows"),
}
_METHODS = ("shapley", "population", "usage", "nucleolus")
_MARKS = 5


def read_result(path: str | os.PathLike[str], format: str) -> dict[str, Any]:
    """A cooperation, recruitment or marginal-value file, checked for its format and main keys."""
    from placering.io import read_text

    name = str(path)
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise InvalidInputError(f"is not valid JSON: {error.msg} at line {error.lineno}", file=name) from None
    if not isinstance(data, dict) or data.get("format") != format:
        got = data.get("format") if isinstance(data, dict) else None
        raise InvalidInputError(f"format must be {format!r}, got {got!r}", file=name, field="format")
    for key in _REQUIRED[format]:
        if key not in data:
            raise InvalidInputError(f"{key} is required", file=name, field=key)
    return data


# --- numbers in the reader's language ---------------------------------------------------------


def _number(value: float, decimals: int, lang: str) -> str:
    text = f"{value:,.{decimals}f}".replace(",", "\u202f")
    return text.replace(".", ",") if lang == "sv" else text


def _formatters(lang: str) -> tuple[Callable[[float | None], str], Callable[[float | None], str]]:
    def mkr(value: float | None) -> str:
        return "–" if value is None else _number(value / 1e6, 1, lang)

    def tkr(value: float | None) -> str:
        return "–" if value is None else _number(value / 1e3, 0, lang)

    return mkr, tkr


def _names(scenario: Scenario) -> dict[str, str]:
    return {m.code: m.name for m in scenario.region.municipalities}


def _joined(items: list[str], w: Mapping[str, str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {w['and']} " + items[-1]


# --- the parts of the page --------------------------------------------------------------------


def _check_matches(scenario: Scenario, plan: Plan) -> None:
    for child in [a.child for a in plan.assignments] + [u.child for u in plan.unplaced]:
        if not scenario.has_child(child):
            raise InvalidInputError(f"names child {child!r}, which the scenario does not have", entity="plan")
    for a in plan.assignments:
        if not scenario.has_home(a.home):
            raise InvalidInputError(f"names home {a.home!r}, which the scenario does not have", entity="plan")


def _explained(scenario: Scenario, plan: Plan) -> dict[str, tuple[str, str]]:
    """Each explained child's (rule, text): the plan's texts, the rules worked out again when a
    plan read from a file does not carry them."""
    rules = {child: e.rule for child, e in plan.explanations.items()}
    wanted = {a.child for a in plan.assignments if a.kind in ("hvb", "consultant")} | {u.child for u in plan.unplaced}
    if any(not rules.get(child) for child in wanted):
        from placering.explain import explain_plan

        again = explain_plan(scenario, plan).explanations
        rules = {child: e.rule for child, e in again.items()}
        texts = {child: (plan.explanations[child].text if child in plan.explanations else e.text)
                 for child, e in again.items()}
    else:
        texts = {child: e.text for child, e in plan.explanations.items()}
    return {child: (rules.get(child, ""), texts[child]) for child in texts}


def _headline_and_rows(scenario: Scenario, plan: Plan, lang: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    mkr, tkr = _formatters(lang)
    rows = []
    for row in plan.by_municipality(scenario):
        year = yearly(row.cost_per_day, row.unplaced, scenario.policy)
        rows.append({"name": row.name, "code": row.code, "children": row.children, "placements": dict(row.placements),
                     "unplaced": row.unplaced, "yearly": mkr(year),
                     "per_child": tkr(year / row.children if row.children else None)})
    placements = Counter(a.kind for a in plan.assignments)
    year = yearly(plan.totals.cost_per_day, plan.totals.unplaced, scenario.policy)
    children = len(scenario.children)
    headline = {"children": children, "placements": {k: placements[k] for k in KINDS}, "unplaced": len(plan.unplaced),
                "yearly": mkr(year), "per_child": tkr(year / children if children else None)}
    return headline, rows


def _why(plan: Plan, explained: Mapping[str, tuple[str, str]], w: Mapping[str, str]) -> list[dict[str, Any]]:
    groups = []
    for key, chosen in (
        ("hvb", [a.child for a in plan.assignments if a.kind == "hvb"]),
        ("consultant", [a.child for a in plan.assignments if a.kind == "consultant"]),
        ("unplaced", [u.child for u in plan.unplaced]),
    ):
        counts = Counter(explained[c][0] or "other" for c in chosen if c in explained)
        reasons = [(w.get(f"rule.{rule}", rule), n) for rule, n in sorted(counts.items(), key=lambda r: (-r[1], r[0]))]
        groups.append({"title": w[f"why.{key}"], "total": len(chosen), "reasons": reasons})
    return groups


def _explanation_rows(scenario: Scenario, plan: Plan, explained: Mapping[str, tuple[str, str]],
                      w: Mapping[str, str]) -> list[dict[str, Any]]:
    names = _names(scenario)
    order = {"hvb": 0, "consultant": 1, "unplaced": 2}
    placed = {a.child: a for a in plan.assignments}
    rows: list[dict[str, Any]] = []
    for child, (_, text) in explained.items():
        a = placed.get(child)
        kind = a.kind if a else "unplaced"
        rows.append({"order": (order.get(kind, 3), child), "child": child,
                     "municipality": names.get(scenario.child(child).municipality, ""),
                     "kind": w[f"kind.{kind}"] if a else w["unplaced"], "home": a.home if a else "", "text": text})
    return sorted(rows, key=lambda r: r["order"])


def _core_sentences(cooperation: Mapping[str, Any], scenario: Scenario, w: Mapping[str, str],
                    lang: str) -> list[tuple[str, bool]]:
    names = _names(scenario)
    mkr, _ = _formatters(lang)
    sentences = []
    for method, check in (cooperation.get("core") or {}).items():
        worst = (check or {}).get("worst") or {}
        members = _joined([names.get(m, str(m)) for m in worst.get("members", [])] or ["–"], w)
        excess = float(worst.get("excess", 0.0))
        ok = bool(check.get("in_core"))
        template = w["core.in"] if ok else w["core.out"]
        label = w.get(f"method.{method}", method)
        sentences.append((template.format(method=label, members=members, excess=mkr(abs(excess))), ok))
    return sentences


def _cooperation(data: Mapping[str, Any] | None, scenario: Scenario, w: Mapping[str, str],
                 lang: str) -> dict[str, Any] | None:
    if data is None:
        return None
    names = _names(scenario)
    mkr, _ = _formatters(lang)
    shares = list(data.get("shares", []))
    methods = [m for m in _METHODS if any(s.get(m) is not None for s in shares)]
    rows = []
    for share in shares:
        alone, shapley = share.get("alone"), share.get("shapley")
        saving = None if alone is None or shapley is None else alone - shapley
        rows.append({"name": names.get(share.get("municipality"), str(share.get("municipality"))),
                     "alone": mkr(alone), "shares": [mkr(share.get(m)) for m in methods], "saving": mkr(saving)})
    isolated = (data.get("isolated") or {}).get("yearly_cost")
    pooled = (data.get("pooled") or {}).get("yearly_cost")
    saving = None if isolated is None or pooled is None else isolated - pooled
    intro = w["cooperation.intro"].format(method=data.get("method", "exact"), isolated=mkr(isolated),
                                          pooled=mkr(pooled), saving=mkr(saving))
    return {"intro": intro, "methods": methods, "rows": rows, "core": _core_sentences(data, scenario, w, lang)}


def _recruitment(data: Mapping[str, Any] | None, scenario: Scenario, w: Mapping[str, str],
                 lang: str) -> dict[str, Any] | None:
    if data is None:
        return None
    names = _names(scenario)
    mkr, _ = _formatters(lang)
    homes = [{"name": names.get(h.get("municipality"), str(h.get("municipality"))), "profile": h.get("profile"),
              "count": h.get("count")} for h in data.get("homes", [])]
    lines = []
    training = data.get("training")
    if training:
        lines.append(w["recruitment.training"].format(years=training.get("years"),
                                                      saving=mkr(training.get("yearly_saving_mean"))))
    holdout = data.get("holdout")
    if holdout:
        saving = holdout.get("yearly_saving") or {}
        baselines = ", ".join(f"{name} {mkr((b or {}).get('mean'))}"
                              for name, b in (holdout.get("baselines") or {}).items())
        lines.append(w["recruitment.holdout"].format(years=holdout.get("years"), mean=mkr(saving.get("mean")),
                                                     p10=mkr(saving.get("p10")), p90=mkr(saving.get("p90")),
                                                     baselines=baselines or "–"))
    occupancy = [{"name": names.get(o.get("municipality"), str(o.get("municipality"))), "profile": o.get("profile"),
                  "places": o.get("places"), "used": _number(float(o.get("mean_places_used", 0.0)), 1, lang)}
                 for o in data.get("occupancy", [])]
    intro = w["recruitment.intro"].format(budget=mkr(data.get("budget")), spent=mkr(data.get("spent")),
                                          status=data.get("status", ""))
    return {"intro": intro, "homes": homes, "lines": lines, "occupancy": occupancy}


def _marginal(data: Mapping[str, Any] | None, scenario: Scenario, w: Mapping[str, str],
              lang: str) -> dict[str, Any] | None:
    if data is None:
        return None
    names = _names(scenario)
    mkr, _ = _formatters(lang)
    base = data.get("base") or {}
    base_totals = base.get("totals") or {}
    terms = ["unplaced", "hvb", "consultant"]
    rows = []
    for row in sorted(data.get("rows", []), key=lambda r: -float(r.get("yearly_saving", 0.0))):
        totals = row.get("totals") or {}
        deltas = [_signed(totals.get(t), base_totals.get(t)) for t in terms]
        rows.append({"name": names.get(row.get("municipality"), str(row.get("municipality"))),
                     "profile": row.get("profile"), "saving": mkr(row.get("yearly_saving")), "deltas": deltas})
    intro = w["marginal.intro"].format(base=mkr(base.get("yearly_cost")))
    return {"intro": intro, "rows": rows, "terms": [w.get(f"short.{t}", w.get(t, t)) for t in terms]}


def _signed(value: Any, base: Any) -> str:
    if not isinstance(value, (int, float)) or not isinstance(base, (int, float)):
        return "–"
    change = value - base
    return f"{change:+g}".replace("-", "−") if change else "0"


def _marks(recruitment: Mapping[str, Any] | None, marginal: Mapping[str, Any] | None,
           scenario: Scenario) -> list[tuple[str, str]]:
    """Recommended homes on the map: the recruitment plan's, else the largest marginal values."""
    known = {m.code for m in scenario.region.municipalities}
    counts: Counter[tuple[str, str]] = Counter()
    for home in (recruitment or {}).get("homes", []):
        counts[str(home.get("municipality")), str(home.get("profile"))] += int(home.get("count", 1))
    if not counts and marginal:
        best = sorted(marginal.get("rows", []), key=lambda r: -float(r.get("yearly_saving", 0.0)))[:_MARKS]
        for row in best:
            if float(row.get("yearly_saving", 0.0)) > 0:
                counts[str(row.get("municipality")), str(row.get("profile"))] += 1
    by_place: dict[str, list[str]] = {}
    for (code, profile), n in sorted(counts.items()):
        if code in known:
            by_place.setdefault(code, []).append(f"{n}× {profile}")
    return [(code, ", ".join(labels)) for code, labels in by_place.items()]


def _map_data(scenario: Scenario, plan: Plan, marks: list[tuple[str, str]]) -> MapData:
    shade = {}
    for row in plan.by_municipality(scenario):
        if row.children:
            shade[row.code] = yearly(row.cost_per_day, row.unplaced, scenario.policy) / row.children
    flows: Counter[tuple[str, str]] = Counter()
    for a in plan.assignments:
        start, end = scenario.child(a.child).municipality, scenario.home(a.home).municipality
        if start != end:
            flows[start, end] += 1
    return MapData(region=scenario.region, shade=shade, flows=[(a, b, n) for (a, b), n in sorted(flows.items())],
                   marks=marks)


def _placed_outside(scenario: Scenario, plan: Plan) -> int:
    """Children placed in homes outside the bordered area the map shows (0 without borders)."""
    borders = borders_of(scenario.region)
    if not borders:
        return 0
    return sum(scenario.home(a.home).municipality not in borders for a in plan.assignments)


def _version() -> str:
    try:
        return version("placering")
    except PackageNotFoundError:
        return "(source)"


def render_report(
    scenario: Scenario,
    plan: Plan,
    *,
    cooperation: Mapping[str, Any] | None = None,
    recruitment: Mapping[str, Any] | None = None,
    marginal: Mapping[str, Any] | None = None,
    lang: str = "en",
) -> str:
    """The report as HTML text. ``cooperation``, ``recruitment`` and ``marginal`` are the parsed
    ``placering.cooperation/1``, ``placering.recruitment/1`` and ``placering.marginal/1`` files."""
    if lang not in LANGUAGES:
        raise InvalidInputError(f"lang must be one of {LANGUAGES}, got {lang!r}", field="lang")
    jinja2 = require("jinja2", "report", "the HTML report")
    _check_matches(scenario, plan)
    w = words(lang)
    explained = _explained(scenario, plan)
    headline, rows = _headline_and_rows(scenario, plan, lang)
    region = scenario.region.name.capitalize() if scenario.region.name.islower() else scenario.region.name
    status = w.get(f"status.{plan.status}", plan.status)
    unplaced_price = _number(scenario.policy.costs_per_day.unplaced, 0, lang)
    context = {
        "lang": lang,
        "w": w,
        "region": region,
        "subtitle": w["subtitle"].format(region=region, children=len(scenario.children), homes=len(scenario.homes),
                                         status=status),
        "kinds": KINDS,
        "headline": headline,
        "rows": rows,
        "why": _why(plan, explained, w),
        "explanations": _explanation_rows(scenario, plan, explained, w),
        "map_svg": jinja2.utils.markupsafe.Markup(
            map_svg(_map_data(scenario, plan, _marks(recruitment, marginal, scenario)), w)
        ),
        "has_borders": bool(borders_of(scenario.region)),
        "outside": _placed_outside(scenario, plan),
        "source": source_line(scenario.region, lang),
        "cooperation": _cooperation(cooperation, scenario, w, lang),
        "recruitment": _recruitment(recruitment, scenario, w, lang),
        "marginal": _marginal(marginal, scenario, w, lang),
        "footer": w["footer"].format(version=_version(), unplaced=unplaced_price),
    }
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("placering", "templates"), autoescape=True, undefined=jinja2.StrictUndefined
    )
    html: str = environment.get_template("report.html.j2").render(context)
    logger.info("rendered the report: %d children, %d explanations", len(scenario.children), len(explained))
    return html


def write_report(path: str | os.PathLike[str], scenario: Scenario, plan: Plan, **options: Any) -> None:
    """Render the report and write it atomically, readable by its owner only."""
    from placering.io import write_bytes

    write_bytes(path, render_report(scenario, plan, **options).encode("utf-8"))
