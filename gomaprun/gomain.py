"""Layer 7: the Go twins' command lines (main.py hands them over).

    go          --go: the selected cases' Go twins under the Go twin judge,
                through the one path (pipeline.run_plan) and the
                catalogue's report step
    against-go  --against-go: each selected case (natural mode, the
                signature judge) and its Go twin the same number of times
                in one run, paired per case and variant, then the
                side-by-side reports (reports/against_go.py)

Each is a plan (pipeline.Plan): units under their judges, how their builds
come up, a heading and a report step; pipeline.run_plan does the rest.
Both find the toolchain first and build the twins when the plan's builds
come up (gobuild.py); a twin whose build constraint needs a newer Go is a
skipped unit, never a passed one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

from .base import UsageError, display_path, plural
from .build import DEFAULT, build_dir_of, check_executables, check_generation, ensure_built, preset_for
from .catalogue.command import case_binary
from .catalogue.select import select_cases
from .cmdline import DEFAULT_AGAINST_GO_RUNS, Session
from .gobuild import GoBuild, Toolchain, build_twins, find_go, go_dir_name, toolchain
from .judges.gotwin import GO_MODE, GO_TWIN
from .judges.signature import SIGNATURE
from .pipeline import Plan, Ran, catalogue_report
from .reports import against_go as against_report
from .reports.text import plan_line
from .runloop.pairs import make_pairs
from .runloop.units import Unit, generation_probe, make_units

NOTHING_TO_RUN = "nothing to run: the selected cases have no such variant"


def go_build_dir(args, root: Path, version: str) -> Path:
    """Where one Go's twins are built: <build dir>/go-<version> (default
    build/go-go1.19.8), so that two toolchains never rebuild each other's;
    a merge of --go shard reports finds them there by the reports' version."""
    return ((args.build_dir or root / DEFAULT.build_dir) / go_dir_name(version)).absolute()


def _twin_units(args, session: Session, root: Path, selected, expected_dir: Path, runs,
                tc: Toolchain, generation: str, environ=None) -> Tuple[List[Unit], Callable[[], GoBuild]]:
    """The twins' units of one Go for one generation, in a directory of their
    own, and how to build them (a twin whose build constraint needs a newer
    Go becomes a skipped unit)."""
    gdir = go_build_dir(args, root, tc.version)
    variants = None if session.variants is None else list(session.variants)
    units = make_units(selected, variants, [GO_MODE], runs, expected_dir, gdir, GO_TWIN, generation)

    def build() -> GoBuild:
        built = build_twins(root, gdir, [c.id for c in selected], args.jobs, sys.stderr, no_build=args.no_build,
                            environ=environ, tc=tc)
        for u in units:
            u.skipped = built.skipped.get(u.case.id)
        check_executables((u.binary for u in units if u.skipped is None), args.no_build,
                          "go build, as cases/go.md says")
        return built

    return units, build


def _go_units(args, session: Session, root: Path, selected, expected_dir: Path, runs):
    """The Go twins' units of every generation asked for, each generation's
    twins built by its own Go (GO_FOR_GENERATION); the toolchains, and the
    builds to bring up, in the same order."""
    units: List[Unit] = []
    toolchains: List[Toolchain] = []
    builds: List[Callable[[], GoBuild]] = []
    for generation in session.generations:
        tc = toolchain(generation=generation)
        mine, build = _twin_units(args, session, root, selected, expected_dir, runs, tc, generation)
        units += mine
        toolchains.append(tc)
        builds.append(build)
    return units, toolchains, builds


def _extra_go_units(args, session: Session, root: Path, selected, expected_dir: Path, runs):
    """--go-extra: per Go release, the bucket map's twins built by it (a Go
    1.21+ launcher fetches it through GOTOOLCHAIN), into their own directory;
    (units, toolchain, build) per release."""
    out: Dict[str, Tuple[List[Unit], Toolchain, Callable[[], GoBuild]]] = {}
    if not args.go_extra or "bucket" not in session.generations:
        return out
    launcher = find_go(generation="swiss")
    if launcher is None:
        raise UsageError("--go-extra needs a Go 1.21 or newer to fetch the releases through GOTOOLCHAIN "
                         "(GO126=, /usr/local/go/bin/go or go on PATH)")
    for version in args.go_extra:
        environ = dict(os.environ, GOTOOLCHAIN=version, GO119=launcher)
        tc = toolchain(environ, "bucket")
        if tc.version != version:
            raise UsageError(f"GOTOOLCHAIN={version} {launcher} reports {tc.version}, not {version} "
                             "(does the module proxy serve it? GOPROXY, GOTOOLCHAIN)")
        units, build = _twin_units(args, session, root, selected, expected_dir, runs, tc, "bucket", environ)
        out[version] = (units, tc, build)
    return out


def toolchains_text(toolchains: Sequence[Toolchain]) -> str:
    """`go1.19.8 (bucket map)`, joined with `, ` for several."""
    return ", ".join(f"{tc.version} ({tc.map_generation} map)" for tc in toolchains)


def go_plan(args, session: Session, root: Path, cases, expected_dir: Path) -> Plan:
    """--go: the Go twins alone, with the usual policies and reports (and
    shard reports that --merge reads like the C cases')."""
    selected = select_cases(cases, args.cases)
    units, toolchains, builds = _go_units(args, session, root, selected, expected_dir, args.runs)
    go_versions = {tc.map_generation: tc.version for tc in toolchains}

    def heading(mine, master: int) -> str:
        return (f"{toolchains_text(toolchains)}: "
                + plan_line(GO_TWIN, [u for u in mine if u.skipped is None], [GO_MODE],
                            [(tc.map_generation, go_build_dir(args, root, tc.version)) for tc in toolchains],
                            args.jobs, args.timeout, args.shard, master))

    return Plan(units=units, nothing=NOTHING_TO_RUN, bring_up=lambda mine: [build() for build in builds], heading=heading,
                report=catalogue_report(args, session, GO_TWIN, [GO_MODE], root, expected_dir, go_versions))


def against_go_plan(args, session: Session, root: Path, cases, expected_dir: Path) -> Plan:
    """--against-go: each C case (natural) beside its Go twin, the same number of runs."""
    out, err = sys.stdout, sys.stderr
    selected = select_cases(cases, args.cases)
    runs = args.runs or DEFAULT_AGAINST_GO_RUNS
    variants = None if session.variants is None else list(session.variants)
    c_builds = []
    c_units: List[Unit] = []
    for generation in session.generations:
        preset = preset_for(DEFAULT, generation)
        c_dir = build_dir_of(args.build_dir, root, preset)
        mine = make_units(selected, variants, [GO_MODE], runs, expected_dir, c_dir, SIGNATURE, generation)
        c_builds.append((generation, preset, c_dir, mine))
        c_units += mine
    if not c_units:
        raise UsageError(NOTHING_TO_RUN)
    go_units, toolchains, go_builds = _go_units(args, session, root, selected, expected_dir, runs)
    extra_units = _extra_go_units(args, session, root, selected, expected_dir, runs)
    pairs = make_pairs(c_units, go_units, {v: u for v, (u, _, _) in extra_units.items()})
    go_versions = {tc.map_generation: tc.version for tc in toolchains}
    toolchains += [tc for _, tc, _ in extra_units.values()]
    go_builds += [build for _, _, build in extra_units.values()]
    units = [u for p in pairs for u in (p.c, p.go, *(e for _, e in p.extra))]  # each C unit, then its twins
    versions = ", ".join(tc.version for tc in toolchains)

    def bring_up(_units) -> None:
        for generation, preset, c_dir, mine in c_builds:
            if not args.no_build:
                ensure_built(root, c_dir, preset, args.jobs, err, needed=[case_binary(c_dir, c.id) for c in selected])
            if mine:
                check_executables((u.binary for u in mine), args.no_build)
                check_generation(c_dir, generation, generation_probe(mine))
        for build in go_builds:
            build()

    def heading(_units, master: int) -> str:
        live = [u for u in units if u.skipped is None]
        return (f"C cases against their Go twins ({toolchains_text(toolchains)}): "
                f"{plural(len(pairs), 'case and variant', 'cases and variants')}, "
                f"{plural(runs, 'natural run')} per side, {plural(sum(u.runs for u in live), 'run')}, "
                f"-j {args.jobs}, timeout {args.timeout:g}s, seed {master} (replay with --seed {master})\n"
                f"C: {', '.join(display_path(d) for _, _, d, _ in c_builds)}, "
                f"Go: {', '.join(display_path(go_build_dir(args, root, tc.version)) for tc in toolchains)}; "
                "a disagreement in first line or exit status fails, a rate difference does not\n")

    def report(ran: Ran) -> int:
        return against_report.write_pair_reports(
            pairs, ran.units, session.master, runs, versions, toolchains_text(toolchains), go_versions,
            list(extra_units), session.generations, ran.result.wall, ran.result.interrupted, ran.files, root,
            expected_dir, out)

    return Plan(units=units, nothing=NOTHING_TO_RUN,
                bring_up=bring_up, heading=heading, report=report)
