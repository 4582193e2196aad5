"""The recruitment plan's optimum (design.md section 9) against enumeration.

Every tiny case enumerates every recruitment the budget and ``max_per_municipality`` allow,
solves each demand year with the recruited homes (``placering.solve``, cross-checked by the
independent brute force of ``brute.py``), and compares the lexicographic optimum of the
summed totals, and the least spent among the equal optima, with ``optimal_recruitment``.
Then metamorphic properties, determinism, time limits, sampled demand years and edges.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import placering
from brute import brute_force
from conftest import examples, scenario_data
from placering.exceptions import InvalidInputError
from placering.matching.model import all_arcs
from placering.recruitment.decision import Recruitment, oere
from placering.recruitment.demand import check_years, sampled_years
from placering.recruitment.optimum import Optimum, optimal_recruitment
from placering.recruitment.profiles import Profile
from placering.result import Totals

SETTINGS: dict[str, Any] = {"suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}

TOTAL_FIELDS = ("unplaced", "hvb", "consultant", "split_siblings", "cost_per_day", "km")


# --- helpers: the summed vectors, compared with a tolerance ------------------------------------


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)


def same_vector(a: Sequence[float], b: Sequence[float]) -> bool:
    return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))


def lex_less(a: Sequence[float], b: Sequence[float]) -> bool:
    """``a < b`` lexicographically, values within the tolerance counting as equal."""
    for x, y in zip(a, b, strict=True):
        if _close(x, y):
            continue
        return x < y
    return False


def lex_leq(a: Sequence[float], b: Sequence[float]) -> bool:
    return not lex_less(b, a)


def summed(vectors: Sequence[Sequence[float]]) -> tuple[float, ...]:
    return tuple(sum(column) for column in zip(*vectors, strict=True))


def summed_totals(totals: Sequence[Totals]) -> dict[str, float]:
    return {name: sum(getattr(t, name) for t in totals) for name in TOTAL_FIELDS}


def solve(scenario: placering.Scenario) -> placering.Plan:
    return placering.solve(scenario, explain=False)


def objective(years: Sequence[placering.Scenario]) -> tuple[str, ...]:
    return tuple(years[0].policy.effective_objective())


def value(
    years: Sequence[placering.Scenario], recruitment: Recruitment, profiles: Sequence[Profile]
) -> tuple[float, ...]:
    """The summed optimal vector of ``recruitment`` over ``years``, by plain solves."""
    terms = objective(years)
    return summed([solve(recruitment.apply(y, profiles)).totals.vector(terms) for y in years])


def feasible_recruitments(
    members: Sequence[str], profiles: Sequence[Profile], budget: float, max_per_municipality: int
) -> list[Recruitment]:
    """Every decision n[m, p] within ``max_per_municipality`` and the budget (compared in öre)."""
    pairs = [(m, p) for m in members for p in profiles]
    limit = oere(budget)
    out: list[Recruitment] = []

    def visit(k: int, counts: dict[tuple[str, str], int], spent: int) -> None:
        if k == len(pairs):
            out.append(Recruitment.of(counts, members, profiles))
            return
        m, p = pairs[k]
        cost = oere(p.recruitment_cost)
        for n in range(max_per_municipality + 1):
            if spent + n * cost > limit:
                break
            visit(k + 1, counts | ({(m, p.name): n} if n else {}), spent + n * cost)

    visit(0, {}, 0)
    return out


@attrs.frozen
class Best:
    vector: tuple[float, ...]
    least_spent: int  # öre
    recruitments: tuple[Recruitment, ...]  # every recruitment with the best vector


def enumerate_best(
    years: Sequence[placering.Scenario],
    profiles: Sequence[Profile],
    budget: float,
    members: Sequence[str],
    max_per_municipality: int,
) -> Best:
    candidates = feasible_recruitments(members, profiles, budget, max_per_municipality)
    scored = [(value(years, r, profiles), r) for r in candidates]
    best = scored[0][0]
    for vector, _ in scored:
        if lex_less(vector, best):
            best = vector
    ties = tuple(r for vector, r in scored if same_vector(vector, best))
    spent = min(oere(r.spent(profiles)) for r in ties)
    return Best(vector=best, least_spent=spent, recruitments=ties)


def assert_plans_sound(years: Sequence[placering.Scenario], profiles: Sequence[Profile], result: Optimum) -> None:
    """Each year's plan is valid for its scenario (recruited homes added), puts every child
    exactly once, and the totals are the sums of the plans'; the same for the base plans."""
    assert len(result.plans) == len(years) and len(result.base) == len(years)
    for k, year in enumerate(years):
        with_homes = result.recruitment.apply(year, profiles)
        for scenario, plan in ((with_homes, result.plans[k]), (year, result.base[k])):
            assert placering.check_plan(scenario, plan) == [], (k, placering.check_plan(scenario, plan))
            ids = [a.child for a in plan.assignments] + [u.child for u in plan.unplaced]
            assert sorted(ids) == sorted(c.id for c in scenario.children), k
            homes = {h.id for h in scenario.homes}
            assert all(a.home in homes for a in plan.assignments), k
        # The base plans never use a recruited home.
        assert not any(a.home.startswith("recruited-") for a in result.base[k].assignments)
    sums = summed_totals([p.totals for p in result.plans])
    for name in TOTAL_FIELDS:
        assert _close(getattr(result.totals, name), sums[name]), (name, getattr(result.totals, name), sums[name])


def assert_spent(result: Optimum, profiles: Sequence[Profile], budget: float) -> None:
    assert oere(result.spent) == oere(result.recruitment.spent(profiles))
    assert oere(result.spent) <= oere(budget)


# --- tiny cases ----------------------------------------------------------------------------------

CODES = ("A", "B", "C")  # conftest's test region: A -20 km- B -50 km- C


@st.composite
def profile_pairs(draw: st.DrawFn) -> tuple[Profile, ...]:
    """A capacity-1 municipal home and a capacity-2/3 sibling home (sometimes an HVB unit)."""
    costs = (50_000, 100_000, 150_000, 250_000)
    single = Profile(
        name="single",
        kind="municipal",
        capacity=1,
        min_age=draw(st.sampled_from((0, 0, 10))),
        max_age=20,
        competences=draw(st.sampled_from(([], ["npf"], ["npf", "trauma"]))),
        max_care_level=draw(st.sampled_from((2, 3, 4))),
        cost_per_day=draw(st.sampled_from((None, 600, 900, 1500))),
        recruitment_cost=draw(st.sampled_from(costs)),
    )
    sibs_kind = draw(st.sampled_from(("municipal", "municipal", "hvb")))
    sibs = Profile(
        name="sibs",
        kind=sibs_kind,
        capacity=draw(st.sampled_from((2, 3))),
        min_age=0,
        max_age=draw(st.sampled_from((12, 17, 20))),
        competences=draw(st.sampled_from(([], ["npf"]))),
        max_care_level=4,
        cost_per_day=draw(st.sampled_from((None, 700, 1000, 4000))),
        recruitment_cost=draw(st.sampled_from(costs)),
    )
    profiles = [single, sibs]
    return tuple(draw(st.permutations(profiles)))


def _children(draw: st.DrawFn, year: int, n: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``n`` children of one year, maybe a sibling pair, maybe a kin home for one of them."""
    children: list[dict[str, Any]] = []
    for i in range(n):
        child: dict[str, Any] = {
            "id": f"Y{year}C{i}",
            "municipality": draw(st.sampled_from(CODES)),
            "age": draw(st.sampled_from((3, 8, 11, 14, 16))),
        }
        if draw(st.integers(0, 3)) == 0:
            child["needs"] = ["npf"]
        care = draw(st.sampled_from((1, 1, 2, 3)))
        if care != 1:
            child["care_level"] = care
        children.append(child)
    if n >= 2 and draw(st.booleans()):
        head, other = children[0], children[1]
        head["sibling_group"] = other["sibling_group"] = f"Y{year}S"
        other["municipality"] = head["municipality"]
        if n >= 3 and draw(st.booleans()):
            children[2]["sibling_group"] = head["sibling_group"]
            children[2]["municipality"] = head["municipality"]
    kin: list[dict[str, Any]] = []
    if draw(st.integers(0, 3)) == 0:
        child = draw(st.sampled_from(children))
        kin.append({"id": f"Y{year}K", "kind": "kin", "municipality": child["municipality"], "capacity": 1,
                    "reserved_for": [child["id"]]})
    return children, kin


@st.composite
def tiny_cases(draw: st.DrawFn, max_years: int = 3, max_children: int = 3) -> dict[str, Any]:
    """Demand years on the test region sharing their non-kin homes and policy, two profiles,
    members, a budget for 1-3 homes and ``max_per_municipality``."""
    homes: list[dict[str, Any]] = []
    for j in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(("consultant", "hvb", "municipal")))
        homes.append({"id": f"H{j}", "kind": kind, "municipality": draw(st.sampled_from(CODES)),
                      "capacity": draw(st.integers(1, 2)), "competences": ["npf"], "max_care_level": 4})
    policy: dict[str, Any] = {}
    if draw(st.booleans()):
        policy["siblings"] = draw(st.sampled_from(("together", "prefer", "ignore")))
    if draw(st.integers(0, 3)) == 0:
        policy["pooling"] = "isolated"
    if draw(st.integers(0, 3)) == 0:
        policy["max_km"] = {"municipal": draw(st.sampled_from((25, 60)))}
    if draw(st.integers(0, 4)) == 0:
        policy["objective"] = draw(st.sampled_from((
            ["unplaced", "cost", "km"], ["unplaced", "km", "cost"], ["cost", "unplaced"])))
    years = []
    for k in range(draw(st.integers(2, max_years))):
        children, kin = _children(draw, k, draw(st.integers(1, max_children)))
        years.append(placering.scenario_from_dict(scenario_data(kin + homes, children, policy)))
    profiles = draw(profile_pairs())
    members = tuple(sorted(draw(st.sets(st.sampled_from(CODES), min_size=2, max_size=3))))
    cheapest = min(p.recruitment_cost for p in profiles)
    budget = draw(st.sampled_from((1, 2, 3))) * cheapest + draw(st.sampled_from((0, 0, 40_000)))
    max_per = draw(st.sampled_from((1, 2, 2, 3)))
    return {"years": years, "profiles": profiles, "members": members, "budget": budget, "max_per": max_per,
            "homes": homes, "policy": policy}


def run(case: dict[str, Any], **changes: Any) -> Optimum:
    case = case | changes
    return optimal_recruitment(case["years"], case["profiles"], case["budget"], members=case["members"],
                               max_per_municipality=case["max_per"])


# --- 1. against enumeration --------------------------------------------------------------------


@settings(max_examples=examples(60), **SETTINGS)
@given(tiny_cases())
def test_the_optimum_is_the_best_of_every_recruitment_and_the_cheapest_such(case: dict[str, Any]) -> None:
    years, profiles = case["years"], case["profiles"]
    result = run(case)
    best = enumerate_best(years, profiles, case["budget"], case["members"], case["max_per"])
    terms = objective(years)

    assert result.status == "optimal"
    assert_spent(result, profiles, case["budget"])
    assert all(m in case["members"] and c <= case["max_per"] for m, _, c in result.recruitment.homes)
    got = result.totals.vector(terms)
    assert same_vector(got, best.vector), (got, best.vector, result.recruitment, best.recruitments)
    assert oere(result.spent) == best.least_spent, (result.recruitment, best.recruitments)
    assert result.recruitment in best.recruitments
    assert_plans_sound(years, profiles, result)
    # Each year's plan is optimal with those homes, by the independent brute force; the base too.
    for k, year in enumerate(years):
        with_homes = result.recruitment.apply(year, profiles)
        assert same_vector(result.plans[k].totals.vector(terms), brute_force(with_homes).vector), k
        assert same_vector(result.base[k].totals.vector(terms), brute_force(year).vector), k


def test_a_sibling_home_is_recruited_for_a_group_the_single_homes_would_split() -> None:
    """A hand-checked case: a pair of siblings in A every year and nothing else; the sibling
    home costs more to recruit than one single home but less than two, and with ``together``
    two single homes could not hold the group anyway."""
    homes = [{"id": "HVB", "kind": "hvb", "municipality": "C", "capacity": 4}]
    years = [
        placering.scenario_from_dict(scenario_data(homes, [
            {"id": f"Y{k}a", "municipality": "A", "age": 6, "sibling_group": f"S{k}"},
            {"id": f"Y{k}b", "municipality": "A", "age": 9, "sibling_group": f"S{k}"},
        ]))
        for k in range(2)
    ]
    profiles = (
        Profile(name="single", kind="municipal", capacity=1, recruitment_cost=100_000),
        Profile(name="sibs", kind="municipal", capacity=2, recruitment_cost=150_000),
    )
    result = optimal_recruitment(years, profiles, 300_000, members=["A", "B"], max_per_municipality=2)
    assert result.status == "optimal"
    assert result.recruitment.total == 1 and result.recruitment.homes[0][1] == "sibs"
    assert result.totals.hvb == 0 and result.totals.unplaced == 0 and result.spent == 150_000
    # In A rather than B: same cost, fewer km.
    assert result.recruitment.homes == (("A", "sibs", 1),)
    assert result.totals.km == 0
    assert_plans_sound(years, profiles, result)
    # Members default as in section 8 (of the first year): here only A has children or homes.
    default = optimal_recruitment(years, profiles, 300_000, members=None, max_per_municipality=2)
    assert default.recruitment == result.recruitment
    in_b = optimal_recruitment(years, profiles, 300_000, members=["B"], max_per_municipality=2)
    assert in_b.recruitment.homes == (("B", "sibs", 1),) and in_b.totals.km == 2 * 2 * 20


def test_two_homes_of_one_profile_in_one_municipality_when_that_pays() -> None:
    """Two children of A each year, a 25 km limit that keeps B's and C's homes out of reach:
    the best is two single homes in A, which needs ``max_per_municipality`` of 2; with 1, one
    child a year is left without a home."""
    policy = {"max_km": {"municipal": 10, "hvb": 10, "consultant": 10}}
    years = [
        placering.scenario_from_dict(scenario_data([], [
            {"id": f"Y{k}a", "municipality": "A", "age": 6}, {"id": f"Y{k}b", "municipality": "A", "age": 15},
        ], policy))
        for k in range(2)
    ]
    profiles = (Profile(name="single", kind="municipal", capacity=1, recruitment_cost=100_000),)
    two = optimal_recruitment(years, profiles, 200_000, members=["A", "B"], max_per_municipality=2)
    assert two.status == "optimal" and two.recruitment.homes == (("A", "single", 2),)
    assert two.totals.unplaced == 0 and two.spent == 200_000
    one = optimal_recruitment(years, profiles, 200_000, members=["A", "B"], max_per_municipality=1)
    assert one.recruitment.homes == (("A", "single", 1),) and one.totals.unplaced == 2 and one.spent == 100_000
    assert_plans_sound(years, profiles, one)


def test_under_prefer_two_single_homes_do_not_hold_a_pair_unsplit() -> None:
    """``siblings="prefer"``: a pair in A, a budget for one sibling home or two single homes
    (the same money). Two single homes split the pair; the sibling home does not, so it is the
    optimum (``split_siblings`` comes right after ``unplaced``)."""
    kids = [{"id": "a", "municipality": "A", "age": 3, "sibling_group": "S"},
            {"id": "b", "municipality": "A", "age": 3, "sibling_group": "S"}]
    year = placering.scenario_from_dict(scenario_data([], kids, {"siblings": "prefer"}))
    profiles = (Profile(name="single", kind="municipal", capacity=1, recruitment_cost=50_000),
                Profile(name="sibs", kind="municipal", capacity=2, recruitment_cost=100_000))
    result = optimal_recruitment([year], profiles, 100_000, members=["A"])
    assert result.recruitment.homes == (("A", "sibs", 1),), result
    assert result.totals.split_siblings == 0 and result.totals.unplaced == 0
    assert_plans_sound([year], profiles, result)


# --- 2. metamorphic ------------------------------------------------------------------------------


@settings(max_examples=examples(30), **SETTINGS)
@given(tiny_cases(), st.sampled_from((50_000, 100_000, 250_000)))
def test_a_larger_budget_is_never_worse(case: dict[str, Any], more: int) -> None:
    terms = objective(case["years"])
    small = run(case)
    large = run(case, budget=case["budget"] + more)
    assert small.status == large.status == "optimal"
    assert lex_leq(large.totals.vector(terms), small.totals.vector(terms))
    assert_spent(large, case["profiles"], case["budget"] + more)


@settings(max_examples=examples(30), **SETTINGS)
@given(tiny_cases())
def test_a_larger_max_per_municipality_is_never_worse(case: dict[str, Any]) -> None:
    terms = objective(case["years"])
    tight = run(case, max_per=1)
    loose = run(case, max_per=case["max_per"] + 1)
    assert lex_leq(loose.totals.vector(terms), tight.totals.vector(terms))
    assert all(c <= 1 for _, _, c in tight.recruitment.homes)


@settings(max_examples=examples(30), **SETTINGS)
@given(tiny_cases(max_years=2), st.integers(1, 3))
def test_a_year_no_recruit_could_serve_adds_its_base_and_changes_nothing_else(case: dict[str, Any], n: int) -> None:
    """The extra year's children all need ``substance``, which no profile offers: whatever is
    recruited, that year's optimum is its base's, so the optimum over all years is the old
    optimum plus that base, at the same least spend."""
    years, profiles = case["years"], case["profiles"]
    assert all("substance" not in p.competences for p in profiles)
    children = [{"id": f"X{i}", "municipality": CODES[i % 3], "age": 10, "needs": ["substance"]} for i in range(n)]
    extra = placering.scenario_from_dict(scenario_data(case["homes"], children, case["policy"]))
    terms = objective(years)
    before = run(case)
    after = run(case, years=[*years, extra])
    extra_base = solve(extra).totals.vector(terms)
    assert same_vector(after.totals.vector(terms), summed([before.totals.vector(terms), extra_base]))
    assert same_vector(summed([p.totals.vector(terms) for p in after.plans[:-1]]), before.totals.vector(terms))
    assert oere(after.spent) == oere(before.spent)
    # The chosen homes are worth on the old years what the old optimum is worth.
    assert same_vector(value(years, after.recruitment, profiles), before.totals.vector(terms))


# --- 3. determinism ------------------------------------------------------------------------------


@settings(max_examples=examples(20), **SETTINGS)
@given(tiny_cases())
def test_the_same_input_gives_the_same_recruitment_and_the_profile_order_not_the_totals(
    case: dict[str, Any],
) -> None:
    terms = objective(case["years"])
    first, again = run(case), run(case)
    assert first.recruitment == again.recruitment
    assert first.totals == again.totals and first.spent == again.spent
    assert [p.totals for p in first.plans] == [p.totals for p in again.plans]
    flipped = run(case, profiles=tuple(reversed(case["profiles"])))
    assert same_vector(flipped.totals.vector(terms), first.totals.vector(terms))
    assert oere(flipped.spent) == oere(first.spent)
    # The decision lists the profiles in the order given.
    names = [p.name for p in reversed(case["profiles"])]
    for m in case["members"]:
        used = [p for mm, p, _ in flipped.recruitment.homes if mm == m]
        assert used == sorted(used, key=names.index)


# --- 4. time limits ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def county() -> placering.Scenario:
    return placering.generate("dalarna", children=80, seed=3)


def test_a_tiny_time_limit_gives_a_sound_recruitment_with_bounds(county: placering.Scenario) -> None:
    years = sampled_years(county, 3, seed=5)
    profiles = placering.recruitment.default_profiles()
    budget = 1_500_000
    params = placering.SolveParams(time_limit=0.5, seed=0, workers=1)
    result = optimal_recruitment(years, profiles, budget, members=["2080", "2081", "2085", "2062"], params=params)
    assert result.status in ("optimal", "feasible")
    assert_spent(result, profiles, budget)
    assert_plans_sound(years, profiles, result)
    totals = result.totals.to_dict()
    if result.status == "feasible":
        assert dict(result.bounds), "a feasible recruitment needs bounds"
        for term, bound in result.bounds.items():
            assert term in totals, term
            assert bound <= totals[term] + 1e-6, (term, bound, totals[term])
        # Certified: no bound lies above the proven optimum's total (as for a plan's bounds).
        members = ["2080", "2081", "2085", "2062"]
        proven = optimal_recruitment(years, profiles, budget, members=members,
                                     params=placering.SolveParams(seed=0, workers=1))
        assert proven.status == "optimal"
        best = proven.totals.to_dict()
        for term, bound in result.bounds.items():
            assert bound <= best[term] + 1e-6, (term, bound, best[term])
        terms = objective(years)
        assert lex_leq(proven.totals.vector(terms), result.totals.vector(terms))
    else:
        assert not dict(result.bounds)


@settings(max_examples=examples(15), **SETTINGS)
@given(tiny_cases())
def test_a_zero_time_limit_is_still_sound_and_its_bounds_below_the_optimum(case: dict[str, Any]) -> None:
    years, profiles = case["years"], case["profiles"]
    quick = optimal_recruitment(years, profiles, case["budget"], members=case["members"],
                                max_per_municipality=case["max_per"],
                                params=placering.SolveParams(time_limit=0, seed=0, workers=1))
    assert quick.status in ("optimal", "feasible")
    assert_spent(quick, profiles, case["budget"])
    assert_plans_sound(years, profiles, quick)
    best = enumerate_best(years, profiles, case["budget"], case["members"], case["max_per"])
    terms = objective(years)
    if quick.status == "optimal":
        assert same_vector(quick.totals.vector(terms), best.vector)
    else:
        assert dict(quick.bounds)
        # A certified bound on the first term holds for the true optimum.
        name = "cost_per_day" if terms[0] == "cost" else terms[0]
        if name in quick.bounds:
            assert quick.bounds[name] <= best.vector[0] + 1e-6
        totals = quick.totals.to_dict()
        assert all(b <= totals[t] + 1e-6 for t, b in quick.bounds.items())


# --- 5. sampled demand years ---------------------------------------------------------------------


def _non_kin(scenario: placering.Scenario) -> list[Any]:
    return [h for h in scenario.homes if h.kind != "kin"]


@pytest.fixture(scope="module")
def isolated(county: placering.Scenario) -> placering.Scenario:
    """The county under a policy that is not the generator's default."""
    policy = attrs.evolve(county.policy, pooling="isolated", siblings="prefer")
    return attrs.evolve(county, policy=policy)


def test_sampled_years_keep_the_homes_and_policy_and_draw_new_children(isolated: placering.Scenario) -> None:
    years = sampled_years(isolated, 4, seed=11)
    assert len(years) == 4
    for year in years:
        assert year.region == isolated.region
        assert year.policy == isolated.policy
        assert _non_kin(year) == _non_kin(isolated)
        assert len(year.children) == len(isolated.children)
        assert all(h.kind != "kin" or set(h.reserved_for) <= {c.id for c in year.children} for h in year.homes)
    assert check_years(years) == years
    assert check_years([isolated, *years]) == (isolated, *years)
    # The years differ from each other and from the scenario.
    drawn = [tuple(year.children) for year in years]
    assert len(set(drawn)) == 4 and tuple(isolated.children) not in drawn


def test_sampled_years_are_deterministic_per_seed_and_differ_between_seeds(isolated: placering.Scenario) -> None:
    assert sampled_years(isolated, 3, seed=7) == sampled_years(isolated, 3, seed=7)
    one, two = sampled_years(isolated, 3, seed=1), sampled_years(isolated, 3, seed=2)
    for a, b in zip(one, two, strict=True):
        assert a.children != b.children
    assert sampled_years(isolated, 0, seed=1) == ()


def test_held_out_years_continue_the_sequence_and_never_repeat_a_training_year(isolated: placering.Scenario) -> None:
    training = sampled_years(isolated, 3, seed=4)
    held_out = sampled_years(isolated, 3, seed=4, first=3)
    assert held_out == sampled_years(isolated, 6, seed=4)[3:]
    assert training == sampled_years(isolated, 6, seed=4)[:3]
    assert not {tuple(y.children) for y in training} & {tuple(y.children) for y in held_out}


def _changed(year: placering.Scenario, field: str) -> placering.Scenario:
    if field == "region":
        region = attrs.evolve(year.region, name="elsewhere")
        assert region != year.region
        return attrs.evolve(year, region=region)
    if field == "policy":
        return attrs.evolve(year, policy=attrs.evolve(year.policy, keep_current=not year.policy.keep_current))
    homes = list(year.homes)
    j = next(i for i, h in enumerate(homes) if h.kind != "kin")
    homes[j] = attrs.evolve(homes[j], capacity=homes[j].capacity + 1)
    return attrs.evolve(year, homes=homes)


@pytest.mark.parametrize("field", ["region", "policy", "homes"])
def test_check_years_refuses_another_region_policy_or_non_kin_homes(
    county: placering.Scenario, field: str
) -> None:
    years = list(sampled_years(county, 3, seed=9))
    years[2] = _changed(years[2], field)
    with pytest.raises(InvalidInputError) as caught:
        check_years(years)
    assert caught.value.field == field and caught.value.entity == "demand year 3"
    assert "demand year 3" in str(caught.value) and field in str(caught.value)
    with pytest.raises(InvalidInputError) as named:
        check_years(years, names=["a.json", "b.json", "c.json"])
    assert named.value.entity == "c.json" and named.value.field == field
    # The optimum checks its years alike.
    with pytest.raises(InvalidInputError) as refused:
        optimal_recruitment(years, placering.recruitment.default_profiles(), 100_000, members=["2080"])
    assert refused.value.field == field and "3" in str(refused.value)


def test_check_years_accepts_other_kin_homes_and_refuses_none() -> None:
    kin = {"id": "K", "kind": "kin", "municipality": "A", "capacity": 1, "reserved_for": ["C1"]}
    plain = {"id": "H", "kind": "municipal", "municipality": "B", "capacity": 1}
    child = [{"id": "C1", "municipality": "A", "age": 5}]
    a = placering.scenario_from_dict(scenario_data([plain], child))
    b = placering.scenario_from_dict(scenario_data([kin, plain], child))
    assert check_years([a, b]) == (a, b)
    with pytest.raises(InvalidInputError):
        check_years([])


# --- 6. edges ------------------------------------------------------------------------------------


@settings(max_examples=examples(15), **SETTINGS)
@given(tiny_cases())
def test_a_budget_of_zero_recruits_nothing_and_gives_the_base(case: dict[str, Any]) -> None:
    years, profiles = case["years"], case["profiles"]
    result = run(case, budget=0)
    assert result.status == "optimal"
    assert result.recruitment == Recruitment() and result.recruitment.homes == () and result.spent == 0
    base = summed_totals([p.totals for p in result.base])
    plain = summed_totals([solve(y).totals for y in years])
    terms = objective(years)
    assert same_vector(result.totals.vector(terms), summed([solve(y).totals.vector(terms) for y in years]))
    assert same_vector(summed([p.totals.vector(terms) for p in result.base]), result.totals.vector(terms))
    assert _close(base["unplaced"], plain["unplaced"])
    assert_plans_sound(years, profiles, result)


RARE = Profile(name="rare", kind="municipal", capacity=2, min_age=20, max_age=20, competences=["disability"],
               cost_per_day=0, recruitment_cost=10_000)


@settings(max_examples=examples(15), **SETTINGS)
@given(tiny_cases())
def test_a_profile_no_child_may_use_is_never_recruited(case: dict[str, Any]) -> None:
    """Cheap and free per day, but no child of any year may live there: spending on it buys
    nothing, so the least spent optimum leaves it out."""
    profiles = (*case["profiles"], RARE)
    result = run(case, profiles=profiles, budget=case["budget"] + 20_000)
    assert all(p != "rare" for _, p, _ in result.recruitment.homes)
    without = run(case, budget=case["budget"] + 20_000)
    terms = objective(case["years"])
    assert same_vector(result.totals.vector(terms), without.totals.vector(terms))
    assert oere(result.spent) == oere(without.spent)


@settings(max_examples=examples(15), **SETTINGS)
@given(tiny_cases())
def test_an_unaffordable_profile_is_never_recruited(case: dict[str, Any]) -> None:
    """A profile that would serve everyone at no daily cost, but costs more than the budget."""
    dream = Profile(name="dream", kind="municipal", capacity=6, competences=["npf", "trauma", "substance"],
                    max_care_level=4, cost_per_day=0, recruitment_cost=case["budget"] + 0.01)
    profiles = (dream, *case["profiles"])
    result = run(case, profiles=profiles)
    assert all(p != "dream" for _, p, _ in result.recruitment.homes)
    without = run(case)
    terms = objective(case["years"])
    assert same_vector(result.totals.vector(terms), without.totals.vector(terms))
    assert_spent(result, profiles, case["budget"])


def test_a_budget_just_enough_in_oere_buys_the_home() -> None:
    """Budget and costs compare exactly in öre: a budget equal to the cost buys one home, one
    öre less buys none."""
    years = [placering.scenario_from_dict(scenario_data([], [{"id": f"Y{k}", "municipality": "A", "age": 8}]))
             for k in range(2)]
    profiles = (Profile(name="p", kind="municipal", capacity=1, recruitment_cost=100_000.1),)
    bought = optimal_recruitment(years, profiles, 100_000.1, members=["A"])
    assert bought.recruitment.homes == (("A", "p", 1),) and bought.totals.unplaced == 0
    assert bought.spent == pytest.approx(100_000.1)
    short = optimal_recruitment(years, profiles, 100_000.09, members=["A"])
    assert short.recruitment.homes == () and short.totals.unplaced == 2


# --- the priced program: short lists grown by pricing -------------------------------------------


@pytest.fixture
def priced(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every program priced from one arc a unit, free to grow as far as a proof needs."""
    import placering.recruitment.optimum as optimum_module

    monkeypatch.setattr(optimum_module, "FULL_ARCS", 0)
    monkeypatch.setattr(optimum_module, "GROWN_ARCS", 10**9)
    monkeypatch.setattr(optimum_module, "SHORT_ARCS", 1)


def test_the_priced_program_proves_the_whole_programs_optimum(county: placering.Scenario, priced: None) -> None:
    years = sampled_years(county, 3, seed=5)
    profiles = placering.recruitment.default_profiles()
    members = ["2080", "2081", "2085", "2062"]
    result = optimal_recruitment(years, profiles, 700_000, members=members)
    assert result.priced and result.arcs_priced_in > 0, "pricing added no arc: the path was not exercised"
    import placering.recruitment.optimum as optimum_module

    optimum_module.FULL_ARCS = 10**9  # monkeypatch restores it
    whole = optimal_recruitment(years, profiles, 700_000, members=members)
    assert not whole.priced
    terms = objective(years)
    assert result.status == whole.status == "optimal"
    assert same_vector(result.totals.vector(terms), whole.totals.vector(terms))
    assert result.spent == whole.spent
    assert_plans_sound(years, profiles, result)


@settings(max_examples=examples(20), **SETTINGS)
@given(tiny_cases())
def test_priced_tiny_cases_reach_the_enumerated_best(case: dict[str, Any]) -> None:
    import placering.recruitment.optimum as optimum_module

    saved = optimum_module.FULL_ARCS, optimum_module.GROWN_ARCS, optimum_module.SHORT_ARCS
    optimum_module.FULL_ARCS, optimum_module.GROWN_ARCS, optimum_module.SHORT_ARCS = 0, 10**9, 1
    try:
        result = run(case)
    finally:
        optimum_module.FULL_ARCS, optimum_module.GROWN_ARCS, optimum_module.SHORT_ARCS = saved
    years, profiles = case["years"], case["profiles"]
    best = enumerate_best(years, profiles, case["budget"], case["members"], case["max_per"])
    assert result.status == "optimal"
    # Priced unless siblings="prefer" keeps the program whole or there is no arc to price.
    if years[0].policy.siblings != "prefer" and any(len(all_arcs(y)) for y in years):
        assert result.priced
    assert same_vector(result.totals.vector(objective(years)), best.vector)
    assert oere(result.spent) == best.least_spent
    assert_plans_sound(years, profiles, result)


def test_a_gap_too_wide_to_close_leaves_a_sound_recruitment_with_certified_bounds(
    county: placering.Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    import placering.recruitment.optimum as optimum_module

    years = sampled_years(county, 3, seed=5)
    profiles = placering.recruitment.default_profiles()
    members = ["2080", "2081", "2085", "2062"]
    proven = optimal_recruitment(years, profiles, 700_000, members=members)
    monkeypatch.setattr(optimum_module, "FULL_ARCS", 0)
    monkeypatch.setattr(optimum_module, "GROWN_ARCS", 0)
    monkeypatch.setattr(optimum_module, "SHORT_ARCS", 1)
    result = optimal_recruitment(years, profiles, 700_000, members=members)
    assert result.priced
    assert_spent(result, profiles, 700_000)
    assert_plans_sound(years, profiles, result)
    terms = objective(years)
    assert lex_leq(proven.totals.vector(terms), result.totals.vector(terms))
    best = proven.totals.to_dict()
    for term, bound in result.bounds.items():
        assert bound <= best[term] + 1e-6, (term, bound, best[term])
    if result.status == "optimal":
        assert same_vector(result.totals.vector(terms), proven.totals.vector(terms))
    else:
        assert result.bounds


def test_the_optimum_does_not_depend_on_the_executor(county: placering.Scenario) -> None:
    from concurrent.futures import ProcessPoolExecutor

    years = sampled_years(county, 2, seed=7)
    profiles = placering.recruitment.default_profiles()
    members = ["2080", "2081"]
    alone = optimal_recruitment(years, profiles, 400_000, members=members)
    with ProcessPoolExecutor(max_workers=2) as pool:
        pooled = optimal_recruitment(years, profiles, 400_000, members=members, executor=pool)
    assert pooled.recruitment == alone.recruitment and pooled.totals == alone.totals
    assert [p.home_of() for p in pooled.base] == [p.home_of() for p in alone.base]
    assert [p.home_of() for p in pooled.plans] == [p.home_of() for p in alone.plans]
