"""Layer 7: what each command line does.

main() parses the command line (gomaprun.cmdline) and picks one of six
things to do. Every one that runs something makes the session
(cmdline.Session) once, then a plan: the units it chooses under their
judges, how their builds come up, its heading and its report step; the
one path, pipeline.run_plan, shards, builds, runs the one run loop and
hands the results to that report step.

    explain     --explain CASE: the case's texts, and the timeline of one
                forced run the run loop captures for it
    list        --list: the selected cases
    catalogue   the default, --mode explore and --sanitizer thread: units of
                the selected cases under one judge chosen by name, then the
                reports of reports/run_report.py
    matrix      --matrix: two sets of units (the signature judge on build/,
                the ThreadSanitizer judge on build-tsan/), counted by the
                matrix report's observer
    merge       --merge: the JSON reports of a run's shards read back into
                the units of the whole run (gomaprun.reports.merge), then
                the same reports as the run; nothing runs
    go          --go and --against-go: the Go twins, alone or beside the C
                cases (gomain.py)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional, Sequence

from . import cmdline, gomain
from .base import (BAD, CONTROL, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, EXPLORE, FORCED, NATURAL,
                   PROG, UsageError, display_path, plural)
from .build import DEFAULT, TSAN, build_dir_of, check_executables, check_generation, ensure_built, preset_for
from .catalogue.command import case_binary
from .catalogue.manifest import load_manifest
from .catalogue.select import parse_variants, select_cases
from .cmdline import Session
from .judges import Judge, make_judge
from .judges.explore import ExploreJudge
from .judges.gotwin import GO_TWIN
from .judges.signature import SIGNATURE
from .judges.tsan import THREAD
from .pipeline import Plan, Ran, catalogue_report, open_report_files, run_plan
from .reports import matrix as matrix_report
from .reports import merge
from .reports.explain import explain
from .reports.run_report import write_reports
from .reports.text import plan_line, write_list
from .reports.timeline import format_captured_run, format_not_built
from .runloop.loop import capture_one
from .runloop.units import Unit, generation_probe, make_units

# --explain's run: never longer than this, whatever --timeout says.
EXPLAIN_TIMEOUT_CAP = 30.0
EXPLAIN_SEED = 1


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        args = cmdline.parse_args(argv)
    except SystemExit as e:  # --help, or bad usage (argparse has printed why)
        return e.code if isinstance(e.code, int) else (EXIT_OK if e.code is None else EXIT_USAGE)
    try:
        return dispatch(args)
    except UsageError as e:
        sys.stdout.flush()
        sys.stderr.write(f"{PROG}: error: {e}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write(f"\n{PROG}: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (runner.py --list | head): stop quietly.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_FAILED


def dispatch(args) -> int:
    root: Path = args.root.resolve()
    if not root.is_dir():
        raise UsageError(f"--root {args.root}: not a directory")
    manifest: Path = args.manifest or root / "cases" / "manifest.tsv"
    expected_dir: Path = args.expected_dir or root / "expected"
    cases = load_manifest(manifest)
    if args.explain is not None:
        return do_explain(args, root, cases, expected_dir)
    if args.list:
        write_list(select_cases(cases, args.cases), sys.stdout)
        return EXIT_OK
    if args.merge:
        return do_merge(args, root, cases, expected_dir)
    # Every other command line runs something: one session, a plan of units
    # under their judges, and the one path (pipeline.run_plan).
    session = cmdline.session_of(args)
    if args.matrix:
        plan = matrix_plan(args, session, root, cases, expected_dir)
    elif args.against_go:
        plan = gomain.against_go_plan(args, session, root, cases, expected_dir)
    elif args.go:
        plan = gomain.go_plan(args, session, root, cases, expected_dir)
    else:
        # The judge by name (judges/__init__.py), made with the facts it needs.
        name = ExploreJudge.name if args.mode == EXPLORE else THREAD.name if args.sanitizer else SIGNATURE.name
        plan = catalogue_plan(args, session, root, cases, expected_dir, make_judge(name, bound=args.bound))
    return run_plan(args, session, plan)


# --------------------------------------------------------------------------
# --explain
# --------------------------------------------------------------------------


def do_explain(args, root: Path, cases, expected_dir: Path) -> int:
    out = sys.stdout
    matches = select_cases(cases, [args.explain])
    if len(matches) != 1:
        raise UsageError(f"--explain needs exactly one case; {args.explain!r} names "
                         f"{len(matches)}: {', '.join(c.id for c in matches)}")
    case = matches[0]
    explain(case, root, expected_dir, out)
    if BAD in case.variants:
        binary = case_binary(build_dir_of(args.build_dir, root, SIGNATURE.preset), case.id)
        if not os.access(binary, os.X_OK):
            out.write(format_not_built(binary))
        else:
            out.flush()
            timeout = min(args.timeout, EXPLAIN_TIMEOUT_CAP)
            unit = Unit(case=case, variant=BAD, mode=FORCED, expect=None, runs=1, binary=binary)
            fin = capture_one(unit, EXPLAIN_SEED, timeout)
            out.write(format_captured_run(unit.replay_text(EXPLAIN_SEED), fin, timeout, color=out.isatty()))
    return EXIT_OK


# --------------------------------------------------------------------------
# The catalogue under one judge (the default; --mode explore; --sanitizer thread)
# --------------------------------------------------------------------------


def generation_units(args, session: Session, root: Path, selected, expected_dir: Path, judge: Judge):
    """Per map generation asked for (--generation): its build directory, and
    its units (each with the expectation for its generation), in catalogue
    order, the generations one after the other."""
    builds, units = [], []
    variants = None if session.variants is None else list(session.variants)
    for generation in session.generations:
        build_dir = build_dir_of(args.build_dir, root, preset_for(judge.preset, generation))
        mine = make_units(selected, variants, list(session.modes), args.runs, expected_dir, build_dir, judge,
                          generation)
        builds.append((generation, build_dir, mine))
        units += mine
    return builds, units


def bring_up(args, root: Path, judge: Judge, builds, units, err) -> None:
    """Build each generation's build directory that `units` need (unless
    --no-build), check its executables, and check that it holds the
    generation asked for."""
    running = {id(u) for u in units}
    for generation, build_dir, mine in builds:
        mine = [u for u in mine if id(u) in running]
        if not mine:
            continue
        if not args.no_build:
            ensure_built(root, build_dir, preset_for(judge.preset, generation), args.jobs, err,
                         needed=[u.binary for u in mine])
        check_executables((u.binary for u in mine), args.no_build)
        check_generation(build_dir, generation, generation_probe(mine))


def catalogue_plan(args, session: Session, root: Path, cases, expected_dir: Path, judge: Judge) -> Plan:
    """The selected cases' units under one judge (--mode explore: the judge
    explores; its units say so in their mode), the reports of run_report."""
    builds, units = generation_units(args, session, root, select_cases(cases, args.cases), expected_dir, judge)
    modes = list(session.modes)
    return Plan(
        units=units,
        nothing=f"nothing to run: the selected cases have no variant {', '.join(session.variants or [])}",
        bring_up=lambda mine: bring_up(args, root, judge, builds, mine, sys.stderr),
        heading=lambda mine, master: plan_line(judge, mine, modes, [(g, d) for g, d, _ in builds], args.jobs,
                                               args.timeout, args.shard, master),
        report=catalogue_report(args, session, judge, modes, root, expected_dir))


# --------------------------------------------------------------------------
# --merge
# --------------------------------------------------------------------------


def do_merge(args, root: Path, cases, expected_dir: Path) -> int:
    """Shard reports of one run as that run's reports; runs and builds nothing."""
    reports = merge.read_reports(args.merge)
    facts = merge.common_facts(reports)
    judge = make_judge(facts.judge, bound=facts.bound)
    if judge is None:
        raise UsageError(f"{reports[0].name}: judged by {facts.judge!r}, which this runner does not know")
    master = reports[0].seed
    variants = parse_variants(facts.variants)
    units = []
    for generation in facts.generations:
        if judge is GO_TWIN:
            # The twins' directory is named for the Go that built them (cases/go.md).
            version = (facts.go_versions or {}).get(generation)
            if version is None:
                raise UsageError(f"{reports[0].name}: a report of the Go twins that names no Go for the "
                                 f"{generation} map (go_versions)")
            build_dir = gomain.go_build_dir(args, root, version)
        else:
            build_dir = build_dir_of(args.build_dir, root, preset_for(judge.preset, generation))
        units += make_units(select_cases(cases, facts.cases), variants, facts.modes, facts.runs, expected_dir,
                            build_dir, judge, generation)
    if len(units) != facts.selected_units:
        raise UsageError(f"the shards' run selected {plural(facts.selected_units, 'unit')}, "
                         f"this tree selects {len(units)} "
                         "for it (merge in the source tree the shards ran from)")
    merge.fill_units(units, reports, master)
    files = open_report_files(args)
    out = sys.stdout
    out.write(merge.merge_line(judge, reports, units, facts, master))
    return write_reports(units, master, judge, facts, root, expected_dir, files, out)


# --------------------------------------------------------------------------
# --matrix
# --------------------------------------------------------------------------


def matrix_plan(args, session: Session, root: Path, cases, expected_dir: Path) -> Plan:
    """Natural runs of both builds, per case (the signature judge on build/,
    the ThreadSanitizer judge on build-tsan/), counted by the matrix
    report's observer, and the rates side by side."""
    err = sys.stderr
    generation = session.generations[0]  # one: the parser refuses --matrix with both
    builtin_preset, tsan_preset = preset_for(DEFAULT, generation), preset_for(TSAN, generation)
    build_dir = build_dir_of(args.build_dir, root, builtin_preset)
    tsan_dir = (root / tsan_preset.build_dir).absolute()
    selected = matrix_report.matrix_cases(select_cases(cases, args.cases))
    if not selected:
        raise UsageError("nothing to measure: the detection matrix covers cases with a bad variant "
                         "and the races it cannot see (the unchecked-race trait in cases/manifest.tsv)")
    runs = args.runs or matrix_report.DEFAULT_MATRIX_RUNS
    measured = [BAD, CONTROL]
    builtin_units = make_units(selected, measured, [NATURAL], runs, expected_dir, build_dir, SIGNATURE, generation)
    tsan_units = make_units(selected, measured, [NATURAL], runs, expected_dir, tsan_dir, THREAD, generation)

    def bring_up_both(units) -> None:
        if not args.no_build:
            ensure_built(root, build_dir, builtin_preset, args.jobs, err,
                         needed=[case_binary(build_dir, c.id) for c in selected])
            ensure_built(root, tsan_dir, tsan_preset, args.jobs, err,
                         needed=[case_binary(tsan_dir, c.id) for c in selected])
        check_executables((u.binary for u in units), args.no_build)
        for tool_units, directory in ((builtin_units, build_dir), (tsan_units, tsan_dir)):
            if tool_units:
                check_generation(directory, generation, generation_probe(tool_units))

    rows = {c.id: matrix_report.MatrixRow(c.id, c.group, c.go_article, unchecked_race=c.unchecked_race)
            for c in selected}

    def heading(units, master: int) -> str:
        return (f"detection matrix ({generation} map): {plural(len(selected), 'case')}, "
                f"{plural(runs, 'natural run')} per case and tool "
                f"({display_path(build_dir)} and {display_path(tsan_dir)}), -j {args.jobs}, "
                f"seed {master} (replay with --seed {master})\n")

    def report(ran: Ran) -> int:
        return matrix_report.write_matrix_reports(
            [rows[c.id] for c in selected], ran.units, builtin_units, runs, session.master, generation,
            ran.result.wall, ran.result.interrupted, ran.files, args.matrix_md, root, expected_dir, sys.stdout)

    return Plan(units=builtin_units + tsan_units, nothing="nothing to measure", bring_up=bring_up_both,
                heading=heading, report=report,
                observer=lambda u, rec, so, se: matrix_report.count_run(rows, u, rec, se))
