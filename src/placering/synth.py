"""Seeded synthetic scenarios calibrated to a region (Dalarna by default).

No real child is behind any record here. Every calibration choice sits next to the fact it
comes from; tags as in shared/domain.md: [S] sourced, [D] derived, [E] estimate.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

from placering.children import Child
from placering.eligibility import exclusion
from placering.exceptions import InvalidInputError
from placering.homes import Home
from placering.policy import Policy
from placering.region import Region
from placering.scenario import Scenario

__all__ = ["DEFAULT_CHILDREN", "generate"]

#: A county-sized year: Dalarna ≈520 children in family homes and ≈165 in HVB during a year
#: [E/D, domain.md 3.2], of whom some are already placed; 600 is the matching problem of a
#: planning round that covers most of them.
DEFAULT_CHILDREN = 600

#: Age bands and their shares [E]: about half of all heldygnsinsatser go to children under 15
#: [S, domain.md 3.1], and teenage rates are 3-4x those of 0-12-year-olds [S, 3.1].
AGE_BANDS = ((0, 6, 0.15), (7, 12, 0.22), (13, 14, 0.13), (15, 17, 0.35), (18, 20, 0.15))

#: Care level (1 ordinary, 2 förstärkt, 3 behandling, 4 institutional) by age [E]. HVB takes
#: ≈23 % of placed children nationally (6 100 of 26 500, [S] 3.1), so about a quarter of
#: teenagers need level 3-4. Small children get no level 4: experts hold that 0-9-year-olds
#: should never be in HVB [S, domain.md 4.3].
CARE_BY_AGE = ((9, (0.68, 0.24, 0.08, 0.0)), (12, (0.55, 0.28, 0.13, 0.04)), (20, (0.38, 0.25, 0.21, 0.16)))

#: Need tags (BBIC need areas, domain.md 4.3) and how often a child has each [E].
#: ``substance`` only from age 13.
NEEDS = (("npf", 0.25), ("trauma", 0.35), ("substance", 0.22), ("disability", 0.05))

#: Sibling groups: about a fifth of children are in groups of 2-4 (issue brief; [E]).
SIBLING_SHARE = 0.20
SIBLING_SIZES = ((2, 0.6), (3, 0.3), (4, 0.1))

#: Kin homes for about a fifth of children: "every fifth placed child placed with relatives
#: and friends" (Gävle, [S] 3.1); national share 20-25 % [E].
KIN_SHARE = 0.20

#: Own family homes (egen regi): places for ≈40 % of children. Family homes take 72 % of
#: placed children [S, 3.1]; kin takes a fifth and konsulentstödda ≈13 % [S, 3.1], leaving
#: ≈40 % for own homes. Falun, Borlänge and Ludvika report a shortage of own homes [S, 3.2],
#: so they get 60 % of their share.
MUNICIPAL_SHARE = 0.40
SHORTAGE = {"2080": 0.6, "2081": 0.6, "2085": 0.6}

#: Consultant-supported homes: ≈13 % of placed children [S, 3.1]; the market offers a little
#: more than is bought, 18 % [E]. Cost 1 800-3 500 kr/dygn [S/E, 2.2].
CONSULTANT_SHARE = 0.25

#: HVB places for ≈25 % of children [D: 6 100 / 26 500 nationally, 3.1], in units of 4-10
#: places; 74 % of HVB units are private [S, 2.2] and many lie outside the county [E].
HVB_SHARE = 0.30

#: Children already in a placement they keep (rule 9) [E]: placements last 2-3 years in
#: family homes and 6-12 months in HVB [E, 3.3], so about a third of a year's children are
#: in an ongoing placement when the planning round starts.
CURRENT_SHARE = 0.33

#: Smaller inland municipalities show higher placement rates per capita [E, 3.2].
SMALL_MUNICIPALITY = 15000
SMALL_RATE = 1.25


def _weighted(rng: random.Random, pairs: Sequence[tuple[object, float]]) -> object:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def _age(rng: random.Random) -> int:
    low, high, _ = rng.choices(AGE_BANDS, weights=[w for *_, w in AGE_BANDS])[0]
    return rng.randint(low, high)


def _care_level(rng: random.Random, age: int) -> int:
    for upto, shares in CARE_BY_AGE:
        if age <= upto:
            return int(rng.choices((1, 2, 3, 4), weights=shares)[0])
    raise AssertionError(age)


def _needs(rng: random.Random, age: int, care_level: int) -> frozenset[str]:
    # Heavier care comes with more needs: each tag is 1.5x as likely at level 3-4 [E].
    boost = 1.5 if care_level >= 3 else 1.0
    return frozenset(
        tag for tag, p in NEEDS if (tag != "substance" or age >= 13) and rng.random() < min(1.0, p * boost)
    )


def _near(rng: random.Random, region: Region, origin: str, within: float, pool: Sequence[str]) -> str:
    close = [code for code in pool if region.km(origin, code) <= within]
    return rng.choice(close or [origin])


def generate(region: Region | str = "dalarna", *, children: int = DEFAULT_CHILDREN, seed: int = 0) -> Scenario:
    """A synthetic scenario for ``region`` with about ``children`` children, deterministic in ``seed``.

    Children come from the region's municipalities that have a population (for Dalarna the 15
    in the county), spread by population; homes lie in those municipalities and, for the
    consultant market and HVB, also in the neighbouring towns outside the county.
    """
    from placering.io import load_region

    if isinstance(region, str):
        region = load_region(region)
    if isinstance(children, bool) or not isinstance(children, int) or children < 1:
        raise InvalidInputError(f"children must be an integer >= 1, got {children!r}", entity="generate")
    rng = random.Random(seed)
    home_places = [m.code for m in region.municipalities if m.population]
    if not home_places:  # a region without populations: everybody counts alike
        home_places = [m.code for m in region.municipalities]
    all_places = [m.code for m in region.municipalities]
    weight = {
        code: (region.municipality(code).population or 1)
        * (SMALL_RATE if (region.municipality(code).population or 0) < SMALL_MUNICIPALITY else 1.0)
        for code in home_places
    }

    # Children, with sibling groups drawn as whole families from one municipality.
    kids: list[dict[str, object]] = []
    group_no = 0
    while len(kids) < children:
        place = rng.choices(home_places, weights=[weight[c] for c in home_places])[0]
        size = 1
        if rng.random() < SIBLING_SHARE / 2.6:  # 2.6: mean group size, so a fifth of children are siblings
            size = min(int(_weighted(rng, SIBLING_SIZES)), children - len(kids))  # type: ignore[call-overload]
        group = None
        if size > 1:
            group_no += 1
            group = f"S{group_no:03d}"
        for _ in range(size):
            age = _age(rng)
            care = _care_level(rng, age)
            kids.append(
                {
                    "id": f"C{len(kids) + 1:04d}",
                    "municipality": place,
                    "age": age,
                    "needs": _needs(rng, age, care),
                    "care_level": care,
                    "sibling_group": group,
                    # Some children must stay near school or parents [E]: 15 % get a personal limit.
                    "max_km": rng.choice((40, 60)) if rng.random() < 0.15 else None,
                }
            )

    homes: list[Home] = []

    # Kin homes, one per family with a kin option, near the family, taking the whole group.
    families: dict[str, list[dict[str, object]]] = {}
    for k in kids:
        families.setdefault(str(k["sibling_group"] or k["id"]), []).append(k)
    for members in families.values():
        if rng.random() >= KIN_SHARE or all(m["care_level"] == 4 for m in members):
            continue
        origin = str(members[0]["municipality"])
        needs = frozenset().union(*(m["needs"] for m in members))  # type: ignore[arg-type]
        homes.append(
            Home(
                id=f"KIN{len([h for h in homes if h.kind == 'kin']) + 1:03d}",
                kind="kin",
                municipality=_near(rng, region, origin, 60, home_places),
                capacity=len(members),
                # Relatives often lack training for specific needs [E]: 60 % cover them.
                competences=needs if rng.random() < 0.6 else frozenset(),
                max_care_level=2 if rng.random() < 0.3 else 1,
                reserved_for=frozenset(str(m["id"]) for m in members),
            )
        )

    demand = Counter(str(k["municipality"]) for k in kids)

    def competences(rates: dict[str, float]) -> frozenset[str]:
        return frozenset(tag for tag, p in rates.items() if rng.random() < p)

    # Own family homes, per municipality, short where the shortage is reported.
    n = 0
    for code in home_places:
        places = round(demand[code] * MUNICIPAL_SHARE * SHORTAGE.get(code, 1.0))
        while places > 0:
            capacity = min(places, int(_weighted(rng, ((1, 0.5), (2, 0.35), (3, 0.15)))))  # type: ignore[call-overload]
            places -= capacity
            n += 1
            young_only = rng.random() < 0.3
            homes.append(
                Home(
                    id=f"FH{n:03d}",
                    kind="municipal",
                    municipality=code,
                    capacity=capacity,
                    min_age=0,
                    max_age=12 if young_only else 20,
                    competences=competences({"npf": 0.3, "trauma": 0.4, "substance": 0.08, "disability": 0.1}),
                    max_care_level=2 if rng.random() < 0.3 else 1,
                )
            )

    # Consultant market: agencies' homes across the county and just outside it.
    total = len(kids)
    places = round(total * CONSULTANT_SHARE)
    n = 0
    while places > 0:
        capacity = min(places, int(_weighted(rng, ((1, 0.45), (2, 0.4), (3, 0.15)))))  # type: ignore[call-overload]
        places -= capacity
        n += 1
        inside = rng.random() < 0.8
        homes.append(
            Home(
                id=f"KS{n:03d}",
                kind="consultant",
                municipality=rng.choice(home_places if inside else all_places),
                capacity=capacity,
                min_age=rng.choice((0, 0, 6, 10)),
                max_age=20,
                competences=competences({"npf": 0.5, "trauma": 0.6, "substance": 0.3, "disability": 0.2}),
                max_care_level=rng.choice((2, 3, 3)),
                cost_per_day=rng.choice((1900, 2200, 2500, 2500, 2800, 3200)),
            )
        )

    # HVB units with specialisations; teenagers only, half of them outside the county.
    places = round(total * HVB_SHARE)
    n = 0
    while places > 0:
        capacity = min(places, rng.randint(4, 10))
        places -= capacity
        n += 1
        speciality = rng.choice(("substance", "npf", "trauma", "general", "general"))
        comp = {"general": {"trauma": 0.5, "npf": 0.3}, "substance": {"trauma": 0.5, "npf": 0.4}}.get(
            speciality, {"trauma": 0.6, "npf": 0.6, "substance": 0.3}
        )
        tags = competences(comp) | ({speciality} if speciality != "general" else frozenset())
        homes.append(
            Home(
                id=f"HVB{n:02d}",
                kind="hvb",
                municipality=rng.choice(home_places if rng.random() < 0.5 else all_places),
                capacity=capacity,
                min_age=rng.choice((10, 12, 13)),
                max_age=20,
                competences=tags,
                # Specialised HVB costs 8 000-20 000 kr/dygn, ordinary 4 500-8 000 [S/E, 2.2].
                cost_per_day=rng.choice((8000, 9500, 12000)) if speciality != "general" else rng.choice((4500, 5500, 6500)),
            )
        )

    policy = Policy()
    draft = Scenario(
        region=region,
        policy=policy,
        homes=homes,
        children=[Child(**k) for k in kids],  # type: ignore[arg-type]
    )

    # Ongoing placements: a third of families already live in a home that suits them all.
    free = {h.id: h.capacity for h in homes}
    current: dict[str, str] = {}
    by_kind_order = sorted(homes, key=lambda h: ("kin", "municipal", "consultant", "hvb").index(h.kind))
    for members in families.values():
        if rng.random() >= CURRENT_SHARE:
            continue
        people = [draft.child(str(m["id"])) for m in members]
        options = [
            h for h in by_kind_order
            if free[h.id] >= len(people) and all(exclusion(draft, c, h) is None for c in people)
        ]
        if options:
            home = options[0] if rng.random() < 0.5 else rng.choice(options)
            free[home.id] -= len(people)
            for c in people:
                current[c.id] = home.id
    return Scenario(
        region=region,
        policy=policy,
        homes=homes,
        children=[Child(**(k | {"current_home": current.get(str(k["id"]))})) for k in kids],  # type: ignore[arg-type]
    )
