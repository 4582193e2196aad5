"""Seeded synthetic scenarios calibrated to a region (Dalarna by default).

No real child is behind any record here. Every calibration choice sits next to the fact it
comes from; tags as in shared/domain.md: [S] sourced, [D] derived, [E] estimate.
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

import attrs
import networkx as nx
import numpy as np

from placering.children import Child
from placering.eligibility import Facts, passes
from placering.exceptions import InvalidInputError
from placering.homes import Home
from placering.policy import KINDS, Policy
from placering.region import Municipality, Region, Road
from placering.scenario import Scenario

__all__ = [
    "DEFAULT_CHILDREN",
    "FAMILIES",
    "MAX_CHILDREN",
    "Calibration",
    "Family",
    "draw_demand",
    "generate",
    "redraw_demand",
    "synthetic_region",
]

#: A county-sized year: Dalarna ≈520 children in family homes and ≈165 in HVB during a year
#: [E/D, domain.md 3.2], of whom some are already placed; 600 is the matching problem of a
#: planning round that covers most of them.
DEFAULT_CHILDREN = 600

#: The most children the generator draws: a synthetic Sweden's year (26 500, the national
#: family) with room to spare. Drawing time grows faster than the size (100 000 take minutes).
MAX_CHILDREN = 30_000

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


@attrs.frozen(kw_only=True)
class Calibration:
    """The shares and distributions a synthetic scenario is drawn from (defaults: Dalarna).

    Each default is the module constant of the same fact above; a benchmark family changes
    only what makes it that family.
    """

    sibling_share: float = SIBLING_SHARE
    sibling_sizes: tuple[tuple[int, float], ...] = SIBLING_SIZES
    kin_share: float = KIN_SHARE
    municipal_share: float = MUNICIPAL_SHARE
    shortage: dict[str, float] = attrs.field(factory=lambda: dict(SHORTAGE))
    municipal_capacity: tuple[tuple[int, float], ...] = ((1, 0.5), (2, 0.35), (3, 0.15))
    consultant_share: float = CONSULTANT_SHARE
    consultant_capacity: tuple[tuple[int, float], ...] = ((1, 0.45), (2, 0.4), (3, 0.15))
    hvb_share: float = HVB_SHARE
    hvb_capacity: tuple[int, int] = (4, 10)
    current_share: float = CURRENT_SHARE
    #: Where the consultant market and HVB units lie: 0 spreads them evenly over places (as in
    #: Dalarna, with neighbouring towns), 0.5 weighs places by the square root of population.
    market_weight: float = 0.0
    #: Whether the market is national: consultant agencies and HVB units across Sweden
    #: (:data:`MARKET_PLACES`) on top of the region's own, as Dalarna's children are placed all
    #: over the country [domain.md 4.2: a konsulent permit is not geographically limited; 74 %
    #: of HVB are private]. The benchmark families keep the market they were recorded with (off).
    national_market: bool = True


def generate(
    region: Region | str = "dalarna",
    *,
    children: int | None = None,
    seed: int = 0,
    family: str | None = None,
) -> Scenario:
    """A synthetic scenario with about ``children`` children, deterministic in ``seed``.

    Without ``family`` it is calibrated to ``region`` (Dalarna by default; see the constants
    above). With ``family`` (one of :data:`FAMILIES`) the family decides the region and the
    calibration, and ``children`` only overrides its size. Children come from the region's
    municipalities that have a population, spread by population; homes lie in those
    municipalities and, for the consultant market and HVB, also in the neighbouring towns.
    """
    from placering.io import load_region

    calibration = Calibration()
    if family is not None:
        if family not in FAMILIES:
            known = ", ".join(FAMILIES)
            raise InvalidInputError(f"family {family!r} is not a benchmark family (known: {known})", entity="generate")
        if region != "dalarna":
            raise InvalidInputError(
                "a family brings its own region, so give either family or region", entity="generate"
            )
        spec = FAMILIES[family]
        region = spec.region() if callable(spec.region) else spec.region
        calibration = spec.calibration
        children = spec.children if children is None else children
    if children is None:
        children = DEFAULT_CHILDREN
    if isinstance(region, str):
        region = load_region(region)
    if isinstance(children, bool) or not isinstance(children, int) or not 1 <= children <= MAX_CHILDREN:
        raise InvalidInputError(
            f"children must be an integer from 1 to {MAX_CHILDREN} (the most the generator supports), got {children!r}",
            entity="generate",
        )
    if not isinstance(region, Region):
        raise TypeError(f"generate takes a Region or a shipped region's name, got {type(region).__name__}")
    if calibration.national_market:
        region = market_region(region)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInputError(f"seed must be an integer >= 0, got {seed!r}", entity="generate", field="seed")
    return _draw(region, calibration, children, seed)


def _draw(region: Region, cal: Calibration, children: int, seed: int) -> Scenario:
    """The steps of a synthetic scenario, in the order they draw from the one ``rng``.

    The order is part of what a seed means: the best-known benchmark files record the SHA-256
    of generated scenarios, so a step may not move or draw more or less than it does.
    """
    rng = random.Random(seed)
    origins = _Origins.of(region, cal)
    kids = _draw_children(rng, origins, cal, children)
    families = _families(kids)
    homes = _draw_kin_homes(rng, region, origins, cal, families, _width(children))
    homes += _draw_municipal_homes(rng, origins, cal, Counter(str(k["municipality"]) for k in kids))
    homes += _draw_consultant_homes(rng, region, origins, cal, len(kids))
    homes += _draw_hvb_homes(rng, region, origins, cal, len(kids))
    if cal.national_market:
        homes += _draw_market_homes(rng, region, origins, Counter(str(k["municipality"]) for k in kids), len(kids))
    return _settle(rng, region, homes, kids, families, cal.current_share)


#: Places outside the region where the national market has homes: (SCB code, town, lat, lon,
#: weight). Coordinates are the towns' centres [E, general knowledge]; weights follow the towns'
#: size [E]. Roads join each to the nearest place already in the region, at the straight line
#: x 1.3 (domain.md 1.2's fallback for missing pairs), so distances are road-like.
MARKET_PLACES = (
    ("2180", "Gävle", 60.675, 17.141, 3), ("2181", "Sandviken", 60.617, 16.776, 1),
    ("1980", "Västerås", 59.611, 16.545, 3), ("1880", "Örebro", 59.275, 15.213, 3),
    ("1780", "Karlstad", 59.379, 13.504, 2), ("2183", "Bollnäs", 61.348, 16.394, 1),
    ("0380", "Uppsala", 59.859, 17.639, 3), ("0180", "Stockholm", 59.329, 18.069, 6),
    ("2281", "Sundsvall", 62.391, 17.307, 2), ("2380", "Östersund", 63.179, 14.636, 1),
    ("0580", "Linköping", 58.411, 15.622, 2), ("1480", "Göteborg", 57.709, 11.975, 4),
    ("0680", "Jönköping", 57.783, 14.162, 2), ("1280", "Malmö", 55.605, 13.004, 3),
)

#: The national market's places, per child of the region [E]: a market that can always find a
#: place, at a price. Consultant agencies recruit homes for sibling groups too (up to four places,
#: förstärkta familjehem), across the region and the towns around it; HVB units of 4-12 places,
#: from age 10, all over the country.
MARKET_CONSULTANT_SHARE = 0.30
MARKET_HVB_SHARE = 0.35

#: At the top of the market's prices [S/E, domain.md 2.2: konsulentstött up to 3 500 kr/dygn,
#: specialised HVB 8 000-20 000], agencies find a reinforced home for any child or sibling group
#: near its municipality, and specialised HVB units take any teenager: in practice every child is
#: placed. Per populated municipality, homes of four places for this share of its children, and
#: HVB places for this share of all children in the largest towns.
TOP_CONSULTANT_SHARE = 0.08
TOP_HVB_SHARE = 0.05
TOP_CONSULTANT_COST = 3500
TOP_HVB_COST = 12000


def _haversine(a: Municipality, b: Municipality) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


@functools.cache
def market_region(region: Region) -> Region:
    """``region`` with the national market's towns (:data:`MARKET_PLACES`) it lacks: no
    population, so no child comes from them, and a road from each to the nearest place before it."""
    municipalities = list(region.municipalities)
    roads = list(region.roads)
    for code, name, lat, lon, _ in MARKET_PLACES:
        if code in region:
            continue
        town = Municipality(code=code, name=name, lat=lat, lon=lon)
        nearest = min(municipalities, key=lambda m: (_haversine(town, m), m.code))
        roads.append(Road(a=nearest.code, b=code, km=round(1.3 * _haversine(town, nearest))))
        municipalities.append(town)
    return Region(name=region.name, municipalities=municipalities, roads=roads)


def _draw_market_homes(
    rng: random.Random, region: Region, origins: _Origins, demand: Counter[str], total: int
) -> list[Home]:
    """The national market: consultant homes in the region and the towns within reach, and HVB
    units across the country, with places for a share of ``total`` children each."""
    towns = [code for code, *_ in MARKET_PLACES if code in region]
    weight = {code: w for code, _, _, _, w in MARKET_PLACES}
    near = [c for c in towns if min(region.km(c, o) for o in origins.home_places) <= 150]
    homes: list[Home] = []
    places = round(total * MARKET_CONSULTANT_SHARE)
    while places > 0:
        sizes = ((1, 0.35), (2, 0.35), (3, 0.2), (4, 0.1))
        capacity = min(places, int(_weighted(rng, sizes)))  # type: ignore[call-overload]
        places -= capacity
        inside = rng.random() < 0.7
        homes.append(
            Home(
                id=f"KSN{len(homes) + 1:03d}",
                kind="consultant",
                municipality=rng.choice(origins.home_places) if inside or not near else rng.choice(near),
                capacity=capacity,
                min_age=rng.choice((0, 0, 0, 6)),
                max_age=20,
                competences=_competences(rng, {"npf": 0.6, "trauma": 0.7, "substance": 0.35, "disability": 0.25}),
                max_care_level=rng.choice((2, 3, 3)),
                # Konsulentstödda homes: 1 800-3 500 kr/dygn [S/E, domain.md 2.2].
                cost_per_day=rng.choice((2000, 2400, 2800, 3200, 3500)),
            )
        )
    hvb: list[Home] = []
    places = round(total * MARKET_HVB_SHARE)
    while places > 0:
        capacity = min(places, rng.randint(4, 12))
        places -= capacity
        speciality = rng.choice(("substance", "npf", "trauma", "disability", "general", "general"))
        tags = _competences(rng, {"trauma": 0.7, "npf": 0.6, "substance": 0.3, "disability": 0.2})
        hvb.append(
            Home(
                id=f"HVBN{len(hvb) + 1:02d}",
                kind="hvb",
                municipality=rng.choices(towns, weights=[weight[c] for c in towns])[0],
                capacity=capacity,
                min_age=rng.choice((10, 10, 12, 13)),
                max_age=20,
                competences=tags | ({speciality} if speciality != "general" else frozenset()),
                # HVB 4 500-8 000 kr/dygn, specialised 8 000-20 000 [S/E, domain.md 2.2].
                cost_per_day=rng.choice(
                    (8000, 9500, 12000, 15000) if speciality != "general" else (4500, 5500, 6500, 8000)
                ),
            )
        )
    return homes + hvb + _top_of_market(region, origins, demand, total)


def _top_of_market(region: Region, origins: _Origins, demand: Counter[str], total: int) -> list[Home]:
    """The market's homes of last resort (see :data:`TOP_CONSULTANT_SHARE`): no draws, every need."""
    every_need = frozenset(tag for tag, _ in NEEDS)
    homes = [
        Home(
            id=f"KST{code}-{i + 1}",
            kind="consultant",
            municipality=code,
            capacity=4,
            competences=every_need,
            max_care_level=3,
            cost_per_day=TOP_CONSULTANT_COST,
        )
        for code in origins.home_places
        for i in range(max(1, math.ceil(demand[code] * TOP_CONSULTANT_SHARE / 4)))
    ]
    largest = [code for code, *_ in sorted(MARKET_PLACES, key=lambda p: -p[4]) if code in region][:3]
    units = max(1, math.ceil(total * TOP_HVB_SHARE / 8))
    homes += [
        Home(
            id=f"HVBT{i + 1:02d}",
            kind="hvb",
            municipality=largest[i % len(largest)] if largest else origins.home_places[0],
            capacity=8,
            min_age=10,
            competences=every_need,
            cost_per_day=TOP_HVB_COST,
        )
        for i in range(units)
    ]
    return homes


def draw_demand(
    region: Region,
    homes: Sequence[Home],
    *,
    seed: int,
    children: int = DEFAULT_CHILDREN,
    calibration: Calibration | None = None,
) -> Scenario:
    """A demand year for fixed homes: new children, their kin homes and ongoing placements.

    The kin homes among ``homes`` belong to the children they were drawn for and are dropped;
    the other homes stay as they are, in their order, after the new kin homes. Children, kin
    homes and ongoing placements are drawn as :func:`generate` draws them (default calibration:
    Dalarna's), so that recruiting homes can be weighed against several years of demand.
    """
    cal = calibration or Calibration()
    rng = random.Random(seed)
    origins = _Origins.of(region, cal)
    kids = _draw_children(rng, origins, cal, children)
    families = _families(kids)
    kin = _draw_kin_homes(rng, region, origins, cal, families, _width(children))
    return _settle(rng, region, kin + [h for h in homes if h.kind != "kin"], kids, families, cal.current_share)


def redraw_demand(scenario: Scenario, seed: int, *, calibration: Calibration | None = None) -> Scenario:
    """``scenario`` with the same region and homes other than kin, and another demand year drawn
    by ``seed``: as many children, new kin homes and new ongoing placements (see :func:`draw_demand`).

    The policy is the generator's default, as in every generated scenario.
    """
    return draw_demand(
        scenario.region, scenario.homes, seed=seed, children=len(scenario.children), calibration=calibration
    )


def _width(children: int) -> int:
    """Digits of the child ids (``C0001``); sibling groups and kin homes take one fewer."""
    return max(4, len(str(children)))


@attrs.frozen(kw_only=True)
class _Origins:
    """Where children come from and homes lie, and how likely each place is as a child's origin."""

    home_places: list[str]  # municipalities with a population (or all, in a region without)
    all_places: list[str]
    cumulative: list[float]  # cumulative weights of home_places as origins
    family_chance: float  # the chance that a drawn origin sends a sibling group

    @classmethod
    def of(cls, region: Region, cal: Calibration) -> _Origins:
        home_places = [m.code for m in region.municipalities if m.population]
        if not home_places:  # a region without populations: everybody counts alike
            home_places = [m.code for m in region.municipalities]
        weight = {
            code: (region.municipality(code).population or 1)
            * (SMALL_RATE if (region.municipality(code).population or 0) < SMALL_MUNICIPALITY else 1.0)
            for code in home_places
        }
        mean_size = sum(s * w for s, w in cal.sibling_sizes) / sum(w for _, w in cal.sibling_sizes)
        # A family of ``size`` children is drawn with this chance, so the share of siblings holds.
        family_chance = cal.sibling_share / (mean_size - cal.sibling_share * (mean_size - 1))
        if cal.sibling_sizes == SIBLING_SIZES and cal.sibling_share == SIBLING_SHARE:
            family_chance = SIBLING_SHARE / 2.6  # the Dalarna calibration as first drawn
        return cls(
            home_places=home_places,
            all_places=[m.code for m in region.municipalities],
            cumulative=list(itertools.accumulate(weight[c] for c in home_places)),
            family_chance=family_chance,
        )


def _draw_children(rng: random.Random, origins: _Origins, cal: Calibration, children: int) -> list[dict[str, Any]]:
    """``children`` children as keyword dicts of :class:`Child`, sibling groups drawn as whole
    families from one municipality."""
    kids: list[dict[str, Any]] = []
    group_no = 0
    width = _width(children)
    while len(kids) < children:
        place = rng.choices(origins.home_places, cum_weights=origins.cumulative)[0]
        size = 1
        if rng.random() < origins.family_chance:
            size = min(int(_weighted(rng, cal.sibling_sizes)), children - len(kids))  # type: ignore[call-overload]
        group = None
        if size > 1:
            group_no += 1
            group = f"S{group_no:0{width - 1}d}"
        for _ in range(size):
            age = _age(rng)
            care = _care_level(rng, age)
            kids.append(
                {
                    "id": f"C{len(kids) + 1:0{width}d}",
                    "municipality": place,
                    "age": age,
                    "needs": _needs(rng, age, care),
                    "care_level": care,
                    "sibling_group": group,
                    # Some children must stay near school or parents [E]: 15 % get a personal limit.
                    "max_km": rng.choice((40, 60)) if rng.random() < 0.15 else None,
                }
            )
    return kids


def _families(kids: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The children by family: a sibling group, or a child on its own; in order of first member."""
    families: dict[str, list[dict[str, Any]]] = {}
    for k in kids:
        families.setdefault(str(k["sibling_group"] or k["id"]), []).append(k)
    return families


def _draw_kin_homes(
    rng: random.Random,
    region: Region,
    origins: _Origins,
    cal: Calibration,
    families: dict[str, list[dict[str, Any]]],
    width: int,
) -> list[Home]:
    """Kin homes, one per family with a kin option, near the family, taking the whole group."""
    homes: list[Home] = []
    near: dict[str, list[str]] = {}
    for members in families.values():
        if rng.random() >= cal.kin_share or all(m["care_level"] == 4 for m in members):
            continue
        origin = str(members[0]["municipality"])
        needs = frozenset().union(*(m["needs"] for m in members))
        if origin not in near:
            near[origin] = [code for code in origins.home_places if region.km(origin, code) <= 60]
        close = near[origin]
        homes.append(
            Home(
                id=f"KIN{len(homes) + 1:0{width - 1}d}",
                kind="kin",
                municipality=rng.choice(close or [origin]),
                capacity=len(members),
                # Relatives often lack training for specific needs [E]: 60 % cover them.
                competences=needs if rng.random() < 0.6 else frozenset(),
                max_care_level=2 if rng.random() < 0.3 else 1,
                reserved_for=frozenset(str(m["id"]) for m in members),
            )
        )
    return homes


def _competences(rng: random.Random, rates: dict[str, float]) -> frozenset[str]:
    return frozenset(tag for tag, p in rates.items() if rng.random() < p)


def _market_place(rng: random.Random, region: Region, origins: _Origins, cal: Calibration, inside: bool) -> str:
    """Where a consultant home or HVB unit lies: in the region's populated places, or anywhere."""
    pool = origins.home_places if inside else origins.all_places
    if not cal.market_weight:
        return rng.choice(pool)
    return rng.choices(pool, weights=[(region.municipality(c).population or 1) ** cal.market_weight for c in pool])[0]


def _draw_municipal_homes(
    rng: random.Random, origins: _Origins, cal: Calibration, demand: Counter[str]
) -> list[Home]:
    """Own family homes, per municipality by its ``demand`` (children), short where the
    shortage is reported."""
    homes: list[Home] = []
    for code in origins.home_places:
        places = round(demand[code] * cal.municipal_share * cal.shortage.get(code, 1.0))
        while places > 0:
            capacity = min(places, int(_weighted(rng, cal.municipal_capacity)))  # type: ignore[call-overload]
            places -= capacity
            young_only = rng.random() < 0.3
            homes.append(
                Home(
                    id=f"FH{len(homes) + 1:03d}",
                    kind="municipal",
                    municipality=code,
                    capacity=capacity,
                    min_age=0,
                    max_age=12 if young_only else 20,
                    competences=_competences(rng, {"npf": 0.3, "trauma": 0.4, "substance": 0.08, "disability": 0.1}),
                    max_care_level=2 if rng.random() < 0.3 else 1,
                )
            )
    return homes


def _draw_consultant_homes(
    rng: random.Random, region: Region, origins: _Origins, cal: Calibration, total: int
) -> list[Home]:
    """Consultant market: agencies' homes across the county and just outside it, places for a
    share of ``total`` children."""
    homes: list[Home] = []
    places = round(total * cal.consultant_share)
    while places > 0:
        capacity = min(places, int(_weighted(rng, cal.consultant_capacity)))  # type: ignore[call-overload]
        places -= capacity
        inside = rng.random() < 0.8
        homes.append(
            Home(
                id=f"KS{len(homes) + 1:03d}",
                kind="consultant",
                municipality=_market_place(rng, region, origins, cal, inside),
                capacity=capacity,
                min_age=rng.choice((0, 0, 6, 10)),
                max_age=20,
                competences=_competences(rng, {"npf": 0.5, "trauma": 0.6, "substance": 0.3, "disability": 0.2}),
                max_care_level=rng.choice((2, 3, 3)),
                cost_per_day=rng.choice((1900, 2200, 2500, 2500, 2800, 3200)),
            )
        )
    return homes


def _draw_hvb_homes(rng: random.Random, region: Region, origins: _Origins, cal: Calibration, total: int) -> list[Home]:
    """HVB units with specialisations; teenagers only, half of them outside the county."""
    homes: list[Home] = []
    places = round(total * cal.hvb_share)
    while places > 0:
        capacity = min(places, rng.randint(*cal.hvb_capacity))
        places -= capacity
        speciality = rng.choice(("substance", "npf", "trauma", "general", "general"))
        comp = {"general": {"trauma": 0.5, "npf": 0.3}, "substance": {"trauma": 0.5, "npf": 0.4}}.get(
            speciality, {"trauma": 0.6, "npf": 0.6, "substance": 0.3}
        )
        tags = _competences(rng, comp) | ({speciality} if speciality != "general" else frozenset())
        homes.append(
            Home(
                id=f"HVB{len(homes) + 1:02d}",
                kind="hvb",
                municipality=_market_place(rng, region, origins, cal, rng.random() < 0.5),
                capacity=capacity,
                min_age=rng.choice((10, 12, 13)),
                max_age=20,
                competences=tags,
                # Specialised HVB costs 8 000-20 000 kr/dygn, ordinary 4 500-8 000 [S/E, 2.2].
                cost_per_day=(
                    rng.choice((8000, 9500, 12000)) if speciality != "general" else rng.choice((4500, 5500, 6500))
                ),
            )
        )
    return homes


def _settle(
    rng: random.Random,
    region: Region,
    homes: list[Home],
    kids: list[dict[str, Any]],
    families: dict[str, list[dict[str, Any]]],
    share: float,
) -> Scenario:
    """The scenario of ``homes`` and ``kids``, a ``share`` of the families in an ongoing placement."""
    policy = Policy()
    draft = Scenario(region=region, policy=policy, homes=homes, children=[Child(**k) for k in kids])
    current = _ongoing(rng, draft, families, share)
    return Scenario(
        region=region,
        policy=policy,
        homes=homes,
        children=[Child(**(k | {"current_home": current.get(str(k["id"]))})) for k in kids],
    )


def _ongoing(
    rng: random.Random, draft: Scenario, families: dict[str, list[dict[str, Any]]], share: float
) -> dict[str, str]:
    """Ongoing placements: a share of families already live in a home that suits them all.

    The options of a family are the homes with room for it that rules 1-6 allow for every
    member, in the order kin, municipal, consultant, HVB (scenario order within a kind); half
    of the families live in the first, the others in a random one.
    """
    homes = draft.homes
    facts = Facts.of(draft)
    rank = {kind: i for i, kind in enumerate(KINDS)}
    ladder = np.array(sorted(range(len(homes)), key=lambda j: (rank[homes[j].kind], j)), dtype=np.int64)
    free = np.array([h.capacity for h in homes], dtype=np.int64)
    current: dict[str, str] = {}
    for members in families.values():
        if rng.random() >= share:
            continue
        ids = [str(m["id"]) for m in members]
        people = np.array([facts.child_index[c] for c in ids], dtype=np.int64)
        n = len(ids)
        allowed = np.broadcast_to(passes(facts.pairs(people[:, None], ladder)), (n, len(ladder))).all(axis=0)
        options = ladder[allowed & (free[ladder] >= n)].tolist()
        if options:
            j = options[0] if rng.random() < 0.5 else rng.choice(options)
            free[j] -= n
            for c in ids:
                current[c] = homes[j].id
    return current


# --- Synthetic regions and benchmark families -------------------------------------------------

#: Sweden: 290 municipalities, about 450 000 km² and 10.5 million people, a third of them in
#: the three metropolitan areas (Stockholm ≈2.4 M in 26 municipalities, Göteborg ≈1.1 M in 13,
#: Malmö ≈0.8 M in 12) and many small inland municipalities in the north [S, SCB 2024].
NATIONAL_METROS = ((("Stockholm", 0.78, 0.30, 980_000, 25, 40_000)),
                   (("Göteborg", 0.12, 0.17, 600_000, 12, 35_000)),
                   (("Malmö", 0.18, 0.02, 360_000, 11, 30_000)))


def synthetic_region(
    name: str,
    *,
    municipalities: int,
    area_km2: float,
    aspect: float,
    metros: Sequence[tuple[str, float, float, int, int, int]],
    seed: int,
    centre: tuple[float, float] = (62.0, 16.0),
    north_thin: float = 2.5,
) -> Region:
    """A synthetic region: seats in a ``aspect``:1 (north-south) rectangle of ``area_km2``.

    Each metro is ``(name, x, y, core population, suburbs, suburb population)`` with ``x, y``
    in [0, 1] of the rectangle; suburbs lie within 35 km of the core. The other municipalities
    thin out northwards (``y`` drawn as a Beta(1, ``north_thin``) variable) with lognormal
    populations around 14 000. Roads join every seat to its three nearest and along a minimum
    spanning tree, 1.25x the straight line, in whole km. The region is made up; it only has
    Sweden's rough shape of population.
    """
    rng = random.Random(seed)
    width = math.sqrt(area_km2 / aspect)
    height = width * aspect
    seats: list[tuple[str, float, float, int]] = []
    for metro, mx, my, core, suburbs, suburb_population in metros:
        seats.append((metro, mx * width, my * height, core))
        for i in range(suburbs):
            angle, radius = rng.uniform(0, 2 * math.pi), rng.uniform(8, 35)
            x = min(width, max(0.0, mx * width + radius * math.cos(angle)))
            y = min(height, max(0.0, my * height + radius * math.sin(angle)))
            seats.append((f"{metro} {i + 1}", x, y, round(suburb_population * rng.lognormvariate(0, 0.5))))
    while len(seats) < municipalities:
        x, y = rng.uniform(0, width), rng.betavariate(1.0, north_thin) * height
        population = round(min(150_000, max(2_400, 14_000 * rng.lognormvariate(0, 0.8) * (1.3 - y / height))))
        seats.append((f"{name.title()} {len(seats) + 1}", x, y, population))
    seats = seats[:municipalities]
    lat0, lon0 = centre
    south = lat0 - height / 2 / 111.2
    west_scale = 111.2 * math.cos(math.radians(lat0))
    codes = [f"{name[0].upper()}{i + 1:03d}" for i in range(len(seats))]
    regional = [
        Municipality(
            code=code,
            name=label,
            lat=round(south + y / 111.2, 4),
            lon=round(lon0 + (x - width / 2) / west_scale, 4),
            population=population,
        )
        for code, (label, x, y, population) in zip(codes, seats, strict=True)
    ]
    points = [(x, y) for _, x, y, _ in seats]

    def road(i: int, j: int) -> int:
        return max(1, round(1.25 * math.dist(points[i], points[j])))

    pairs: set[tuple[int, int]] = set()
    for i in range(len(points)):
        nearest = sorted(range(len(points)), key=lambda j: (math.dist(points[i], points[j]), j))[1:4]
        pairs.update((min(i, j), max(i, j)) for j in nearest)
    complete = nx.Graph()
    complete.add_weighted_edges_from(
        (i, j, math.dist(points[i], points[j])) for i in range(len(points)) for j in range(i + 1, len(points))
    )
    pairs.update((min(i, j), max(i, j)) for i, j in nx.minimum_spanning_edges(complete, data=False))
    roads = [Road(a=codes[i], b=codes[j], km=road(i, j)) for i, j in sorted(pairs)]
    return Region(name=name, municipalities=regional, roads=roads)


@functools.cache
def national_region() -> Region:
    """Synthetic Sweden: 290 municipalities over 450 000 km², three metropolitan areas."""
    return synthetic_region(
        "national", municipalities=290, area_km2=450_000, aspect=3.2, metros=NATIONAL_METROS, seed=2026,
        centre=(62.0, 16.0), north_thin=2.2,
    )


@functools.cache
def county_xl_region() -> Region:
    """A synthetic large county: 40 municipalities over 40 000 km² around one city of 500 000."""
    return synthetic_region(
        "county-xl", municipalities=40, area_km2=40_000, aspect=1.3,
        metros=(("Storstad", 0.45, 0.35, 500_000, 7, 30_000),), seed=2026, centre=(58.5, 13.5), north_thin=1.6,
    )


@attrs.frozen(kw_only=True)
class Family:
    """A benchmark family: a region, a default size and a calibration, drawn by seed."""

    name: str
    region: Any  # a shipped region's name, or a function that builds the synthetic region
    children: int
    calibration: Calibration
    summary: str


#: National volumes [S, domain.md 3.1]: 26 500 children a year, 19 200 in family homes and
#: 6 100 in HVB; about 600 HVB units of 6-14 places; own homes mostly take one child.
_NATIONAL = Calibration(
    national_market=False,
    hvb_share=6_100 / 26_500,
    hvb_capacity=(6, 14),
    municipal_share=0.5,
    municipal_capacity=((1, 0.75), (2, 0.2), (3, 0.05)),
    consultant_share=0.26,
    consultant_capacity=((1, 0.6), (2, 0.3), (3, 0.1)),
    shortage={},
    market_weight=0.5,
)
_SYNTHETIC = Calibration(shortage={}, market_weight=0.5, national_market=False)

#: The Dalarna families keep the market their best-known optima were recorded with: the
#: region's own consultant homes and HVB units, no national market.
_RECORDED = Calibration(national_market=False)

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(name="dalarna", region="dalarna", children=DEFAULT_CHILDREN, calibration=_RECORDED,
               summary="the shipped Dalarna region and its calibration"),
        Family(name="county-xl", region=county_xl_region, children=3_000, calibration=_SYNTHETIC,
               summary="a synthetic county of 40 municipalities and 3 000 children"),
        Family(name="national", region=national_region, children=26_500, calibration=_NATIONAL,
               summary="a synthetic Sweden of 290 municipalities and 26 500 children"),
        Family(name="siblings-heavy", region="dalarna", children=DEFAULT_CHILDREN,
               calibration=attrs.evolve(
                   _RECORDED, sibling_share=0.5, sibling_sizes=((2, 0.45), (3, 0.3), (4, 0.15), (5, 0.1))
               ),
               summary="Dalarna with half the children in sibling groups of 2-5"),
        Family(name="scarce", region="dalarna", children=DEFAULT_CHILDREN,
               calibration=attrs.evolve(_RECORDED, municipal_share=MUNICIPAL_SHARE / 2),
               summary="Dalarna where own family homes cover half the usual need"),
        Family(name="kin-heavy", region="dalarna", children=DEFAULT_CHILDREN,
               calibration=attrs.evolve(_RECORDED, kin_share=0.5),
               summary="Dalarna where half the families have a kin home"),
    )
}
