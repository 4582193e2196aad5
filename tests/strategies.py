"""Hypothesis strategies for consistent random scenarios in the ``placering.scenario/1`` format.

Every strategy here builds plain JSON-ready dicts (so a drawn scenario can also go through a
file or the CLI), small enough for the brute force of ``brute.py``: at most 6 children and 5
homes in a connected region of 2-4 municipalities.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

import placering

KM_CHOICES = (10, 15, 20, 30, 45, 60, 80, 100, 120)
#: Road lengths and costs with decimals, for the exact-arithmetic properties.
DECIMAL_KM_CHOICES = (0.1, 0.2, 0.3, 12.5, 33.3, 45.05, 60.125)
DECIMAL_COST_CHOICES = (699.5, 800.25, 2499.99, 5500.125)
NEED_TAGS = ("npf", "trauma", "substance")
KINDS = ("kin", "municipal", "consultant", "hvb")
COST_CHOICES = (500, 700, 800, 1200, 2500, 3000, 5500, 8000)
LIMIT_CHOICES = (None, 10, 20, 30, 45, 60, 90, 150)
TERMS = ("unplaced", "hvb", "consultant", "split_siblings", "cost", "km")
DEFAULT_OBJECTIVE = ["unplaced", "hvb", "consultant", "cost", "km"]


def tag_sets() -> st.SearchStrategy[list[str]]:
    """A sorted, duplicate-free list of need or competence tags."""
    return st.sets(st.sampled_from(NEED_TAGS)).map(sorted)


def needs() -> st.SearchStrategy[list[str]]:
    """A child's needs: often none, mostly one tag, sometimes more."""
    return st.one_of(st.just([]), st.sampled_from(NEED_TAGS).map(lambda t: [t]), tag_sets())


def competences() -> st.SearchStrategy[list[str]]:
    """A home's competences: often broad, so that children have several homes to choose from."""
    broad = st.sets(st.sampled_from(NEED_TAGS), min_size=2).map(sorted)
    return st.one_of(st.just(sorted(NEED_TAGS)), broad, tag_sets())


@st.composite
def regions(draw: st.DrawFn, min_size: int = 2, max_size: int = 4, decimals: bool = False) -> dict[str, Any]:
    """An inline region: a random spanning tree of roads plus a few optional extra roads.

    With ``decimals`` the road lengths have decimals (0.1, 12.5, 60.125 ...).
    """
    lengths = DECIMAL_KM_CHOICES if decimals else KM_CHOICES
    n = draw(st.integers(min_size, max_size))
    codes = [f"M{i}" for i in range(n)]
    municipalities = [
        {"code": code, "name": f"Kommun {code}", "lat": 60.0 + i / 10, "lon": 15.0 + i / 10}
        for i, code in enumerate(codes)
    ]
    roads = []
    for i in range(1, n):
        j = draw(st.integers(0, i - 1))
        a, b = draw(st.permutations([codes[i], codes[j]]))
        roads.append({"from": a, "to": b, "km": draw(st.sampled_from(lengths))})
    extra = draw(
        st.lists(st.tuples(st.sampled_from(codes), st.sampled_from(codes), st.sampled_from(lengths)), max_size=3)
    )
    roads.extend({"from": a, "to": b, "km": km} for a, b, km in extra if a != b)
    order = draw(st.permutations(range(len(roads))))
    return {"name": "random", "municipalities": municipalities, "roads": [roads[k] for k in order]}


@st.composite
def policies(draw: st.DrawFn, decimals: bool = False) -> dict[str, Any]:
    """A policy dict: pooling, siblings, keep_current, optional partial overrides and objective."""
    limits = (None, 0.3, 12.5, 45.05, 60) if decimals else LIMIT_CHOICES
    costs = DECIMAL_COST_CHOICES if decimals else COST_CHOICES
    policy: dict[str, Any] = {}
    if draw(st.booleans()):
        policy["pooling"] = draw(st.sampled_from(["pooled", "isolated"]))
    if draw(st.integers(0, 3)) != 0:
        policy["siblings"] = draw(st.sampled_from(["together", "prefer", "prefer", "ignore"]))
    if draw(st.booleans()):
        policy["keep_current"] = draw(st.booleans())
    if draw(st.booleans()):
        kinds = draw(st.lists(st.sampled_from(KINDS), unique=True, min_size=1))
        policy["max_km"] = {k: draw(st.sampled_from(limits)) for k in kinds}
    if draw(st.booleans()):
        kinds = draw(st.lists(st.sampled_from(KINDS), unique=True, min_size=1))
        policy["costs_per_day"] = {k: draw(st.sampled_from(costs)) for k in kinds}
    if draw(st.integers(0, 3)) == 0:
        # Occasionally a custom objective: distinct known terms in any order.
        policy["objective"] = draw(st.lists(st.sampled_from(TERMS), unique=True, min_size=1, max_size=len(TERMS)))
    return policy


@st.composite
def home_dicts(
    draw: st.DrawFn, home_id: str, codes: list[str], child_ids: list[str], decimals: bool = False
) -> dict[str, Any]:
    """One home of any kind in one of ``codes``; a kin home is reserved for 1-2 of ``child_ids``."""
    kind = draw(st.sampled_from(KINDS if child_ids else KINDS[1:]))
    home: dict[str, Any] = {
        "id": home_id,
        "kind": kind,
        "municipality": draw(st.sampled_from(codes)),
        "capacity": draw(st.sampled_from((1, 1, 2, 3) if kind == "kin" else (0, 1, 1, 2, 2, 3))),
    }
    if draw(st.integers(0, 2)) == 0:
        home["owner"] = draw(st.sampled_from(codes))
    if draw(st.booleans()):
        ages = (draw(st.sampled_from((0, 0, 4, 10, 13))), draw(st.sampled_from((9, 12, 17, 20, 20))))
        if draw(st.integers(0, 4)) == 0:
            ages = draw(st.tuples(st.integers(0, 20), st.integers(0, 20)))
        home["min_age"], home["max_age"] = sorted(ages)
    tags = draw(competences())
    if tags or draw(st.booleans()):
        home["competences"] = tags
    if draw(st.booleans()):
        home["max_care_level"] = draw(st.sampled_from((1, 2, 3, 3, 4, 4)))
    if draw(st.integers(0, 3)) == 0:
        home["cost_per_day"] = draw(st.sampled_from(DECIMAL_COST_CHOICES if decimals else COST_CHOICES))
    if kind == "kin":
        home["reserved_for"] = sorted(draw(st.lists(st.sampled_from(child_ids), unique=True, min_size=1, max_size=2)))
    return home


@st.composite
def scenario_dicts(
    draw: st.DrawFn,
    max_children: int = 6,
    max_homes: int = 5,
    policy: dict[str, Any] | None = None,
    siblings_only: bool = False,
    decimals: bool = False,
) -> dict[str, Any]:
    """A valid ``placering.scenario/1`` dict with an inline random region.

    Siblings share one municipality and, when placed today, one current home; current homes
    never exceed a home's capacity; kin homes are reserved for 1-2 existing children.
    ``policy`` overrides the keys it names of a random policy; ``siblings_only`` puts every
    child in one of two sibling groups; ``decimals`` gives roads, costs and limits with decimals.
    """
    region = draw(regions(decimals=decimals))
    codes = [m["code"] for m in region["municipalities"]]

    # Children, then sibling groups that share the first member's municipality.
    n_children = draw(st.integers(1, max_children) | st.just(max_children))
    children: list[dict[str, Any]] = []
    for i in range(n_children):
        child: dict[str, Any] = {
            "id": f"C{i}",
            "municipality": draw(st.sampled_from(codes)),
            "age": draw(st.integers(0, 20) | st.sampled_from((6, 10, 14, 16))),
        }
        tags = draw(needs())
        if tags or draw(st.booleans()):
            child["needs"] = tags
        care = draw(st.sampled_from((1, 1, 1, 2, 2, 3, 4)))
        if care != 1 or draw(st.booleans()):
            child["care_level"] = care
        if draw(st.integers(0, 3)) == 0:
            child["max_km"] = draw(st.sampled_from((DECIMAL_KM_CHOICES if decimals else KM_CHOICES) + (0,)))
        children.append(child)
    labels = ["S1", "S2"] if siblings_only else [None, None, "S1", "S2"]
    group_of = draw(st.lists(st.sampled_from(labels), min_size=n_children, max_size=n_children))
    first_in_group: dict[str, dict[str, Any]] = {}
    for child, group in zip(children, group_of, strict=True):
        if group is None:
            continue
        child["sibling_group"] = group
        head = first_in_group.setdefault(group, child)
        child["municipality"] = head["municipality"]

    # Homes of every kind; kin homes reserved for one or two of the children.
    ids = [c["id"] for c in children]
    n_homes = draw(st.integers(1, max_homes) | st.just(max_homes))
    homes = [draw(home_dicts(f"H{j}", codes, ids, decimals)) for j in range(n_homes)]

    # Current homes: a whole family (a sibling group, or one child) lives in one home with room.
    free = {h["id"]: h["capacity"] for h in homes}
    families: dict[str, list[dict[str, Any]]] = {}
    for child in children:
        families.setdefault(child.get("sibling_group") or child["id"], []).append(child)
    for members in families.values():
        if draw(st.integers(0, 2)) != 0:
            continue
        room = [h["id"] for h in homes if free[h["id"]] >= len(members)]
        if not room:
            continue
        where = draw(st.sampled_from(room))
        free[where] -= len(members)
        for child in members:
            child["current_home"] = where

    data: dict[str, Any] = {"format": "placering.scenario/1", "region": region, "homes": homes, "children": children}
    chosen = draw(policies(decimals)) | (policy or {})
    if chosen or draw(st.booleans()):
        data["policy"] = chosen
    return data


def scenarios(**kwargs: Any) -> st.SearchStrategy[placering.Scenario]:
    """Validated Scenario objects built from :func:`scenario_dicts`."""
    return scenario_dicts(**kwargs).map(placering.scenario_from_dict)


# --- instances where the flow relaxation splits sibling groups ----------------------------


@st.composite
def crowded_families(
    draw: st.DrawFn, places: tuple[int, ...] = (1, 1, 2, 3), singles: tuple[int, int] = (0, 0)
) -> dict[str, Any]:
    """Two or three sibling groups of 2-3 against one to three family homes and a larger
    consultant or HVB home: the cheap places come in pieces smaller than the groups, so the
    flow relaxation splits a group in most examples, and the dive, the branch and bound, the
    MIP and CP-SAT all get work. ``places``: what a family home's capacity is drawn from;
    ``singles``: how many children without siblings to add (drawn after everything else)."""
    towns = ["A", "B"]
    # Small enough for the brute force: two of these side by side still solve in a moment.
    kinds = ["municipal"] * draw(st.integers(1, 3)) + [draw(st.sampled_from(["consultant", "hvb"]))]
    homes = [
        {
            "id": f"H{i}",
            "kind": kind,
            "municipality": draw(st.sampled_from(towns)),
            "capacity": draw(st.sampled_from(places) if kind == "municipal" else st.integers(2, 3)),
            "max_care_level": 4,
        }
        for i, kind in enumerate(kinds)
    ]
    children = []
    for g in range(draw(st.integers(2, 3))):
        town = draw(st.sampled_from(towns))
        for _ in range(draw(st.integers(2, 3))):
            children.append({"id": f"C{len(children)}", "municipality": town, "age": draw(st.integers(5, 15)),
                             "sibling_group": f"S{g}"})
    for _ in range(draw(st.integers(*singles)) if singles != (0, 0) else 0):
        children.append({"id": f"C{len(children)}", "municipality": draw(st.sampled_from(towns)), "age": 10})
    return {
        "region": {
            "name": "crowded",
            "municipalities": [{"code": t, "name": t, "lat": 60.0, "lon": 15.0} for t in towns],
            "roads": [{"from": "A", "to": "B", "km": draw(st.sampled_from([20, 45, 100]))}],
        },
        "policy": {"max_km": {"municipal": 60, "consultant": 150}},
        "homes": homes,
        "children": children,
    }


@st.composite
def separate_crowds(draw: st.DrawFn, places: tuple[int, ...] = (1, 1, 2, 3)) -> dict[str, Any]:
    """Two crowded instances 500 km apart, with HVB limited to 200 km: two independent parts,
    so the pipeline settles split groups part by part."""
    parts = [draw(crowded_families(places)) for _ in range(2)]
    merged: dict[str, Any] = {
        "region": {
            "name": "apart",
            "municipalities": [{"code": t, "name": t, "lat": 60.0, "lon": 15.0} for t in ("A", "B", "X", "Y")],
            "roads": [parts[0]["region"]["roads"][0],
                      {"from": "X", "to": "Y", "km": parts[1]["region"]["roads"][0]["km"]},
                      {"from": "B", "to": "X", "km": 500}],
        },
        "policy": {"max_km": {"municipal": 60, "consultant": 150, "hvb": 200}},
        "homes": [],
        "children": [],
    }
    rename = {"A": "X", "B": "Y"}
    for i, part in enumerate(parts):
        for h in part["homes"]:
            town = rename.get(h["municipality"], h["municipality"]) if i else h["municipality"]
            merged["homes"].append(h | {"id": f"P{i}{h['id']}", "municipality": town})
        for c in part["children"]:
            town = rename.get(c["municipality"], c["municipality"]) if i else c["municipality"]
            merged["children"].append(c | {"id": f"P{i}{c['id']}", "municipality": town,
                                            "sibling_group": f"P{i}{c['sibling_group']}"})
    return merged


@st.composite
def linked_crowds(draw: st.DrawFn) -> dict[str, Any]:
    """Two towns, each with three sibling pairs, two family homes of three places and a home
    of two places a few km out, in a suburb. The flow splits a pair over the two homes in
    town (a gap in km only), and pairs may cross to the other town's homes, so the towns make
    one part; crossing costs more km than a town's own gap, so fixing by reduced costs parts
    them again (:mod:`placering.matching.pieces`). A third town already takes the brute force
    seconds."""
    towns = 2
    apart = draw(st.integers(35, 55))
    municipalities = [f"T{i}" for i in range(towns)] + [f"S{i}" for i in range(towns)]
    # Suburbs at different distances: each town's gap is its own.
    roads = [{"from": f"T{i}", "to": f"S{i}", "km": draw(st.integers(4, 12))} for i in range(towns)]
    roads += [{"from": f"T{i}", "to": f"T{i + 1}", "km": apart} for i in range(towns - 1)]
    homes: list[dict[str, Any]] = []
    children: list[dict[str, Any]] = []
    for i in range(towns):
        for town, capacity in ((f"T{i}", 3), (f"T{i}", 3), (f"S{i}", 2)):
            homes.append({"id": f"H{len(homes)}", "kind": "municipal", "municipality": town, "capacity": capacity})
        for pair in range(3):
            for _ in range(2):
                age = draw(st.integers(3, 16))
                children.append({"id": f"C{len(children)}", "municipality": f"T{i}", "age": age,
                                 "sibling_group": f"G{i}{pair}"})
    # A child with a home of its own far away: the towns are then not the whole matching, so
    # they are settled as a part.
    municipalities.append("F")
    roads.append({"from": "T0", "to": "F", "km": 500})
    homes.append({"id": f"H{len(homes)}", "kind": "municipal", "municipality": "F", "capacity": 1})
    children.append({"id": f"C{len(children)}", "municipality": "F", "age": 10})
    return {
        "region": {
            "name": "linked",
            "municipalities": [{"code": m, "name": m, "lat": 60.0, "lon": 15.0} for m in municipalities],
            "roads": roads,
        },
        "policy": {"max_km": {"municipal": 60, "consultant": 150}},
        "homes": homes,
        "children": children,
    }
