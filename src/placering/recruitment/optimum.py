"""The recruitment plan's optimum (design.md section 9): how many homes of each profile each
member recruits, under a budget, so that the policy's lexicographic objective over the totals
summed across the demand years is least.

(Implementation in progress.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs

from placering.params import SolveParams
from placering.recruitment.decision import Recruitment
from placering.recruitment.profiles import Profile
from placering.result import Plan, Totals
from placering.scenario import Scenario

__all__ = ["DEFAULT_MAX_PER_MUNICIPALITY", "Optimum", "optimal_recruitment"]

#: The most homes of one profile one municipality recruits, unless said otherwise.
DEFAULT_MAX_PER_MUNICIPALITY = 5


@attrs.frozen(kw_only=True)
class Optimum:
    """The best recruitment found and what it gives on the training years.

    ``status`` is ``optimal`` only when the lexicographic optimum over the summed totals is
    proven, else ``feasible`` with ``bounds``: a certified lower bound on each summed term not
    proven (the names of :attr:`Plan.bounds`). ``plans[k]`` is year ``k``'s optimal plan with
    the recruited homes (its scenario is ``recruitment.apply(years[k], profiles)``); ``base[k]``
    year ``k``'s plan without them. ``totals`` sums the ``plans``' totals.
    """

    status: str
    recruitment: Recruitment
    spent: float
    totals: Totals
    bounds: Mapping[str, float]
    plans: tuple[Plan, ...]
    base: tuple[Plan, ...]
    seconds: float


def optimal_recruitment(
    years: Sequence[Scenario],
    profiles: Sequence[Profile],
    budget: float,
    *,
    members: Iterable[str] | None = None,
    max_per_municipality: int = DEFAULT_MAX_PER_MUNICIPALITY,
    params: SolveParams | None = None,
) -> Optimum:
    """The recruitment of design.md section 9 over ``years`` (checked alike by
    :func:`placering.recruitment.demand.check_years`); ``members`` default as in section 8,
    of the first year. Among equally good recruitments, the one that spends least."""
    raise NotImplementedError
