"""The recruitment plan of design.md section 9 (``placering recruit SCENARIO... --budget KR``).

Training years are the scenario files given, or ``sample`` years drawn for the first file's
homes (:func:`placering.recruitment.demand.sampled_years`). The optimum over them comes from
:func:`placering.recruitment.optimum.optimal_recruitment`. With ``holdout``, that many further
years of the same seed's sequence (continuing after the training years drawn, so none repeats
one) weigh the plan and the ``population`` and ``greedy`` baselines by exact solves
(:mod:`placering.recruitment.evaluation`). ``recruitment_to_dict`` writes ``placering.recruitment/1``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from typing import Any

import attrs

from placering.comparison import yearly_cost
from placering.cooperation.shares import kr
from placering.exceptions import InvalidInputError
from placering.params import SolveParams
from placering.recruitment.decision import Recruitment
from placering.recruitment.demand import MAX_YEARS, check_years, sampled_years
from placering.recruitment.evaluation import (
    Evaluation,
    Occupancy,
    YearOutcome,
    evaluate,
    greedy_recruitment,
    occupancy,
    population_recruitment,
    year_outcome,
)
from placering.recruitment.optimum import DEFAULT_MAX_PER_MUNICIPALITY, Optimum, optimal_recruitment
from placering.recruitment.profiles import Profile
from placering.scenario import Scenario
from placering.sweep import Outcome

__all__ = ["MAX_BUDGET", "RECRUITMENT_FORMAT", "Holdout", "RecruitmentPlan", "recruitment_plan",
           "recruitment_to_dict"]

RECRUITMENT_FORMAT = "placering.recruitment/1"

#: The largest budget accepted, kr (a sanity bound: a region's yearly cost is some 10^9 kr).
MAX_BUDGET = 1e12

#: The baselines of section 9, in the order they are reported.
BASELINES = ("population", "greedy")


@attrs.frozen(kw_only=True)
class Holdout:
    """The plan and the baselines weighed on the held-out years."""

    years: int
    plan: Evaluation
    baselines: dict[str, Evaluation]


@attrs.frozen(kw_only=True)
class RecruitmentPlan:
    """The recruitment plan: the optimum on the training years, what it gives there
    (``training``, from the optimum's own plans) and, with held-out years, ``holdout``."""

    budget: float
    members: tuple[str, ...]
    profiles: tuple[Profile, ...]
    max_per_municipality: int
    optimum: Optimum
    training: Evaluation
    holdout: Holdout | None
    occupancy: tuple[Occupancy, ...]

    @property
    def recruitment(self) -> Recruitment:
        return self.optimum.recruitment

    @property
    def status(self) -> str:
        return self.optimum.status


def _check(budget: float, sample: int | None, holdout: int, max_per_municipality: int, files: int) -> None:
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not math.isfinite(budget) \
            or not 0 <= budget <= MAX_BUDGET:
        raise InvalidInputError(f"budget must be a number of kr 0-{MAX_BUDGET:.0e}, got {budget!r}",
                                entity="recruitment", field="budget")
    if sample is not None:
        if files > 1:
            raise InvalidInputError(f"sample draws years for one scenario, but {files} were given",
                                    entity="recruitment", field="sample")
        if not 1 <= sample <= MAX_YEARS:
            raise InvalidInputError(f"sample must be 1-{MAX_YEARS} demand years, got {sample}",
                                    entity="recruitment", field="sample")
    if not 0 <= holdout <= MAX_YEARS:
        raise InvalidInputError(f"holdout must be 0-{MAX_YEARS} demand years, got {holdout}",
                                entity="recruitment", field="holdout")
    if isinstance(max_per_municipality, bool) or not isinstance(max_per_municipality, int) \
            or max_per_municipality < 0:
        raise InvalidInputError(f"max_per_municipality must be a whole number >= 0, got {max_per_municipality!r}",
                                entity="recruitment", field="max_per_municipality")


def _training(optimum: Optimum, years: Sequence[Scenario], profiles: Sequence[Profile]) -> Evaluation:
    """The training years as the optimum solved them: its base plans and its plans with recruits."""
    recruitment = optimum.recruitment
    base = tuple(
        Outcome(status=p.status, totals=p.totals, yearly_cost=yearly_cost(y, p), bounds=dict(p.bounds))
        for y, p in zip(years, optimum.base, strict=True)
    )
    outcomes: tuple[YearOutcome, ...] = tuple(
        year_outcome(recruitment.apply(y, profiles), p, recruitment) for y, p in zip(years, optimum.plans, strict=True)
    )
    return Evaluation(recruitment=recruitment, base=base, outcomes=outcomes)


def recruitment_plan(
    scenario_or_years: Scenario | Sequence[Scenario],
    profiles: Sequence[Profile],
    budget: float,
    *,
    members: Iterable[str] | None = None,
    max_per_municipality: int = DEFAULT_MAX_PER_MUNICIPALITY,
    sample: int | None = None,
    seed: int = 0,
    holdout: int = 0,
    params: SolveParams | None = None,
    executor: Executor | None = None,
    progress: bool | None = None,
    names: Sequence[str] | None = None,
    baselines: Sequence[str] = BASELINES,
) -> RecruitmentPlan:
    """The recruitment plan of design.md section 9.

    ``scenario_or_years`` are the demand years (``names`` name them in errors), or, with
    ``sample``, the one scenario whose homes ``sample`` drawn years keep. ``holdout`` further
    years drawn by ``seed`` (continuing the sequence after the training years drawn) weigh the
    plan and the ``baselines`` (default ``population`` and ``greedy``, as section 9 asks; the
    greedy one solves every member, profile and year a round, hours on 20 demo years, so it can
    be left out); 0 skips them. Every solve uses ``params`` with one worker; sweeps go through
    ``executor``.
    """
    from placering.recruitment import _members

    given = [scenario_or_years] if isinstance(scenario_or_years, Scenario) else list(scenario_or_years)
    _check(budget, sample, holdout, max_per_municipality, len(given))
    baselines = tuple(baselines)
    for name in baselines:
        if name not in BASELINES or baselines.count(name) > 1:
            raise InvalidInputError(f"baselines are {' and '.join(BASELINES)}, each once, got {name!r}",
                                    entity="recruitment", field="baselines")
    profiles = tuple(profiles)
    if not profiles:
        raise InvalidInputError("needs at least one profile", entity="recruitment", field="profiles")
    files = check_years(given, names)
    first = files[0]
    years = sampled_years(first, sample, seed) if sample is not None else files
    chosen = _members(first, members)
    params = (params or SolveParams()).replace(workers=1)
    optimum = optimal_recruitment(years, profiles, budget, members=chosen,
                                  max_per_municipality=max_per_municipality, params=params, executor=executor)
    training = _training(optimum, years, profiles)
    held: Holdout | None = None
    if holdout:
        held = _holdout(first, years, optimum, training, profiles, budget, chosen, max_per_municipality,
                        holdout, sample or 0, seed, params, executor, progress, baselines)
    rows = occupancy(optimum.recruitment, profiles, training, held.plan if held else None)
    return RecruitmentPlan(
        budget=float(budget),
        members=chosen,
        profiles=profiles,
        max_per_municipality=max_per_municipality,
        optimum=optimum,
        training=training,
        holdout=held,
        occupancy=rows,
    )


def _holdout(
    first: Scenario,
    years: Sequence[Scenario],
    optimum: Optimum,
    training: Evaluation,
    profiles: tuple[Profile, ...],
    budget: float,
    members: tuple[str, ...],
    max_per_municipality: int,
    count: int,
    drawn: int,
    seed: int,
    params: SolveParams,
    executor: Executor | None,
    progress: bool | None,
    baselines: tuple[str, ...],
) -> Holdout:
    chosen: dict[str, Recruitment] = {}
    for name in BASELINES:
        if name == "population" and name in baselines:
            chosen[name] = population_recruitment(first, profiles, budget, members, max_per_municipality)
        elif name == "greedy" and name in baselines:
            chosen[name] = greedy_recruitment(years, profiles, budget, members, max_per_municipality, params,
                                              base=training.base, executor=executor, progress=progress)
    held_years = sampled_years(first, count, seed, first=drawn)
    plan, *others = evaluate([optimum.recruitment, *chosen.values()], held_years, profiles,
                             params, executor=executor, progress=progress)
    return Holdout(years=count, plan=plan, baselines=dict(zip(chosen, others, strict=True)))


# --- the file ------------------------------------------------------------------------------------


def _homes(recruitment: Recruitment) -> list[dict[str, Any]]:
    return [{"municipality": m, "profile": p, "count": c} for m, p, c in recruitment.homes]


def _statuses(evaluation: Evaluation) -> dict[str, Any]:
    """Per year, the statuses of the solves without and with the recruited homes."""
    return {"base": list(evaluation.base_statuses), "with_recruits": list(evaluation.statuses)}


def recruitment_to_dict(plan: RecruitmentPlan) -> dict[str, Any]:
    """The ``placering.recruitment/1`` file: the keys of design.md section 9, plus ``members``,
    ``profiles``, ``max_per_municipality``, ``bounds`` (when not proven optimal), each year's
    statuses, and the baselines' homes and statuses. Amounts in kr to the öre."""
    optimum = plan.optimum
    training = plan.training
    data: dict[str, Any] = {
        "format": RECRUITMENT_FORMAT,
        "status": optimum.status,
        "budget": kr(plan.budget),
        "spent": kr(optimum.spent),
        "homes": _homes(optimum.recruitment),
        "training": {
            "years": len(training.outcomes),
            "totals": optimum.totals.to_dict(),
            "yearly_cost_mean": kr(sum(o.outcome.yearly_cost for o in training.outcomes) / len(training.outcomes)),
            "yearly_saving_mean": kr(training.summary.mean),
            "statuses": _statuses(training),
        },
    }
    if optimum.bounds:
        data["bounds"] = dict(optimum.bounds)
    if plan.holdout is not None:
        held = plan.holdout
        summary = held.plan.summary
        data["holdout"] = {
            "years": held.years,
            "yearly_saving": {"mean": kr(summary.mean), "p10": kr(summary.p10), "p50": kr(summary.p50),
                              "p90": kr(summary.p90)},
            "baselines": {
                name: {
                    "mean": kr(e.summary.mean),
                    "homes": _homes(e.recruitment),
                    "spent": kr(e.recruitment.spent(plan.profiles)),
                    "statuses": list(e.statuses),
                }
                for name, e in held.baselines.items()
            },
            "statuses": _statuses(held.plan),
        }
    data["occupancy"] = [row.to_dict() for row in plan.occupancy]
    data["members"] = list(plan.members)
    data["profiles"] = [p.name for p in plan.profiles]
    data["max_per_municipality"] = plan.max_per_municipality
    return data
