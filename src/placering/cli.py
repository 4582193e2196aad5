"""The ``placering`` command: ``demo``, ``solve``, ``generate``, ``report``, ``cooperate`` and ``recruit``
(design.md sections 4 and 8-10).

Exit status 0 on success (unplaced children are a result, not an error), 2 on invalid input
(one line on stderr naming the file, the entity and the field, and no output file), 1 on
anything else.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Ctrl-C while the command starts (these imports take most of its start-up) ends it as at any
# other time: one line and the status of an interrupt, not a traceback.
try:
    import click
    from click.core import ParameterSource
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from placering.comparison import yearly
    from placering.exceptions import InvalidInputError, PlaceringError
    from placering.io import plan_to_dict, read_scenario, scenario_to_dict, write_json
    from placering.params import SolveParams
    from placering.result import Plan
    from placering.scenario import Scenario
    from placering.solve import solve as solve_scenario
    from placering.synth import DEFAULT_CHILDREN, FAMILIES, MAX_CHILDREN
    from placering.synth import generate as generate_scenario
except KeyboardInterrupt:
    sys.stderr.write("error: interrupted\n")
    raise SystemExit(130) from None

__all__ = ["app", "main"]

#: How the summary words each explanation category.
REASONS = {
    "needs": "no cheaper home within reach covers the child's needs",
    "care_level": "no cheaper home within reach takes the child's care level",
    "age": "no cheaper home within reach takes the child's age",
    "distance": "no cheaper home lies within the distance limit",
    "pooling": "isolated pooling: no own home of the municipality fits",
    "none": "no cheaper home exists for the child",
    "kin": "no kin home is reserved for the child",
    "full": "the suitable cheaper homes are full",
    "siblings": "no suitable cheaper home has room for the whole sibling group",
    "together": "no home suits every child of the sibling group together",
    "objective": "the policy's objective ranks another term first",
    "stability": "kept in the current placement",
    "tie": "an equally good cheaper home exists (a tie under the objective)",
}


def _kr(amount: float) -> str:
    return f"{amount:,.0f}".replace(",", " ")


def _mkr(amount: float) -> str:
    return f"{amount / 1e6:,.1f}"


def _say(console: Console, line: str) -> None:
    """Print a line that holds user-given text (ids, names, paths) exactly as it is: markup
    escaped, ``:emoji:`` codes left alone, so that ``[bold]C1`` never shows as another id."""
    console.print(escape(line), emoji=False)


def _unplaced_note(scenario: Scenario, unplaced: int) -> str:
    """What unplaced means, and what it costs where the policy prices it."""
    note = (
        "Unplaced means that no home of the scenario can take the child under the rules (distance, needs, "
        "care level, age, siblings together) with the places it has: the region must find one outside the "
        "plan, such as an emergency place"
    )
    price = scenario.policy.costs_per_day.unplaced
    note += f"; at the policy's {_kr(price)} kr per day that is {_kr(price * unplaced)} kr per day for {unplaced}"
    return note + "."


def summarise(console: Console, scenario: Scenario, plan: Plan, *, title: str) -> None:
    """The one-screen summary a head of social services reads."""
    rows = plan.by_municipality(scenario)
    table = Table(title=Text(title), title_justify="left", show_footer=True, pad_edge=False, box=None)
    totals: Counter[str] = Counter()
    for row in rows:
        totals.update(row.placements)
        totals["unplaced"] += row.unplaced
    # Yearly cost as design.md section 7 defines it: unplaced children at the policy's price.
    yearly_of = {row.code: yearly(row.cost_per_day, row.unplaced, scenario.policy) for row in rows}
    year = yearly(plan.totals.cost_per_day, plan.totals.unplaced, scenario.policy)
    table.add_column("municipality", footer="all")
    table.add_column("children", justify="right", footer=str(len(scenario.children)))
    for kind, label in (("kin", "kin"), ("municipal", "own"), ("consultant", "consult."), ("hvb", "HVB")):
        table.add_column(label, justify="right", footer=str(totals[kind]))
    table.add_column("unplaced", justify="right", footer=str(totals["unplaced"]))
    table.add_column("Mkr/year", justify="right", footer=_mkr(year))
    for row in rows:
        table.add_row(
            Text(row.name),
            str(row.children),
            *(str(row.placements[k]) for k in ("kin", "municipal", "consultant", "hvb")),
            str(row.unplaced),
            _mkr(yearly_of[row.code]),
        )
    console.print(table)
    t = plan.totals
    _say(
        console,
        f"Cost {_kr(t.cost_per_day)} kr per day, {_mkr(year)} Mkr per year with the unplaced priced. "
        f"{t.hvb} children in HVB, {t.consultant} in consultant homes, {t.unplaced} unplaced, "
        f"{t.split_siblings} extra homes for split sibling groups, {t.km:,.0f} km in all."
    )
    for label, kinds in (("HVB", ("hvb",)), ("consultant homes", ("consultant",)), ("unplaced", (None,))):
        if kinds[0]:
            chosen = [a.child for a in plan.assignments if a.kind in kinds]
        else:
            chosen = [u.child for u in plan.unplaced]
        reasons = Counter(plan.explanations[c].rule for c in chosen if c in plan.explanations)
        if not reasons:
            continue
        top = "; ".join(f"{REASONS.get(rule, rule)} ({n})" for rule, n in reasons.most_common(3))
        _say(console, f"Why {len(chosen)} {'are' if label == 'unplaced' else 'in'} {label}: {top}.")
    if t.unplaced:
        _say(console, _unplaced_note(scenario, t.unplaced))
    expensive = sorted(
        (a for a in plan.assignments if a.kind == "hvb" and not a.kept and a.child in plan.explanations),
        key=lambda a: (-a.cost_per_day, a.child),
    )
    if expensive:
        a = expensive[0]
        _say(
            console,
            f"For example {a.child} in {a.home} ({_kr(a.cost_per_day)} kr/day): {plan.explanations[a.child].text}."
        )
    solver = plan.solver
    wall = f"{solver.wall_s:.2f} s" if solver else "?"
    status = plan.status if plan.status != "feasible" else "feasible (time limit; not proven optimal)"
    _say(console, f"Status: {status}, solved in {wall}.")
    if plan.bounds:
        _say(console, "Certified lower bounds: " + ", ".join(f"{k} >= {v:g}" for k, v in plan.bounds.items()) + ".")


def _writes_unicode(stream: Any) -> bool:
    """Whether ``stream`` can write any character (a UTF encoding), not only ASCII or Latin-1."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    return codecs.lookup(encoding).name.startswith("utf")


def _check_out(out: Path, *, reads: tuple[Path | None, ...] = (), folder: bool = False) -> None:
    """Refuse an output path before any work is done, naming the path as the user gave it: one
    that would replace an input, a folder where a file belongs (or the other way round), or a
    place that cannot be created or written."""
    name = str(out)
    for given in reads:
        if given is not None and (
            out.resolve() == given.resolve() or (out.exists() and given.exists() and os.path.samefile(out, given))
        ):
            raise InvalidInputError(f"--out names the input file {given}, which the output would replace", file=name)
    if folder:
        if out.exists() and not out.is_dir():
            raise InvalidInputError("--out must be a folder, but a file of that name exists", file=name)
        for inner in ("scenario.json", "plan.json"):
            if (out / inner).is_dir():
                raise InvalidInputError(f"--out holds a folder {inner}, where the file would go", file=name)
    elif out.is_dir():
        raise InvalidInputError("--out is a folder; give the name of the file to write", file=name)
    ancestor = (out if folder else out.parent).absolute()
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InvalidInputError(f"--out cannot be created, as {ancestor} is not a folder", file=name)
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise InvalidInputError(f"--out cannot be written: no permission to write in {ancestor}", file=name)


time_limit_option = click.option(
    "--time-limit", type=click.FloatRange(min=0), default=None,
    help="Stop after this many seconds with the best plan found."
)
workers_option = click.option(
    "--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="CP-SAT workers; 1 is deterministic."
)
params_option = click.option(
    "--params", "params_file", type=click.Path(path_type=Path), default=None,
    help="Solver parameters (TOML); --time-limit, --seed and --workers given explicitly override it.",
)


def _solve_params(params_file: Path | None, **options: Any) -> SolveParams:
    """The options, or the parameters file with only the options the user actually gave on top.

    With ``log = true`` the solver's progress (stages, pricing rounds) goes to stderr: the
    library only logs, and the command line decides what is shown.
    """
    if params_file is None:
        return SolveParams(**options)
    context = click.get_current_context()
    given = {
        name: value
        for name, value in options.items()
        if context.get_parameter_source(name) not in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)
    }
    params = SolveParams.from_file(params_file).replace(**given)
    if params.log:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        logger = logging.getLogger("placering")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    return params


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="placering")
def app() -> None:
    """Optimal placement of children in out-of-home care: kin, own family homes, consultant homes, HVB."""


@app.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("placering-demo"), show_default=True,
              help="Folder for scenario.json and plan.json.")
@click.option("--children", type=click.IntRange(min=1, max=MAX_CHILDREN), default=DEFAULT_CHILDREN,
              show_default=True, help="Children in the scenario.")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True, help="Random seed.")
@time_limit_option
@workers_option
@params_option
def demo(out: Path, children: int, seed: int, time_limit: float | None, workers: int, params_file: Path | None) -> None:
    """Solve the shipped synthetic Dalarna scenario and print a summary."""
    params = _solve_params(params_file, time_limit=time_limit, seed=seed, workers=workers)
    _check_out(out, folder=True, reads=(params_file,))
    scenario = generate_scenario("dalarna", children=children, seed=seed)
    plan = solve_scenario(scenario, params)
    console = Console()
    summarise(
        console,
        scenario,
        plan,
        title=(
            f"placering demo: Dalarna, synthetic scenario (seed {seed}), {len(scenario.children)} children, "
            f"{len(scenario.homes)} homes"
        ),
    )
    write_json(out / "scenario.json", scenario_to_dict(scenario))
    write_json(out / "plan.json", plan_to_dict(plan))
    _say(console, f"Wrote {out / 'scenario.json'} and {out / 'plan.json'}.")
    _demo_report(console, out / "report.html", scenario, plan)


def _demo_report(console: Console, path: Path, scenario: Scenario, plan: Plan) -> None:
    """The demo's report.html; without the ``report`` extra, one line saying how to get it."""
    from placering._extras import MissingExtraError
    from placering.report import write_report

    try:
        write_report(path, scenario, plan)
    except MissingExtraError as error:
        sys.stderr.write(f"note: report.html not written: {error}\n")
        return
    _say(console, f"Wrote {path}: open it in a browser.")


@app.command()
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Write the plan here: JSON, or an Excel workbook when it ends in .xlsx.")
@time_limit_option
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Solver seed.")
@workers_option
@params_option
def solve(
    scenario_file: Path, out: Path | None, time_limit: float | None, seed: int, workers: int, params_file: Path | None
) -> None:
    """Solve a scenario (JSON, an .xlsx workbook or a CSV folder); write the plan to --out, or print a summary."""
    params = _solve_params(params_file, time_limit=time_limit, seed=seed, workers=workers)
    if out is not None:
        _check_out(out, reads=(scenario_file, params_file))
    scenario = read_scenario(scenario_file)
    plan = solve_scenario(scenario, params)
    if out is not None and out.suffix.lower() == ".xlsx":
        from placering.tables import write_plan_workbook

        write_plan_workbook(out, scenario, plan)
        return
    if out is not None:
        write_json(out, plan_to_dict(plan))
        return
    summarise(Console(), scenario, plan, title=f"{scenario_file}: {len(scenario.children)} children")


@app.command()
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(path_type=Path))
@click.argument("plan_file", metavar="PLAN", type=click.Path(path_type=Path))
@click.option("--cooperation", type=click.Path(path_type=Path), default=None,
              help="A placering.cooperation/1 file: shares by method and the core check.")
@click.option("--recruitment", type=click.Path(path_type=Path), default=None,
              help="A placering.recruitment/1 file: the recommended homes, on the map too.")
@click.option("--marginal", type=click.Path(path_type=Path), default=None,
              help="A placering.marginal/1 file: the value of one more home of each profile.")
@click.option("--lang", type=click.Choice(["en", "sv"]), default="en", show_default=True, help="Language.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="The HTML file to write.")
def report(
    scenario_file: Path, plan_file: Path, cooperation: Path | None, recruitment: Path | None,
    marginal: Path | None, lang: str, out: Path,
) -> None:
    """Write a self-contained HTML report of a plan: map, figures, reasons and explanations."""
    from placering.io import read_plan
    from placering.report import (
        COOPERATION_FORMAT,
        MARGINAL_FORMAT,
        RECRUITMENT_FORMAT,
        read_result,
        write_report,
    )

    scenario = read_scenario(scenario_file)
    plan = read_plan(plan_file)
    results = {
        key: read_result(path, fmt) if path is not None else None
        for key, path, fmt in (
            ("cooperation", cooperation, COOPERATION_FORMAT),
            ("recruitment", recruitment, RECRUITMENT_FORMAT),
            ("marginal", marginal, MARGINAL_FORMAT),
        )
    }
    try:
        write_report(out, scenario, plan, lang=lang, **results)
    except InvalidInputError as error:
        raise error.located(file=error.file or str(plan_file)) from None


@app.command()
@click.option("--region", default=None, help="A shipped region.  [default: dalarna]")
@click.option("--family", type=click.Choice(list(FAMILIES)), default=None,
              help="A benchmark family (benchmarks/README.md); it brings its region, size and calibration.")
@click.option("--children", type=click.IntRange(min=1, max=MAX_CHILDREN), default=None,
              help=f"Children in the scenario.  [default: {DEFAULT_CHILDREN}, or the family's size]")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Random seed.")
@click.option("--inline-region", is_flag=True,
              help="Write the region as municipalities and roads, not its name (synthetic regions always are).")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write here instead of standard output.")
def generate(
    region: str | None, family: str | None, children: int | None, seed: int, inline_region: bool, out: Path | None
) -> None:
    """Print a synthetic scenario calibrated to a region, or drawn from a benchmark family."""
    from placering.io import load_region

    if family is not None and region is not None:
        raise InvalidInputError("give either --family or --region: a family brings its own region", entity="generate")
    if out is not None:
        _check_out(out)
    if family is not None:
        scenario = generate_scenario(family=family, children=children, seed=seed)
    else:
        scenario = generate_scenario(load_region(region or "dalarna"), children=children, seed=seed)
    data = scenario_to_dict(scenario, inline_region=inline_region)
    if out is not None:
        write_json(out, data)
    else:
        # A terminal that cannot show å, ä, ö still gets valid JSON: \u escapes.
        sys.stdout.write(json.dumps(data, ensure_ascii=not _writes_unicode(sys.stdout), indent=1) + "\n")


class Terminated(BaseException):
    """SIGTERM, raised where the program is, so that cleanup (``finally``, temp files) runs as
    on Ctrl-C: a BaseException, so that no ``except Exception`` swallows it."""


sweep_workers_option = click.option(
    "--workers", type=click.IntRange(1, 256), default=1, show_default=True,
    help="Local processes solving the variants of a sweep; 1 solves in this process.",
)
scheduler_option = click.option(
    "--scheduler", default=None, help="Address of a Dask scheduler to solve on (the dask extra)."
)
members_option = click.option(
    "--members", default=None,
    help="Member municipalities' codes, comma-separated.  [default: every one with a child or an own home]",
)


def _one_executor(workers: int, scheduler: str | None, command: str) -> None:
    """A sweep runs on local processes or on a Dask scheduler, not both."""
    if workers > 1 and scheduler is not None:
        raise InvalidInputError("give either --workers or --scheduler, not both", entity=command)


def _member_codes(members: str | None) -> list[str] | None:
    """``--members A,B,C`` as codes; ``None`` for the default members (design.md section 8)."""
    return None if members is None else [code.strip() for code in members.split(",") if code.strip()]


#: Random member orders ``cooperate --method sampled`` draws when ``--samples`` is not given.
DEFAULT_SAMPLES = 200


def _cooperation_table(console: Console, scenario: Scenario, result: Any) -> None:
    """Per member: alone, each share and the saving of the Shapley share against alone; then
    isolated against pooled and the core check of each method."""
    from rich.markup import escape

    sampled = result.method == "sampled"
    table = Table(title=f"Cooperation of {len(result.members)} municipalities ({result.method}), kr per year",
                  title_justify="left", show_footer=True, pad_edge=False, box=None)
    table.add_column("municipality", footer="all")
    columns = [("alone", "alone"), ("shapley", "Shapley"), ("population", "population"), ("usage", "usage")]
    if not sampled:
        columns.append(("nucleolus", "nucleolus"))
    for key, label in columns:
        known = all(s.of(key) is not None for s in result.shares)
        total = sum(s.of(key) or 0.0 for s in result.shares) if known else None
        table.add_column(label, justify="right", footer="-" if total is None else _kr(total))
    table.add_column("saving (Shapley)", justify="right", footer=_kr(result.saving))
    for share in result.shares:
        cells = []
        for key, _ in columns:
            value = share.of(key)
            text = "-" if value is None else _kr(value)
            if key == "shapley" and sampled:
                text += f" ± {_kr(share.shapley_se)}"
            cells.append(text)
        name = escape(f"{scenario.region.name_of(share.municipality)} ({share.municipality})")
        table.add_row(name, *cells, _kr(share.alone - share.shapley))
    console.print(table)
    console.print(
        f"Isolated {_kr(result.isolated)} kr, pooled {_kr(result.pooled)} kr per year: pooling saves "
        f"{_kr(result.saving)} kr ({result.pooled_status})."
    )
    unproven = sum(c.status != "optimal" for c in result.coalitions)
    if unproven:
        console.print(f"{unproven} coalitions were not proven optimal (time limit): their values are upper bounds.")
    for method, check in result.core.items():
        group = escape(", ".join(check.worst))
        if check.in_core:
            console.print(f"{method}: in the core (largest excess {_kr(check.excess)} kr, {group}).")
        else:
            console.print(
                f"{method}: not in the core: {group} would rather leave, paying {_kr(check.excess)} kr too much."
            )


@app.command()
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(path_type=Path))
@members_option
@click.option("--method", type=click.Choice(["exact", "sampled"]), default="exact", show_default=True,
              help="Every coalition, or random member orders.")
@click.option("--samples", type=click.IntRange(min=1), default=None,
              help=f"Random member orders for --method sampled.  [default: {DEFAULT_SAMPLES}]")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the member orders and of every solve.")
@sweep_workers_option
@scheduler_option
@time_limit_option
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Write the placering.cooperation/1 file here.")
def cooperate(
    scenario_file: Path,
    members: str | None,
    method: str,
    samples: int | None,
    seed: int,
    workers: int,
    scheduler: str | None,
    time_limit: float | None,
    out: Path | None,
) -> None:
    """What pooling the own family homes saves, and fair shares of the pooled cost (design.md section 8)."""
    from placering.cooperation import cooperate as cooperation_of
    from placering.cooperation import cooperation_to_dict
    from placering.sweep import executor_for

    _one_executor(workers, scheduler, "cooperate")
    if samples is not None and method != "sampled":
        raise InvalidInputError("--samples needs --method sampled", entity="cooperate", field="samples")
    scenario = read_scenario(scenario_file)
    codes = _member_codes(members)
    params = SolveParams(time_limit=time_limit, seed=seed, workers=1)
    with executor_for(workers, scheduler) as executor:
        result = cooperation_of(
            scenario,
            codes,
            method=method,
            samples=(samples or DEFAULT_SAMPLES) if method == "sampled" else None,
            seed=seed,
            params=params,
            executor=executor,
        )
    if out is not None:
        write_json(out, cooperation_to_dict(result))
        return
    _cooperation_table(Console(), scenario, result)


def _change(value: float) -> str:
    return "0" if not value else f"{value:+,.0f}".replace(",", " ")


def _status_note(console: Console, rows: Any) -> None:
    unproven = sum(r.outcome.status != "optimal" for r in rows)
    if unproven:
        console.print(f"{unproven} variants were not proven optimal (time limit): their savings are not certain.")


def _marginal_table(console: Console, scenario: Scenario, result: Any) -> None:
    """One row per member and profile, largest saving first: the change in the totals and the saving."""
    title = (f"Value of one more home: {len(result.members)} municipalities x {len(result.profiles)} "
             f"profiles, kr per year")
    _variant_table(console, result, title, ("municipality", "profile"),
                   lambda row: (_place(scenario, row.municipality), Text(row.profile)))


def _conversion_table(console: Console, scenario: Scenario, result: Any) -> None:
    """One row per consultant home, largest saving first."""
    title = f"Consultant homes taken back at {_kr(result.converted_cost)} kr a day, kr per year"
    _variant_table(console, result, title, ("home", "municipality"),
                   lambda row: (Text(row.home), _place(scenario, row.municipality)))


def _place(scenario: Scenario, code: str) -> Text:
    return Text(f"{scenario.region.name_of(code)} ({code})")


def _variant_table(
    console: Console, result: Any, title: str, labels: tuple[str, str], first: Callable[[Any], tuple[Text, Text]]
) -> None:
    """Solved variants, a row each: who they are (``first``), the change in the totals and the saving."""
    table = Table(title=title, title_justify="left", pad_edge=False, box=None)
    for label in labels:
        table.add_column(label)
    for label in ("unplaced", "HVB", "consult.", "kr/day", "km", "saving/year"):
        table.add_column(label, justify="right")
    for row in result.rows:
        c = row.change
        table.add_row(
            *first(row),
            *(_change(c[k]) for k in ("unplaced", "hvb", "consultant", "cost_per_day", "km")),
            _kr(row.yearly_saving),
        )
    console.print(table)
    console.print(f"Base: {_kr(result.base.yearly_cost)} kr per year ({result.base.status}).")
    _status_note(console, result.rows)


def _plan_table(console: Console, scenario: Scenario, plan: Any) -> None:
    """What to recruit where, what it costs and saves on the training and held-out years, the
    baselines' held-out savings, and how full the recruited homes are."""
    optimum = plan.optimum
    title = (f"Recruitment plan: {_kr(optimum.spent)} of {_kr(plan.budget)} kr spent ({optimum.status}), "
             f"{optimum.recruitment.total} homes")
    table = Table(title=Text(title), title_justify="left", pad_edge=False, box=None)
    for label, justify in (("municipality", "left"), ("profile", "left"), ("homes", "right"), ("places", "right"),
                           ("used (training)", "right"), ("used (held out)", "right")):
        table.add_column(label, justify=justify)  # type: ignore[arg-type]
    for row in plan.occupancy:
        held = "-" if row.holdout_mean_places_used is None else f"{row.holdout_mean_places_used:.1f}"
        table.add_row(_place(scenario, row.municipality), Text(row.profile), str(row.count), str(row.places),
                      f"{row.mean_places_used:.1f}", held)
    if plan.occupancy:
        console.print(table)
    else:
        console.print(Text(title))
        console.print("Nothing to recruit: no affordable home saves anything on the training years.")
    training = plan.training
    console.print(f"Training, {len(training.outcomes)} years: mean yearly saving {_kr(training.summary.mean)} kr.")
    if optimum.status != "optimal":
        console.print("The plan is not proven optimal (time limit): bounds are in the file.")
    if plan.holdout is not None:
        held = plan.holdout
        saving = held.plan.summary
        console.print(
            f"Held out, {held.years} years: yearly saving mean {_kr(saving.mean)} kr, P10 {_kr(saving.p10)}, "
            f"P50 {_kr(saving.p50)}, P90 {_kr(saving.p90)}."
        )
        for name, evaluation in held.baselines.items():
            homes = evaluation.recruitment.total
            console.print(f"Baseline {name} ({homes} homes): held-out mean yearly saving "
                          f"{_kr(evaluation.summary.mean)} kr.")
        unproven = sum(not e.proven for e in (held.plan, *held.baselines.values()))
        if unproven:
            console.print(f"{unproven} held-out evaluations hold years not proven optimal (time limit): "
                          "their savings are not certain.")
    elif not training.proven:
        console.print("Some training years were not proven optimal (time limit): their savings are not certain.")


@app.command()
@click.argument("scenario_files", metavar="SCENARIO...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--profiles", "profiles_file", type=click.Path(path_type=Path), default=None,
              help="A placering.profiles/1 file.  [default: the profiles shipped for Dalarna]")
@click.option("--marginal", is_flag=True, help="The value of one more home of each profile in each member.")
@click.option("--convert", is_flag=True, help="Every consultant home taken back into own management.")
@click.option("--converted-cost", type=float, default=None,
              help="Kr a day of a converted home, for --convert.  [default: 1 200]")
@click.option("--budget", type=float, default=None,
              help="Kr to spend on recruiting: the recruitment plan over the demand years (the files given).")
@click.option("--sample", type=int, default=None,
              help="With --budget: draw this many demand years for the one scenario's homes.")
@click.option("--holdout", type=int, default=0, show_default=True,
              help="With --budget: weigh the plan and the baselines on this many further drawn years.")
@click.option("--max-per-municipality", type=int, default=None,
              help="With --budget: the most homes of one profile a member recruits.  [default: 5]")
@click.option("--baselines", default=None,
              help="With --holdout: the baselines to weigh, comma-separated (greedy solves every member, profile "
                   "and year a round).  [default: population,greedy]")
@members_option
@sweep_workers_option
@scheduler_option
@time_limit_option
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of every solve and of the drawn demand years.")
@params_option
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Write the placering.marginal/1, placering.conversion/1 or placering.recruitment/1 file here.")
def recruit(
    scenario_files: tuple[Path, ...],
    profiles_file: Path | None,
    marginal: bool,
    convert: bool,
    converted_cost: float | None,
    budget: float | None,
    sample: int | None,
    holdout: int,
    max_per_municipality: int | None,
    baselines: str | None,
    members: str | None,
    workers: int,
    scheduler: str | None,
    time_limit: float | None,
    seed: int,
    params_file: Path | None,
    out: Path | None,
) -> None:
    """Which new homes, where, are worth what; which consultant homes to take back; what to recruit
    under a budget (design.md section 9)."""
    from placering import recruitment
    from placering.sweep import executor_for

    planning = budget is not None
    _check_recruit_options(marginal, convert, converted_cost, budget, profiles_file, len(scenario_files))
    if planning:
        _check_plan_options(budget, sample, holdout, max_per_municipality, len(scenario_files))
        chosen_baselines = _baselines(baselines, holdout)
    elif baselines is not None:
        raise InvalidInputError("--baselines is for --budget with --holdout", entity="recruit", field="baselines")
    _one_executor(workers, scheduler, "recruit")
    if out is not None:
        _check_out(out, reads=(*scenario_files, profiles_file))
    params = _solve_params(params_file, time_limit=time_limit, seed=seed).replace(workers=1)
    profiles = recruitment.read_profiles(profiles_file) if profiles_file is not None else None
    scenarios = [read_scenario(path) for path in scenario_files]
    scenario = scenarios[0]
    codes = _member_codes(members)
    console = Console()
    if planning:
        assert budget is not None
        with executor_for(workers, scheduler) as executor:
            plan = recruitment.recruitment_plan(
                scenarios,
                profiles if profiles is not None else recruitment.default_profiles(),
                budget,
                members=codes,
                max_per_municipality=(recruitment.DEFAULT_MAX_PER_MUNICIPALITY if max_per_municipality is None
                                      else max_per_municipality),
                sample=sample,
                seed=seed,
                holdout=holdout,
                params=params,
                executor=executor,
                names=[str(path) for path in scenario_files],
                baselines=chosen_baselines,
            )
        if out is not None:
            write_json(out, recruitment.recruitment_to_dict(plan))
            return
        _plan_table(console, scenario, plan)
        return
    with executor_for(workers, scheduler) as executor:
        if marginal:
            table = recruitment.marginal_values(scenario, profiles, codes, params, executor=executor)
            if out is not None:
                write_json(out, recruitment.marginal_to_dict(table))
                return
            _marginal_table(console, scenario, table)
            return
        cost = recruitment.DEFAULT_CONVERTED_COST if converted_cost is None else converted_cost
        result = recruitment.conversions(scenario, cost, codes, params, executor=executor)
    if out is not None:
        write_json(out, recruitment.conversion_to_dict(result))
        return
    _conversion_table(console, scenario, result)


def _check_recruit_options(
    marginal: bool, convert: bool, converted_cost: float | None, budget: float | None, profiles_file: Path | None,
    files: int,
) -> None:
    """One of --marginal, --convert and --budget, and only the options it uses."""
    planning = budget is not None
    if planning and (marginal or convert):
        raise InvalidInputError("--budget is for the recruitment plan, not with --marginal or --convert",
                                entity="recruit", field="budget")
    if not planning and marginal == convert:
        raise click.UsageError("give one of --marginal or --convert, or --budget for a recruitment plan")
    context = click.get_current_context()
    for name in ("sample", "holdout", "max_per_municipality"):
        if not planning and context.get_parameter_source(name) != ParameterSource.DEFAULT:
            raise InvalidInputError(f"--{name.replace('_', '-')} is for --budget", entity="recruit", field=name)
    if not planning and files > 1:
        raise InvalidInputError(f"--marginal and --convert take one scenario file, got {files}",
                                entity="recruit", field="scenario")
    if converted_cost is not None and not convert:
        raise InvalidInputError("--converted-cost is for --convert", entity="recruit", field="converted_cost")
    if profiles_file is not None and convert:
        raise InvalidInputError("--profiles is for --marginal or --budget", entity="recruit", field="profiles")
    if converted_cost is not None and not 0 <= converted_cost <= 1_000_000:
        raise InvalidInputError(f"--converted-cost must be 0-1 000 000 kr a day, got {converted_cost:g}",
                                entity="recruit", field="converted_cost")


def _baselines(given: str | None, holdout: int) -> tuple[str, ...]:
    """The baselines named by ``--baselines`` (every one when not given), checked up front."""
    from placering.recruitment.plan import BASELINES

    if given is None:
        return BASELINES
    if not holdout:
        raise InvalidInputError("--baselines is weighed on held-out years: give --holdout too", entity="recruit",
                                field="baselines")
    names = tuple(name.strip() for name in given.split(",") if name.strip())
    for name in names:
        if name not in BASELINES or names.count(name) > 1:
            raise InvalidInputError(f"--baselines are {' and '.join(BASELINES)}, each once, got {name!r}",
                                    entity="recruit", field="baselines")
    return names


def _check_plan_options(
    budget: float | None, sample: int | None, holdout: int, max_per_municipality: int | None, files: int
) -> None:
    """The recruitment plan's options, refused before any file is read or solve is made."""
    import math

    assert budget is not None
    if not math.isfinite(budget) or budget < 0:
        raise InvalidInputError(f"--budget must be a number of kr >= 0, got {budget:g}", entity="recruit",
                                field="budget")
    if sample is not None and files > 1:
        raise InvalidInputError(f"--sample draws years for one scenario, but {files} files were given",
                                entity="recruit", field="sample")
    if sample is not None and sample < 1:
        raise InvalidInputError(f"--sample must be at least 1 demand year, got {sample}", entity="recruit",
                                field="sample")
    if holdout < 0:
        raise InvalidInputError(f"--holdout must be 0 or more demand years, got {holdout}", entity="recruit",
                                field="holdout")
    if max_per_municipality is not None and max_per_municipality < 0:
        raise InvalidInputError(f"--max-per-municipality must be 0 or more homes, got {max_per_municipality}",
                                entity="recruit", field="max_per_municipality")


#: How each failure reads on stderr and its exit status, the first matching class winning (so
#: invalid input before other library errors, usage errors before other click errors). A signal
#: exits with 128 + its number, as shells report it.
_FAILURES: tuple[tuple[type[BaseException], Callable[[Any], str], int], ...] = (
    (InvalidInputError, str, 2),
    (click.UsageError, lambda error: error.format_message(), 2),
    (click.ClickException, lambda error: error.format_message(), 1),
    (click.Abort, lambda _: "interrupted", 128 + signal.SIGINT),
    (PlaceringError, str, 1),
    (KeyboardInterrupt, lambda _: "interrupted", 128 + signal.SIGINT),
    (Terminated, lambda _: "terminated", 128 + signal.SIGTERM),
)

#: The longest message printed: a bad value can be a whole file's worth of text.
_MAX_MESSAGE = 400


def _fail(error: BaseException) -> int:
    message, status = f"{type(error).__name__}: {error}", 1
    for kind, text, code in _FAILURES:
        if isinstance(error, kind):
            message, status = text(error), code
            break
    # One line: a message may quote a value with a newline in it.
    line = " ".join(message.split())
    if len(line) > _MAX_MESSAGE:
        line = line[: _MAX_MESSAGE - 60] + " ... " + line[-55:]
    sys.stderr.write("error: " + line + "\n")
    return status


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated


def _degrade(stream: Any) -> None:
    """Let a stream that cannot encode every character (``PYTHONIOENCODING=ascii``) write a ``?``
    for it instead of failing: a summary names Älvdalen and Malung-Sälen."""
    if not _writes_unicode(stream) and hasattr(stream, "reconfigure"):
        with contextlib.suppress(ValueError, OSError):  # one that cannot be reconfigured keeps its ways
            stream.reconfigure(errors="replace")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status."""
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    _degrade(sys.stdout)
    _degrade(sys.stderr)
    try:
        app.main(args=argv, prog_name="placering", standalone_mode=False)
    except click.exceptions.Exit as error:
        return int(error.exit_code)
    except (Exception, KeyboardInterrupt, Terminated) as error:  # one line, never a traceback
        return _fail(error)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
    return 0


if __name__ == "__main__":
    sys.exit(main())
