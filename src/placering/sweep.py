"""Sweeps: many solves through any :class:`concurrent.futures.Executor` (design.md section 7).

In process by default; local processes with a :class:`~concurrent.futures.ProcessPoolExecutor`;
a Dask cluster with ``distributed.Client(address).get_executor()``. Tasks go out in chunks and
their results come back in the order of the tasks, whatever order the chunks finish in, so a
sweep's result never depends on the executor. A progress bar (rich) goes to stderr when stderr
is a terminal, and nothing extra is printed when it is not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, as_completed
from contextlib import contextmanager
from typing import Any, TypeVar

import attrs

from placering.comparison import yearly_cost
from placering.params import SolveParams
from placering.result import Plan, Totals
from placering.scenario import Scenario

__all__ = ["Outcome", "executor_for", "outcome_of", "plan_outcome", "run", "solve_variants"]

T = TypeVar("T")
R = TypeVar("R")

#: Chunks a sweep is cut into, at most: enough for two workers to share the load evenly and the
#: progress bar to move, few enough that sending the scenario with each chunk costs little.
CHUNKS = 256


def _chunks(tasks: Sequence[T], size: int) -> list[Sequence[T]]:
    return [tasks[i : i + size] for i in range(0, len(tasks), size)]


@contextmanager
def _progress(label: str, total: int, show: bool | None) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr, only when stderr is a terminal (or ``show`` says so)."""
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    if not (console.is_terminal if show is None else show):
        yield lambda _: None
        return
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


def run(
    work: Callable[[Sequence[T]], Sequence[R]],
    tasks: Sequence[T],
    *,
    executor: Executor | None = None,
    label: str = "solving",
    progress: bool | None = None,
) -> list[R]:
    """``work`` over ``tasks`` in chunks, through ``executor`` (in process when ``None``).

    ``work`` takes a chunk of tasks and returns one result per task; it must be picklable for
    a process pool or a Dask cluster (a module-level function or an instance of a module-level
    class). The results are in the order of ``tasks``.
    """
    tasks = list(tasks)
    results: list[Any] = [None] * len(tasks)
    size = max(1, math.ceil(len(tasks) / CHUNKS))
    chunks = _chunks(tasks, size)
    with _progress(label, len(tasks), progress) as advance:
        if executor is None:
            at = 0
            for chunk in chunks:
                results[at : at + len(chunk)] = _checked(work(chunk), chunk)
                at += len(chunk)
                advance(len(chunk))
            return results
        futures: dict[Future[Sequence[R]], int] = {
            executor.submit(work, chunk): i * size for i, chunk in enumerate(chunks)
        }
        for future in as_completed(futures):
            at = futures[future]
            chunk = chunks[at // size]
            results[at : at + len(chunk)] = _checked(future.result(), chunk)
            advance(len(chunk))
    return results


def _checked(values: Sequence[R], chunk: Sequence[Any]) -> Sequence[R]:
    if len(values) != len(chunk):
        raise RuntimeError(f"a sweep's work returned {len(values)} results for {len(chunk)} tasks")
    return values


@contextmanager
def executor_for(workers: int = 1, scheduler: str | None = None) -> Iterator[Executor | None]:
    """The executor the command line's ``--workers N`` or ``--scheduler ADDRESS`` asks for.

    ``None`` (in process) for one worker and no scheduler; a process pool for more workers; a
    Dask ``distributed`` client's executor for a scheduler address (the ``dask`` extra).
    """
    if scheduler is not None:
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - the dask extra is part of the test extra
            from placering.exceptions import InvalidInputError

            raise InvalidInputError(
                "--scheduler needs the 'distributed' package: pip install 'placering[dask]'", entity="scheduler"
            ) from None
        client = Client(scheduler)
        try:
            # pure=False: every chunk is new work, and hashing a scenario to name it would cost time.
            yield client.get_executor(pure=False)
        finally:
            client.close()
        return
    if workers <= 1:
        yield None
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield pool


@attrs.frozen(kw_only=True)
class Outcome:
    """A variant's solve: its status (``feasible`` under a time limit is never optimal), totals,
    yearly cost and, for an unproven plan, the certified bounds on the terms not proven."""

    status: str
    totals: Totals
    yearly_cost: float
    bounds: Mapping[str, float] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "status": self.status,
            "yearly_cost": self.yearly_cost,
            "totals": self.totals.to_dict(),
        }
        if self.bounds:
            data["bounds"] = dict(self.bounds)
        return data


def outcome_of(scenario: Scenario, params: SolveParams) -> Outcome:
    """Solve ``scenario`` without explanations, one worker, and keep what a sweep reports."""
    from placering.solve import solve

    return plan_outcome(scenario, solve(scenario, params.replace(workers=1), explain=False))


def plan_outcome(scenario: Scenario, plan: Plan) -> Outcome:
    """What a sweep reports of ``plan``, a plan of ``scenario``."""
    return Outcome(
        status=plan.status,
        totals=plan.totals,
        yearly_cost=yearly_cost(scenario, plan),
        bounds=dict(plan.bounds),
    )


@attrs.frozen
class _SolveEach:
    params: SolveParams

    def __call__(self, scenarios: Sequence[Scenario]) -> list[Outcome]:
        return [outcome_of(s, self.params) for s in scenarios]


def solve_variants(
    variants: Sequence[Scenario],
    params: SolveParams | None = None,
    *,
    executor: Executor | None = None,
    progress: bool | None = None,
) -> list[Outcome]:
    """Solve every variant with ``params`` (one worker per solve), in their order."""
    return run(_SolveEach(params or SolveParams()), variants, executor=executor, label="variants", progress=progress)
