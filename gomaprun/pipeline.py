"""Layer 7: the one path of every command line that runs something.

    session     cmdline.Session, made once from the arguments: the master
                seed, modes, variants, map generations, run loop options
    plan        what a command chooses (main.py, gomain.py): its units, each
                under its judge, how their builds come up, its first lines
                and its report step
    run_plan    the rest, the same for every command: nothing to run is an
                error, the --shard slice, the report files and the --keep
                directory, the builds, the plan line, the one run loop
                (runloop.loop), -v, then the command's report step

The catalogue under one judge and the Go twins end with the same report
step (catalogue_report: reports/run_report.py, as a --merge of their shards
does); --against-go and --matrix end with their own tables.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence

from .base import UsageError, make_keep_dir, open_output
from .cmdline import Session
from .reports.json_report import RunFacts
from .reports.run_report import write_reports
from .reports.text import write_verbose
from .runloop.loop import LoopResult, Observer, run_units
from .runloop.units import Unit, shard_units


class ReportFiles(NamedTuple):
    """The report files asked for (None: not asked for), open for writing;
    a tuple, as reports/run_report.py takes them."""

    json: Optional[object]
    junit: Optional[object]
    html: Optional[object]


@dataclass(frozen=True)
class Ran:
    """What a report step reads: the units that ran (this shard's), how many
    the whole selection had, how the loop ended, and the files to write."""

    units: List[Unit]
    selected_units: int
    result: LoopResult
    files: ReportFiles


@dataclass(frozen=True)
class Plan:
    """What a command chose. `units`: the whole selection in run order (the
    shard is cut by run_plan). `bring_up(units)`: build and check what the
    units to run need. `heading(units, master)`: the plan line(s), written
    once the builds are up. `report(ran)`: the report step; the exit status."""

    units: List[Unit]
    nothing: str  # the error when there is nothing to run
    heading: Callable[[List[Unit], int], str]
    report: Callable[[Ran], int]
    bring_up: Callable[[List[Unit]], None] = lambda units: None
    observer: Optional[Observer] = None


def open_report_files(args) -> ReportFiles:
    """--json, --junit and --html opened for writing (UsageError saying why not)."""
    return ReportFiles(*(open_output(getattr(args, name), f"--{name}") for name in ReportFiles._fields))


def run_plan(args, session: Session, plan: Plan, out=None, err=None) -> int:
    """Run a command's plan: the one path from its units to its report."""
    out = out or sys.stdout
    err = err or sys.stderr
    if not plan.units:
        raise UsageError(plan.nothing)
    units = shard_units(plan.units, args.shard)
    files = open_report_files(args)
    make_keep_dir(session.loop.keep)
    plan.bring_up(units)
    out.write(plan.heading(units, session.master))
    out.flush()
    result = run_units(units, session.master, session.loop, err, observer=plan.observer)
    if session.loop.verbose:
        write_verbose([u for u in units if u.done], out)
    return plan.report(Ran(units, len(plan.units), result, files))


def catalogue_report(args, session: Session, judge, modes: Sequence[str], root, expected_dir,
                     go_versions: Optional[Dict[str, str]] = None, out=None) -> Callable[[Ran], int]:
    """The report step of the catalogue under one judge and of the Go twins:
    the run's facts (the judge's own among them, so that --merge can make it
    again), then reports/run_report.py."""
    out = out or sys.stdout

    def report(ran: Ran) -> int:
        facts = RunFacts(judge=judge.name, cases=list(args.cases),
                         variants=None if session.variants is None else list(session.variants),
                         modes=list(modes), runs=args.runs, timeout=session.loop.timeout, shard=args.shard,
                         selected_units=ran.selected_units, wall=ran.result.wall,
                         interrupted_by=ran.result.interrupted, failfast_stopped=ran.result.failfast_hit,
                         generations=list(session.generations), go_versions=go_versions, **judge.facts())
        return write_reports(ran.units, session.master, judge, facts, root, expected_dir, ran.files, out)

    return report

