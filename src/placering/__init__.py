"""placering: optimal placement of children in out-of-home care.

Matches children to kin homes, the municipalities' own family homes, consultant-supported
homes and HVB units under the rules of design.md section 2, minimising unplaced children,
then HVB, then consultant placements, then cost, then distance; and explains every expensive
placement.
"""

from placering.checks import Violation, check_plan
from placering.children import Child
from placering.comparison import PlanComparison, compare_plans, municipality_yearly_costs, yearly_cost
from placering.cooperation import Cooperation, cooperate, cooperation_to_dict, restrict
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
from placering.sweep import Outcome, solve_variants
from placering.synth import generate

__all__ = [
    "KINDS",
    "TERMS",
    "Assignment",
    "Child",
    "Cooperation",
    "Explanation",
    "Home",
    "InvalidInputError",
    "Municipality",
    "MunicipalityBreakdown",
    "Outcome",
    "PlaceringError",
    "Plan",
    "PlanComparison",
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
    "compare_plans",
    "cooperate",
    "cooperation_to_dict",
    "eligible",
    "eligible_homes",
    "exclusion",
    "generate",
    "load_region",
    "municipality_yearly_costs",
    "plan_from_dict",
    "plan_to_dict",
    "read_plan",
    "read_scenario",
    "restrict",
    "scenario_digest",
    "scenario_from_dict",
    "scenario_to_dict",
    "solve",
    "solve_variants",
    "write_json",
    "yearly_cost",
]
