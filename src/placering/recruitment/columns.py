"""Pricing the arcs a recruitment program left out, against its LP relaxation.

A demo year has some 30 000 arcs, and twenty of them with every candidate home make a program
SCIP does not finish (740 000 variables). The program starts instead from each unit's few best
arcs (:func:`placering.recruitment.program.short_list`) and grows by column generation: the LP
relaxation of the program so far gives row duals, and every left-out arc of every year is
priced in numpy (``reduced cost = cost - sum(row coefficient * dual)``). When none prices
below zero, the LP's value, corrected by every reduced cost below zero (weak duality, so
float noise cannot make it too high), is a lower bound for the whole program. An arc priced
above ``incumbent - bound`` is used by no solution at least as good as the incumbent, so a
program holding every other arc has the whole program's optimum (reduced-cost fixing).
"""

from __future__ import annotations

import attrs
import numpy as np

from placering.matching.model import ARC_TERMS, Arcs
from placering.recruitment.program import Program

__all__ = ["RowIndex", "arc_costs", "reduced_costs"]


@attrs.frozen
class RowIndex:
    """Where each year's rows are among the program's (as StageMIP numbers them)."""

    eo_start: tuple[int, ...]
    cap_row: tuple[dict[int, int], ...]  # per year: home -> row
    rows_start: int

    @classmethod
    def of(cls, program: Program) -> RowIndex:
        eo_start, n_eo = [], 0
        for y in program.years:
            eo_start.append(n_eo)
            n_eo += len(y.model.program.exactly_one)
        cap_row: list[dict[int, int]] = []
        row = n_eo
        for y in program.years:
            m = y.model
            rows = {}
            for term, _ in m.program.capacity:
                rows[m.arc_home[term.vars[0]]] = row
                row += 1
            cap_row.append(rows)
        implications = sum(len(y.model.program.implications) for y in program.years)
        implications += sum(max(len(zs) - 1, 0) for zs in program.z)
        covers = sum(len(y.model.program.covers) for y in program.years)
        return cls(eo_start=tuple(eo_start), cap_row=tuple(cap_row), rows_start=row + implications + covers)


def arc_costs(arcs: Arcs, stage: list[tuple[str, int]]) -> np.ndarray:
    """Each arc's coefficient in a stage's weighted sum: the unit's size times its terms."""
    size = arcs.unit_size[arcs.unit].astype(float)
    total = np.zeros(len(arcs), dtype=float)
    for name, weight in stage:
        if name in ARC_TERMS:
            total += weight * arcs.per_child[name].astype(float)
    return total * size


def reduced_costs(
    program: Program,
    index: RowIndex,
    duals: np.ndarray,
    stage: list[tuple[str, int]],
    proven: list[list[tuple[str, int]]],
) -> list[np.ndarray]:
    """Each year's reduced cost of every one of its arcs, in the program or not, at ``duals``
    (the proven stages' rows follow the program's ``rows``, in order)."""
    stage_row = index.rows_start + len(program.rows)
    out = []
    for k, y in enumerate(program.years):
        arcs = y.arcs.arcs
        n_homes = len(y.arcs.scenario.homes)
        size = arcs.unit_size[arcs.unit].astype(float)
        rc = arc_costs(arcs, stage)
        for p, earlier in enumerate(proven):
            rc -= arc_costs(arcs, earlier) * duals[stage_row + p]
        rc -= duals[index.eo_start[k] + arcs.unit]
        place = np.zeros(n_homes)
        for home, row in index.cap_row[k].items():
            place[home] += duals[row]
        groups = np.zeros(n_homes)
        for row, (year, home) in program.place_of_row.items():
            if year == k:
                place[home] += duals[index.rows_start + row]
        for row, (year, home) in program.groups_of_row.items():
            if year == k:
                groups[home] += duals[index.rows_start + row]
        rc -= size * place[arcs.home] + (size > 1) * groups[arcs.home]
        out.append(rc)
    return out
