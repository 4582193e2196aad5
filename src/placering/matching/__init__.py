"""The matching of children to homes as an exact lexicographic 0-1 program, one concept a module.

- :mod:`.model`: the program of a scenario: units, arcs, objective terms and stages;
- :mod:`.state`: what the stages so far have proven, shared by every method below;
- :mod:`.flow`: a stage's LP relaxation as a min-cost flow;
- :mod:`.duals`: the flow's node potentials, reduced costs and the fixing they allow;
- :mod:`.split`: making the sibling groups a flow splits whole (dive, branch and bound, parts);
- :mod:`.mip`: settling one independent part by a MIP per stage (SCIP);
- :mod:`.lexicographic`: the stage loop that ties them together;
- :mod:`.pricing`: arcs left out of a program priced against the flows' duals;
- :mod:`.columns`: column generation for national scenarios;
- :mod:`.start`: a warm start, what a solve hands to the solve of a variant of its scenario.

Only :mod:`placering._ortools` imports OR-Tools; everything here is numpy and plain Python.
"""

from placering.matching.columns import by_columns, minimise
from placering.matching.lexicographic import lexicographic_minimum
from placering.matching.model import Arcs, MatchingModel, Unit, all_arcs, build_matching, stages_of
from placering.matching.pricing import Outside, Pricing, arc_prices, price
from placering.matching.start import WarmStart

__all__ = [
    "Arcs",
    "MatchingModel",
    "Outside",
    "Pricing",
    "Unit",
    "WarmStart",
    "all_arcs",
    "arc_prices",
    "build_matching",
    "by_columns",
    "lexicographic_minimum",
    "minimise",
    "price",
    "stages_of",
]
