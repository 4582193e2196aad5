"""The report's map as inline SVG (matplotlib): municipalities shaded by yearly cost per child,
placements across municipal borders as lines as wide as their number of children, and
recommended new homes as stars.

Borders come from ``regions/NAME.geojson`` when the region is a shipped one that has them
(Dalarna, SCB open data); any other region is drawn as its seats. Each municipality's shape or
seat is an SVG group with the id ``municipality-CODE``, each line ``flow-FROM-TO``.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

import attrs

from placering._extras import require
from placering.region import Region

__all__ = ["MapData", "borders_of", "map_svg", "source_line"]

Ring = tuple[tuple[float, float], ...]

#: Colours: a sequential map for cost, a muted blue for the lines, grey for no data.
_COLORMAP = "YlOrRd"
_LINE = "#1f4e79"
_NO_DATA = "#e6e6e6"
_EDGE = "#555555"
#: Names stay legible over the lines.
_LABEL_BOX = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.75}
#: The widest line in points; more children than this draw at this width, scaled proportionally.
_MAX_WIDTH = 14.0


@attrs.frozen(kw_only=True)
class MapData:
    """What the map shows, in the region's codes."""

    region: Region
    shade: Mapping[str, float]
    flows: Sequence[tuple[str, str, int]] = ()
    marks: Sequence[tuple[str, str]] = ()


@cache
def _geojson(name: str) -> dict[str, Any] | None:
    path = resources.files("placering") / "regions" / f"{name}.geojson"
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def borders_of(region: Region) -> dict[str, list[Ring]]:
    """Each municipality's outer rings (lon, lat), when ``region`` holds a shipped region with
    borders: every one of its municipalities as shipped (the demo adds the national market's
    towns outside Dalarna to Dalarna's fifteen; those have no borders here)."""
    from placering.io import load_region, shipped_regions

    if region.name not in shipped_regions():
        return {}
    own = {m.code: m for m in region.municipalities}
    if any(own.get(m.code) != m for m in load_region(region.name).municipalities):
        return {}
    data = _geojson(region.name)
    if data is None:
        return {}
    borders: dict[str, list[Ring]] = {}
    for feature in data["features"]:
        geometry = feature["geometry"]
        polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        borders[feature["properties"]["code"]] = [tuple((x, y) for x, y in polygon[0]) for polygon in polygons]
    return borders


def source_line(region: Region, lang: str) -> str:
    """Where the region's borders come from, in ``lang``; empty without borders."""
    data = _geojson(region.name) if borders_of(region) else None
    source = (data or {}).get("source", {})
    return str(source.get(lang, "")) if isinstance(source, dict) else ""


def _widths(flows: Sequence[tuple[str, str, int]]) -> float:
    """Points of line width per child: one, unless the largest flow would be wider than the maximum."""
    largest = max((n for _, _, n in flows), default=1)
    return min(1.0, _MAX_WIDTH / largest)


def _draw_areas(ax: Any, data: MapData, borders: Mapping[str, list[Ring]], project: Any, colour: Any) -> None:
    from matplotlib.patches import Polygon

    for m in data.region.municipalities:
        rings = borders.get(m.code)
        if rings is None:
            continue
        fill = colour(data.shade[m.code]) if m.code in data.shade else _NO_DATA
        for i, ring in enumerate(rings):
            patch = Polygon([project(x, y) for x, y in ring], closed=True, facecolor=fill, edgecolor=_EDGE,
                            linewidth=0.6, zorder=1)
            patch.set_gid(f"municipality-{m.code}" if i == 0 else f"municipality-{m.code}-{i}")
            ax.add_patch(patch)


def _draw_seats(ax: Any, data: MapData, borders: Mapping[str, list[Ring]], used: set[str], project: Any,
                colour: Any) -> None:
    for m in data.region.municipalities:
        x, y = project(m.lon, m.lat)
        if m.code in borders:
            ax.text(x, y, m.name, fontsize=7.5, ha="center", va="center", color="#222222", zorder=5, bbox=_LABEL_BOX)
            continue
        if m.code not in data.shade and m.code not in used:
            continue
        fill = colour(data.shade[m.code]) if m.code in data.shade else _NO_DATA
        size = 120 if m.code in data.shade else 25
        points = ax.scatter([x], [y], s=size, c=[fill], edgecolors=_EDGE, linewidths=0.6, zorder=4)
        points.set_gid(f"municipality-{m.code}")
        ax.text(x, y - 0.045, m.name, fontsize=7, ha="center", va="top", color="#222222", zorder=5,
                bbox=_LABEL_BOX)


def _draw_flows(ax: Any, data: MapData, project: Any) -> None:
    """One curved line per direction, so that placements both ways between two places both show."""
    from matplotlib.patches import FancyArrowPatch

    places = {m.code: m for m in data.region.municipalities}
    scale = _widths(data.flows)
    for a, b, n in sorted(data.flows, key=lambda f: -f[2]):
        line = FancyArrowPatch(project(places[a].lon, places[a].lat), project(places[b].lon, places[b].lat),
                               arrowstyle="-", connectionstyle="arc3,rad=0.12", color=_LINE, alpha=0.45,
                               linewidth=max(0.5, n * scale), capstyle="round", zorder=3)
        line.set_gid(f"flow-{a}-{b}")
        ax.add_patch(line)


def _draw_marks(ax: Any, data: MapData, project: Any) -> None:
    places = {m.code: m for m in data.region.municipalities}
    for code, label in data.marks:
        x, y = project(places[code].lon, places[code].lat)
        star = ax.scatter([x + 0.06], [y + 0.04], marker="*", s=160, c="#2e7d32", edgecolors="white",
                          linewidths=0.6, zorder=6)
        star.set_gid(f"recommended-{code}")
        ax.text(x + 0.11, y + 0.04, label, fontsize=6, color="#1b5e20", va="center", zorder=6)


def _legend(ax: Any, data: MapData, words: Mapping[str, str]) -> None:
    from matplotlib.lines import Line2D

    handles = []
    if data.flows:
        scale = _widths(data.flows)
        largest = max(n for _, _, n in data.flows)
        for n in sorted({1, max(1, largest // 2), largest}):
            label = words["map.child_line" if n == 1 else "map.children_line"].format(n=n)
            handles.append(Line2D([], [], color=_LINE, alpha=0.45, linewidth=max(0.5, n * scale), label=label))
    if data.marks:
        handles.append(Line2D([], [], marker="*", markersize=10, color="#2e7d32", linestyle="",
                              label=words["map.recommended"]))
    handles.append(Line2D([], [], marker="s", markersize=8, color=_NO_DATA, markeredgecolor=_EDGE, linestyle="",
                          label=words["map.no_children"]))
    ax.legend(handles=handles, loc="lower left", fontsize=7.5, frameon=True, framealpha=0.9)


def map_svg(data: MapData, words: Mapping[str, str]) -> str:
    """The map as an SVG document (text), with no external reference."""
    matplotlib = require("matplotlib", "report", "the report's map")
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    borders = borders_of(data.region)
    if borders:
        # A map of the bordered area: towns outside it (the national market) would shrink it
        # to a corner of Sweden, so their placements are counted in the caption instead.
        data = attrs.evolve(
            data,
            flows=[f for f in data.flows if f[0] in borders and f[1] in borders],
            marks=[m for m in data.marks if m[0] in borders],
            shade={code: v for code, v in data.shade.items() if code in borders},
        )
    used = {code for a, b, _ in data.flows for code in (a, b)} | {code for code, _ in data.marks}
    lats = [m.lat for m in data.region.municipalities if m.code in borders or m.code in used or m.code in data.shade]
    middle = math.radians(sum(lats) / len(lats)) if lats else 0.0

    def project(lon: float, lat: float) -> tuple[float, float]:
        return lon * math.cos(middle), lat

    values = list(data.shade.values())
    norm = Normalize(vmin=min(values, default=0.0) / 1000, vmax=max(max(values, default=1.0) / 1000, 1.0))
    cmap = matplotlib.colormaps[_COLORMAP]

    def colour(value: float) -> Any:
        return cmap(norm(value / 1000))

    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "placering", "font.family": "sans-serif"}):
        figure = Figure(figsize=(6.4, 7.2), layout="constrained")
        ax = figure.add_subplot()
        _draw_areas(ax, data, borders, project, colour)
        _draw_flows(ax, data, project)
        _draw_seats(ax, data, borders, used, project, colour)
        _draw_marks(ax, data, project)
        _legend(ax, data, words)
        ax.set_aspect("equal")
        ax.autoscale_view()
        ax.margins(0.04)
        ax.axis("off")
        bar = figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.45, pad=0.01)
        bar.set_label(words["map.colorbar"], fontsize=8)
        bar.ax.tick_params(labelsize=7.5)
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    svg = out.getvalue()
    # Inline in HTML: no XML declaration or DOCTYPE, and no metadata block.
    svg = svg[svg.index("<svg"):]
    return re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)
