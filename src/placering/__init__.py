"""placering: optimal placement of children in out-of-home care.

Matches children to kin homes, the municipalities' own family homes, consultant-supported
homes and HVB units under the rules of design.md section 2, minimising unplaced children,
then HVB, then consultant placements, then cost, then distance; and explains every expensive
placement.
"""

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from placering.recruitment import Profile, conversions, marginal_values, read_profiles, recruitment_plan
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
    from placering.solve import WarmStart, solve, solve_and_start
    from placering.sweep import Outcome, solve_variants
    from placering.synth import generate

#: Where each public name lives. Loaded on first use, so that ``import placering`` is quick
#: and the command can refuse a bad file, or be interrupted at start-up, in one line.
_HOMES = {
    "Assignment": "placering.result",
    "Child": "placering.children",
    "Cooperation": "placering.cooperation",
    "Explanation": "placering.result",
    "Home": "placering.homes",
    "InvalidInputError": "placering.exceptions",
    "KINDS": "placering.policy",
    "Municipality": "placering.region",
    "MunicipalityBreakdown": "placering.result",
    "Outcome": "placering.sweep",
    "PlaceringError": "placering.exceptions",
    "Plan": "placering.result",
    "Profile": "placering.recruitment",
    "PlanComparison": "placering.comparison",
    "Policy": "placering.policy",
    "Region": "placering.region",
    "Road": "placering.region",
    "Scenario": "placering.scenario",
    "SolveParams": "placering.params",
    "SolverError": "placering.exceptions",
    "SolverStats": "placering.result",
    "StageStats": "placering.result",
    "TERMS": "placering.policy",
    "Totals": "placering.result",
    "Tuning": "placering.params",
    "Unplacement": "placering.result",
    "Violation": "placering.checks",
    "check_plan": "placering.checks",
    "compare_plans": "placering.comparison",
    "cooperate": "placering.cooperation",
    "cooperation_to_dict": "placering.cooperation",
    "eligible": "placering.eligibility",
    "eligible_homes": "placering.eligibility",
    "exclusion": "placering.eligibility",
    "generate": "placering.synth",
    "load_region": "placering.io",
    "conversions": "placering.recruitment",
    "marginal_values": "placering.recruitment",
    "read_profiles": "placering.recruitment",
    "recruitment_plan": "placering.recruitment",
    "municipality_yearly_costs": "placering.comparison",
    "plan_from_dict": "placering.io",
    "plan_to_dict": "placering.io",
    "read_plan": "placering.io",
    "read_scenario": "placering.io",
    "restrict": "placering.cooperation",
    "scenario_digest": "placering.io",
    "scenario_from_dict": "placering.io",
    "scenario_to_dict": "placering.io",
    "solve": "placering.solve",
    "solve_and_start": "placering.solve",
    "WarmStart": "placering.solve",
    "solve_variants": "placering.sweep",
    "write_json": "placering.io",
    "yearly_cost": "placering.comparison",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'placering' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    setattr(sys.modules[__name__], name, value)
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """The package, keeping ``placering.solve`` the function: importing the module of the same
    name would otherwise put the module in its place."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and name in _HOMES:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

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
    "Profile",
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
    "WarmStart",
    "check_plan",
    "compare_plans",
    "conversions",
    "cooperate",
    "cooperation_to_dict",
    "eligible",
    "eligible_homes",
    "exclusion",
    "generate",
    "load_region",
    "marginal_values",
    "municipality_yearly_costs",
    "plan_from_dict",
    "plan_to_dict",
    "read_plan",
    "read_profiles",
    "read_scenario",
    "recruitment_plan",
    "restrict",
    "scenario_digest",
    "scenario_from_dict",
    "scenario_to_dict",
    "solve",
    "solve_and_start",
    "solve_variants",
    "write_json",
    "yearly_cost",
]
