"""The plan a solve returns: assignments, unplaced children, totals and explanations."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from placering.policy import KINDS
from placering.scenario import Scenario

__all__ = [
    "STAGE_METHODS",
    "STATUSES",
    "Assignment",
    "Explanation",
    "MunicipalityBreakdown",
    "Plan",
    "SolverStats",
    "StageStats",
    "TermProgress",
    "TotalUnits",
    "Totals",
    "Unplacement",
    "total_units",
    "totals_of",
]

#: ``optimal``: proven; ``feasible``: the best plan found when the time limit hit.
STATUSES = ("optimal", "feasible", "infeasible")

#: The totals key of each objective term (``cost`` is reported as ``cost_per_day``).
TOTAL_OF_TERM = {
    "unplaced": "unplaced",
    "hvb": "hvb",
    "consultant": "consultant",
    "split_siblings": "split_siblings",
    "cost": "cost_per_day",
    "km": "km",
}

DAYS_PER_YEAR = 365


def whole(value: float) -> float | int:
    """``14300.0`` as ``14300``: costs and km read better without a trailing ``.0``."""
    return int(value) if float(value).is_integer() else value


@attrs.frozen(kw_only=True)
class Assignment:
    """One child in one home, with the road km from the child's municipality and the cost."""

    child: str
    home: str
    kind: str
    km: float
    cost_per_day: float
    kept: bool = False


@attrs.frozen(kw_only=True)
class Unplacement:
    """A child left without a placement, and why."""

    child: str
    reasons: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class Explanation:
    """Why a child ends in an HVB or consultant home, or unplaced, in domain terms.

    ``rule`` is a short category for summaries: ``needs``, ``age``, ``care_level``,
    ``distance``, ``pooling``, ``kin``, ``none`` (no home of the cheaper kinds at all),
    ``full`` (the suitable cheaper homes are taken), ``siblings`` (none has room for the whole
    group), ``together`` (no home suits every child of the group), or ``objective``.
    """

    child: str
    rule: str
    text: str


@attrs.frozen(kw_only=True)
class Totals:
    """Every objective term over all children, those kept in their current home too."""

    unplaced: int
    hvb: int
    consultant: int
    split_siblings: int
    cost_per_day: float
    km: float

    def term(self, name: str) -> float:
        """The total of objective term ``name`` (``cost`` reads ``cost_per_day``)."""
        return getattr(self, TOTAL_OF_TERM[name])

    def vector(self, terms: Iterable[str]) -> tuple[float, ...]:
        return tuple(self.term(t) for t in terms)

    def to_dict(self) -> dict[str, Any]:
        return {
            "unplaced": self.unplaced,
            "hvb": self.hvb,
            "consultant": self.consultant,
            "split_siblings": self.split_siblings,
            "cost_per_day": whole(self.cost_per_day),
            "km": float(self.km),
        }


@attrs.frozen(kw_only=True)
class TotalUnits:
    """A plan's totals in exact integers: counts, and costs and km in their scaled units."""

    unplaced: int
    hvb: int
    consultant: int
    split_siblings: int
    cost_units: int
    km_units: int
    cost_scale: int


def total_units(scenario: Scenario, home_of: Mapping[str, str]) -> TotalUnits:
    """:func:`totals_of` before costs and km are divided by their scales."""
    region = scenario.region
    cost_scale = scenario.cost_scale
    kinds: Counter[str] = Counter()
    km_units = cost_units = unplaced = 0
    for child in scenario.children:
        home_id = home_of.get(child.id)
        if home_id is None:
            unplaced += 1
            continue
        home = scenario.home(home_id)
        kinds[home.kind] += 1
        km_units += region.km_units(child.municipality, home.municipality)
        cost_units += round(scenario.cost_of(home) * cost_scale)
    split = 0
    for members in scenario.sibling_groups.values():
        homes = {home_of[c.id] for c in members if c.id in home_of}
        split += max(0, len(homes) - 1)
    return TotalUnits(
        unplaced=unplaced,
        hvb=kinds["hvb"],
        consultant=kinds["consultant"],
        split_siblings=split,
        cost_units=cost_units,
        km_units=km_units,
        cost_scale=cost_scale,
    )


def totals_of(scenario: Scenario, home_of: Mapping[str, str]) -> Totals:
    """Totals of the plan that puts each child ``c`` in ``home_of[c]`` (absent: unplaced).

    Sums run over integer-scaled km and costs, so equal plans give bit-identical totals.
    """
    units = total_units(scenario, home_of)
    return Totals(
        unplaced=units.unplaced,
        hvb=units.hvb,
        consultant=units.consultant,
        split_siblings=units.split_siblings,
        cost_per_day=units.cost_units / units.cost_scale,
        km=units.km_units / scenario.region.km_scale,
    )


#: How a stage of the lexicographic objective was settled:
#: ``incumbent``: the plan handed in (column generation's last round) meets the flow bound;
#: ``flow``: the min-cost flow keeps every sibling group whole;
#: ``rounding``: the flow rounded and repaired (the anytime plan) meets the flow's bound;
#: ``parts``: the flow's split groups made whole part by independent part (see ``parts``);
#: ``dive``: on the flow's optimal face, the whole matching at once;
#: ``branch and bound``: over flows, settling this stage and every later one;
#: ``mip``: SCIP on the whole matching, settling this stage and every later one;
#: ``cp-sat``: CP-SAT on the stage (the ``cp-sat`` strategy, or a last resort).
STAGE_METHODS = ("incumbent", "flow", "rounding", "parts", "dive", "branch and bound", "mip", "cp-sat")


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _methods(allowed: tuple[str, ...]) -> Any:
    return attrs.validators.deep_iterable(attrs.validators.in_(allowed))


@attrs.frozen(kw_only=True)
class StageStats:
    """How one stage of the lexicographic objective was settled, for tuning and tests.

    ``value`` and ``bound`` are in the stage's own units (its terms merged by weight, km and
    costs scaled to whole numbers); ``bound`` is the flow's LP bound (0 where none was
    solved). ``parts`` says, for each independent part holding a split sibling group, how it
    was settled (``dive``, ``branch and bound`` or ``mip``). ``flows`` counts the min-cost
    flows solved, ``mips`` the MIPs given to SCIP, ``mip_vars`` and ``mip_rows`` the size of
    the largest of them, and ``pieces`` how many of them settled a piece of a part, smaller
    than the part, that fixing by reduced costs left independent.
    """

    terms: tuple[str, ...] = attrs.field(converter=_strings)
    method: str = attrs.field(validator=attrs.validators.in_(STAGE_METHODS))
    proven: bool
    seconds: float
    value: int
    bound: int = 0
    flows: int = 0
    parts: tuple[str, ...] = attrs.field(
        default=(), converter=_strings, validator=_methods(("dive", "branch and bound", "mip"))
    )
    mips: int = 0
    mip_vars: int = 0
    mip_rows: int = 0
    pieces: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["terms"], data["parts"] = list(self.terms), list(self.parts)
        return data


@attrs.frozen(kw_only=True)
class TermProgress:
    """A point of the anytime curve: ``seconds`` into the solve, the best plan held had
    ``value`` of ``term`` (a totals key, in its units) against a certified lower ``bound``
    on it; the gap closes where they meet."""

    seconds: float
    term: str
    value: float
    bound: float

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _progress(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(TermProgress(**v) if isinstance(v, Mapping) else v for v in value)
    return value


def _stage_stats(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(StageStats(**v) if isinstance(v, Mapping) else v for v in value)
    return value


@attrs.frozen(kw_only=True)
class SolverStats:
    """How the solve went: wall time, stages, seed, workers and the OR-Tools version.

    ``by_stage`` says how each stage was settled (:class:`StageStats`). Above a size the
    matching is solved by column generation: then ``pricing_rounds`` counts its rounds of
    pricing, ``all_arcs`` the arcs it priced (``arcs`` those it solved on), and ``certified``
    whether pricing proved that no left-out arc could improve the plan. ``progress`` is the
    anytime curve: each term's value in the best plan held, against its certified bound, over
    time (:class:`TermProgress`).
    """

    wall_s: float
    #: Of ``wall_s``: building the model (rules 1-6 and the 0-1 program), and the search.
    build_s: float = 0.0
    solve_s: float = 0.0
    seed: int = 0
    workers: int = 1
    stages: int = 0
    units: int = 0
    arcs: int = 0
    engine: str = ""
    by_stage: tuple[StageStats, ...] = attrs.field(default=(), converter=_stage_stats)
    pricing_rounds: int = 0
    all_arcs: int = 0
    certified: bool = True
    progress: tuple[TermProgress, ...] = attrs.field(default=(), converter=_progress)

    def to_dict(self) -> dict[str, Any]:
        data = attrs.asdict(self, recurse=False)
        data["by_stage"] = [stage.to_dict() for stage in self.by_stage]
        data["progress"] = [point.to_dict() for point in self.progress]
        return data


@attrs.frozen(kw_only=True)
class MunicipalityBreakdown:
    """Placements by kind, unplaced children and costs for one responsible municipality."""

    code: str
    name: str
    placements: Mapping[str, int]
    unplaced: int
    cost_per_day: float

    @property
    def children(self) -> int:
        return sum(self.placements.values()) + self.unplaced

    @property
    def cost_per_year(self) -> float:
        return self.cost_per_day * DAYS_PER_YEAR


@attrs.frozen(kw_only=True)
class Plan:
    """A placement plan: every child of the scenario once, in ``assignments`` or ``unplaced``.

    ``bounds`` holds, for a ``feasible`` plan, a certified lower bound on each objective
    term the solver did not prove.
    """

    status: str
    assignments: tuple[Assignment, ...]
    unplaced: tuple[Unplacement, ...]
    totals: Totals
    explanations: Mapping[str, Explanation] = attrs.field(factory=dict)
    bounds: Mapping[str, float] = attrs.field(factory=dict)
    solver: SolverStats | None = None

    @classmethod
    def from_home_of(cls, scenario: Scenario, home_of: Mapping[str, str], *, status: str = "optimal") -> Plan:
        """The plan that puts each child ``c`` in ``home_of[c]`` and leaves the others unplaced,
        with km, costs and totals filled in (no explanations)."""
        assignments = []
        unplaced = []
        for child in scenario.children:
            home_id = home_of.get(child.id)
            if home_id is None:
                unplaced.append(Unplacement(child=child.id))
                continue
            home = scenario.home(home_id)
            assignments.append(
                Assignment(
                    child=child.id,
                    home=home_id,
                    kind=home.kind,
                    km=scenario.km_between(child, home),
                    cost_per_day=scenario.cost_of(home),
                    kept=scenario.is_kept(child) and child.current_home == home_id,
                )
            )
        return cls(
            status=status,
            assignments=tuple(assignments),
            unplaced=tuple(unplaced),
            totals=totals_of(scenario, home_of),
        )

    def home_of(self) -> dict[str, str]:
        """Child id to home id, for the placed children."""
        return {a.child: a.home for a in self.assignments}

    def by_municipality(self, scenario: Scenario) -> tuple[MunicipalityBreakdown, ...]:
        """The breakdown per responsible municipality, in the region's order."""
        placements: dict[str, Counter[str]] = defaultdict(Counter)
        costs: dict[str, float] = defaultdict(float)
        unplaced: Counter[str] = Counter()
        for a in self.assignments:
            code = scenario.child(a.child).municipality
            placements[code][a.kind] += 1
            costs[code] += a.cost_per_day
        for u in self.unplaced:
            unplaced[scenario.child(u.child).municipality] += 1
        used = {c.municipality for c in scenario.children}
        return tuple(
            MunicipalityBreakdown(
                code=m.code,
                name=m.name,
                placements={kind: placements[m.code][kind] for kind in KINDS},
                unplaced=unplaced[m.code],
                cost_per_day=costs[m.code],
            )
            for m in scenario.region.municipalities
            if m.code in used
        )

    def to_frame(self, scenario: Scenario | None = None) -> Any:
        """The plan as a pandas DataFrame, one row per child (the ``tables`` extra); with the
        scenario, the child's and the home's municipalities too (:func:`placering.tables.plan_frame`)."""
        from placering.tables import plan_frame

        return plan_frame(self, scenario)

    def municipalities_frame(self, scenario: Scenario) -> Any:
        """:meth:`by_municipality` as a pandas DataFrame with yearly costs
        (:func:`placering.tables.municipality_frame`)."""
        from placering.tables import municipality_frame

        return municipality_frame(self, scenario)
