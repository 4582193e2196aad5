"""Demand years: the children a recruitment plan is weighed against (design.md section 9).

Either scenario files (one region and one set of non-kin homes, children that differ) or
years drawn from the region's calibration that keep the first scenario's municipal,
consultant and HVB homes and draw new children and their kin homes.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from placering.exceptions import InvalidInputError
from placering.scenario import Scenario

__all__ = ["MAX_YEARS", "check_years", "sampled_years"]

#: The most demand years one plan is weighed against (training and held out each).
MAX_YEARS = 1000


def _non_kin(scenario: Scenario) -> list[object]:
    return [h for h in scenario.homes if h.kind != "kin"]


def check_years(years: Sequence[Scenario], names: Sequence[str] | None = None) -> tuple[Scenario, ...]:
    """The years, unless they differ in region, policy or non-kin homes (invalid input naming
    the year, by ``names`` when given, else by its position from 1)."""
    if not years:
        raise InvalidInputError("needs at least one demand year", entity="recruitment", field="years")
    if len(years) > MAX_YEARS:
        raise InvalidInputError(f"takes at most {MAX_YEARS} demand years, got {len(years)}",
                                entity="recruitment", field="years")
    first = years[0]
    homes = _non_kin(first)
    for k, year in enumerate(years[1:], start=2):
        name = names[k - 1] if names else f"demand year {k}"
        for field, same in (
            ("region", year.region == first.region),
            ("policy", year.policy == first.policy),
            ("homes", _non_kin(year) == homes),
        ):
            if not same:
                raise InvalidInputError(f"has another {field} than the first demand year", entity=name, field=field)
    return tuple(years)


def sampled_years(scenario: Scenario, count: int, seed: int, *, first: int = 0) -> tuple[Scenario, ...]:
    """``count`` demand years drawn for the homes of ``scenario`` (years ``first`` to
    ``first + count - 1`` of ``seed``'s sequence): as many children each, new kin homes and
    ongoing placements, the scenario's region, policy and other homes. Deterministic per seed;
    held-out years are the same sequence continued, so they never repeat a training year."""
    from placering.synth import redraw_demand

    if not 0 <= count <= MAX_YEARS:
        raise InvalidInputError(f"must be 0-{MAX_YEARS} demand years, got {count}", entity="recruitment",
                                field="sample")
    return tuple(
        attrs.evolve(redraw_demand(scenario, _year_seed(seed, first + k)), policy=scenario.policy)
        for k in range(count)
    )


def _year_seed(seed: int, k: int) -> int:
    # One seed a year, far apart for neighbouring seeds, so seed 1's years are not seed 2's shifted.
    return (seed * 1_000_003 + k) % (2**63)
