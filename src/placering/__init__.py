"""placering: optimal placement of children in out-of-home care.

Matches children to kin homes, the municipalities' own family homes, consultant-supported
homes and HVB units under the rules of design.md section 2, minimising unplaced children,
then HVB, then consultant placements, then cost, then distance; and explains every expensive
placement.
"""

from placering.checks import Violation, check_plan
from placering.children import Child
from placering.eligibility import eligible, eligible_homes, exclusion
from placering.exceptions import InvalidInputError, PlaceringError, SolverError
from placering.homes import Home
from placering.io import (
    load_region,
    plan_from_dict,
    plan_to_dict,
    read_plan,
    read_scenario,
    scenario_digest,
    scenario_from_dict,
    scenario_to_dict,
    write_json,
)
from placering.params import SolveParams, Tuning
from placering.policy import KINDS, TERMS, Policy
from placering.region import Municipality, Region, Road
from placering.result import (
    Assignment,
    Explanation,
    MunicipalityBreakdown,
    Plan,
    SolverStats,
    StageStats,
    Totals,
    Unplacement,
)
from placering.scenario import Scenario
from placering.solve import solve
from placering.synth import generate

__all__ = [
    "KINDS",
    "TERMS",
    "Assignment",
    "Child",
    "Explanation",
    "Home",
    "InvalidInputError",
    "Municipality",
    "MunicipalityBreakdown",
    "PlaceringError",
    "Plan",
    "Policy",
    "Region",
    "Road",
    "Scenario",
    "SolveParams",
    "SolverError",
    "SolverStats",
    "StageStats",
    "Totals",
    "Tuning",
    "Unplacement",
    "Violation",
    "check_plan",
    "eligible",
    "eligible_homes",
    "exclusion",
    "generate",
    "load_region",
    "plan_from_dict",
    "plan_to_dict",
    "read_plan",
    "read_scenario",
    "scenario_digest",
    "scenario_from_dict",
    "scenario_to_dict",
    "solve",
    "write_json",
]
