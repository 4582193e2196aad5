"""A warm start: what one solve hands to the solve of a variant of its scenario.

A what-if (one more home, a consultant home taken back) changes a few homes and keeps the
children, so most of what the base solve learnt still holds: its plan is a plan of the variant
wherever its arcs and places still exist, and the arcs its column generation took in are the
ones the variant's will want. Both are kept by child and home id, so they carry over however
the variant's arcs are numbered. A start only shortens the way to the optimum: the plan is an
incumbent (it settles a stage only where it meets that stage's bound) and the arcs are where
pricing begins, so the result is the variant's exact optimum either way.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import numpy as np

from placering.matching.model import Arcs, MatchingModel
from placering.scenario import Scenario

__all__ = ["WarmStart", "start_arcs", "start_plan", "warm_start", "with_arcs_of"]


@attrs.frozen(kw_only=True, eq=False)
class WarmStart:
    """A solve's plan (each placed child's home id) and, when it priced its arcs, the arcs its
    restricted program held: ``arc_unit`` indexes ``units`` (each unit's first child id),
    ``arc_home`` indexes ``homes`` (home ids)."""

    home_of: Mapping[str, str]
    units: tuple[str, ...] = ()
    homes: tuple[str, ...] = ()
    arc_unit: np.ndarray = attrs.field(factory=lambda: np.zeros(0, dtype=np.int64))
    arc_home: np.ndarray = attrs.field(factory=lambda: np.zeros(0, dtype=np.int64))


def warm_start(scenario: Scenario, model: MatchingModel, home_of: Mapping[str, str], *, priced: bool) -> WarmStart:
    """The start a solve of ``scenario`` on ``model`` leaves, with the plan ``home_of``."""
    if not priced:
        return WarmStart(home_of=dict(home_of))
    return WarmStart(
        home_of=dict(home_of),
        units=tuple(scenario.children[unit.members[0]].id for unit in model.units),
        homes=tuple(home.id for home in scenario.homes),
        arc_unit=np.asarray(model.arc_unit, dtype=np.int64),
        arc_home=np.asarray(model.arc_home, dtype=np.int64),
    )


def with_arcs_of(start: WarmStart, other: WarmStart) -> WarmStart:
    """``start``'s plan with the arcs of both: what pricing took in for one variant is where
    the next variant's pricing begins too (an arc whose child or home a variant lacks is
    left out when it starts)."""
    if not len(other.arc_unit):
        return start
    unit_at, home_at = _at(start.units, other.units), _at(start.homes, other.homes)
    units, homes = tuple(unit_at), tuple(home_at)
    unit = np.concatenate([start.arc_unit, _index(other.units, unit_at)[other.arc_unit]])
    home = np.concatenate([start.arc_home, _index(other.homes, home_at)[other.arc_home]])
    pairs = np.unique(unit * len(homes) + home)
    return attrs.evolve(
        start, units=units, homes=homes, arc_unit=pairs // len(homes), arc_home=pairs % len(homes)
    )


def _at(names: tuple[str, ...], more: tuple[str, ...]) -> dict[str, int]:
    """Each of ``names``, then each new one of ``more``, with its position (in that order)."""
    at: dict[str, int] = {}
    for name in (*names, *more):
        at.setdefault(name, len(at))
    return at


def _positions(scenario: Scenario, arcs: Arcs, unit: np.ndarray, home: np.ndarray) -> np.ndarray:
    """The arc in ``arcs`` of each ``unit`` (a unit's index, -1 none) and ``home`` (a home's
    index in the scenario), or -1 where it has none."""
    keys = np.where((unit >= 0) & (home >= 0), unit * len(scenario.homes) + home, -1)
    if not len(arcs):
        return np.full(len(keys), -1, dtype=np.int64)
    arc_keys = arcs.unit.astype(np.int64) * len(scenario.homes) + arcs.home  # ascending: sorted by unit, then home
    at = np.minimum(np.searchsorted(arc_keys, keys), len(arc_keys) - 1)
    return np.where((keys >= 0) & (arc_keys[at] == keys), at, -1)


def _index(names: tuple[str, ...], of: dict[str, int]) -> np.ndarray:
    return np.asarray([of.get(name, -1) for name in names], dtype=np.int64)


def start_arcs(start: WarmStart, scenario: Scenario, arcs: Arcs) -> np.ndarray:
    """The start's arcs that ``arcs`` has, as a mask over them (none if it priced no arcs)."""
    keep = np.zeros(len(arcs), dtype=bool)
    if len(start.arc_unit):
        units = _index(start.units, {scenario.children[unit.members[0]].id: u for u, unit in enumerate(arcs.units)})
        homes = _index(start.homes, {home.id: j for j, home in enumerate(scenario.homes)})
        found = _positions(scenario, arcs, units[start.arc_unit], homes[start.arc_home])
        keep[found[found >= 0]] = True
    return keep


def start_plan(start: WarmStart, scenario: Scenario, arcs: Arcs) -> np.ndarray | None:
    """The start's plan as each unit's arc in ``arcs`` (-1: unplaced), or ``None`` when it is no
    plan here: a unit's members apart, an arc the variant lacks, or a home over its places."""
    home_index = {home.id: j for j, home in enumerate(scenario.homes)}
    wanted = np.full(len(arcs.units), -1, dtype=np.int64)
    for u, unit in enumerate(arcs.units):
        homes = {start.home_of.get(scenario.children[m].id) for m in unit.members}
        if len(homes) > 1:
            return None
        home = homes.pop()
        if home is not None:
            if home not in home_index:
                return None
            wanted[u] = home_index[home]
    placed = _positions(scenario, arcs, np.arange(len(arcs.units), dtype=np.int64), wanted)
    on = placed >= 0
    if (on != (wanted >= 0)).any():
        return None
    load = np.bincount(arcs.home[placed[on]], weights=arcs.unit_size[on], minlength=len(arcs.free_places))
    if (load > np.asarray(arcs.free_places)).any():
        return None
    return placed
