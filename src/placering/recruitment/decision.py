"""A recruitment decision: how many homes of each profile each municipality recruits.

``Recruitment.homes`` lists ``(municipality, profile, count)`` with positive counts, in the
members' order and then the profiles' order, so that two equal decisions compare equal and
print alike. ``apply`` adds the homes to a demand year: a home recruited in ``m`` lies in ``m``
and is owned by ``m`` (design.md section 9), with the id ``recruited-<m>-<profile>-<k>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs

from placering.exceptions import InvalidInputError
from placering.recruitment.profiles import Profile
from placering.scenario import Scenario

__all__ = ["Recruitment", "oere", "recruited_id"]


def oere(kr: float) -> int:
    """An amount in kr as whole öre: budgets and recruitment costs are compared exactly in these."""
    return round(kr * 100)


def recruited_id(municipality: str, profile: str, k: int) -> str:
    """The id of the ``k``-th home (from 1) of ``profile`` recruited in ``municipality``."""
    return f"recruited-{municipality}-{profile}-{k}"


@attrs.frozen(kw_only=True)
class Recruitment:
    """Homes to recruit: ``homes`` is ``((municipality, profile name, count), ...)``, counts > 0."""

    homes: tuple[tuple[str, str, int], ...] = ()

    @classmethod
    def of(
        cls, counts: Mapping[tuple[str, str], int], members: Sequence[str], profiles: Sequence[Profile]
    ) -> Recruitment:
        """The decision with ``counts[(municipality, profile name)]`` homes, in a canonical order."""
        known = {(m, p.name) for m in members for p in profiles}
        for key, count in counts.items():
            if key not in known:
                raise InvalidInputError(f"names no member and profile {key!r}", entity="recruitment", field="homes")
            if count < 0:
                raise InvalidInputError(f"count must be >= 0, got {count}", entity="recruitment", field="homes")
        return cls(
            homes=tuple(
                (m, p.name, counts[m, p.name])
                for m in members
                for p in profiles
                if counts.get((m, p.name), 0) > 0
            )
        )

    def count(self, municipality: str, profile: str) -> int:
        return next((c for m, p, c in self.homes if m == municipality and p == profile), 0)

    @property
    def total(self) -> int:
        """How many homes are recruited."""
        return sum(c for _, _, c in self.homes)

    def spent(self, profiles: Iterable[Profile]) -> float:
        """What recruiting these homes costs, in kr."""
        cost = {p.name: oere(p.recruitment_cost) for p in profiles}
        return sum(cost[p] * c for _, p, c in self.homes) / 100

    def apply(self, year: Scenario, profiles: Iterable[Profile]) -> Scenario:
        """``year`` with the recruited homes appended, in the order of ``homes``."""
        by_name = {p.name: p for p in profiles}
        taken = {h.id for h in year.homes}
        new = []
        for m, name, count in self.homes:
            for k in range(1, count + 1):
                home_id = recruited_id(m, name, k)
                if home_id in taken:
                    raise InvalidInputError(
                        "is a recruited home's id already used by a home of the scenario",
                        entity=f"home {home_id!r}", field="id",
                    )
                new.append(by_name[name].home(m, home_id))
        return attrs.evolve(year, homes=[*year.homes, *new]) if new else year
