"""Yearly cost in kronor (design.md section 7): the one place that turns per-day costs into a year.

``yearly_cost = 365 × (cost_per_day + unplaced × policy.costs_per_day.unplaced)``. The
``unplaced`` price (default 8 000 kr per dygn) is read from the policy when the policy has it.
"""

from __future__ import annotations

from placering.policy import Policy
from placering.result import DAYS_PER_YEAR

__all__ = ["DEFAULT_UNPLACED_PER_DAY", "unplaced_per_day", "yearly_cost"]

#: What one day of a child left without a placement costs, when the policy does not say
#: (design.md section 7: an emergency place outside the scenario's homes).
DEFAULT_UNPLACED_PER_DAY = 8000


def unplaced_per_day(policy: Policy) -> float:
    """The policy's per-day price of an unplaced child, or the default."""
    price = getattr(policy.costs_per_day, "unplaced", None)
    return DEFAULT_UNPLACED_PER_DAY if price is None else float(price)


def yearly_cost(cost_per_day: float, unplaced: int, policy: Policy) -> float:
    """Kronor per year of placements costing ``cost_per_day`` and ``unplaced`` children."""
    return DAYS_PER_YEAR * (cost_per_day + unplaced * unplaced_per_day(policy))
