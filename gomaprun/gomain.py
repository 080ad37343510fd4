"""Layer 7: the Go twins' command lines (main.py hands them over).

    go          --go: the selected cases' Go twins under the Go twin judge,
                through the run loop, then the usual reports
    against-go  --against-go: each selected case (natural mode, the
                signature judge) and its Go twin the same number of times
                in one run, paired per case and variant, then the
                side-by-side reports (reports/against_go.py)

Both find the toolchain and build the twins first (gobuild.py); a twin whose
build constraint needs a newer Go is a skipped unit, never a passed one.
The helpers every command shares (open_output, make_keep_dir, exit_status, now_utc,
build_dir_of) come from the layers below, as main's do.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from .base import UsageError, exit_status, make_keep_dir, now_utc, open_output, display_path, plural, signal_name
from .build import DEFAULT, build_dir_of, check_executables, check_generation, ensure_built, preset_for
from .cmdline import DEFAULT_AGAINST_GO_RUNS, session_of
from .catalogue.command import case_binary
from .catalogue.select import parse_variants, select_cases
from .gobuild import GoBuild, Toolchain, build_twins, find_go, go_dir_name, toolchain
from .judges.gotwin import GO_MODE, GO_TWIN
from .judges.signature import SIGNATURE
from .reports import against_go as against_report
from .reports import html as html_report
from .reports.json_report import RunFacts
from .reports.run_report import write_reports
from .reports.text import closing_line, plan_line, write_verbose
from .runloop.loop import run_units
from .runloop.pairs import make_pairs, pair_counts
from .runloop.units import Unit, generation_probe, make_units, shard_units


def go_build_dir(args, root: Path, tc: Toolchain) -> Path:
    """Where one Go's twins are built: <build dir>/go-<version> (default
    build/go-go1.19.8), so that two toolchains never rebuild each other's."""
    return ((args.build_dir or root / DEFAULT.build_dir) / go_dir_name(tc.version)).absolute()


def _go_units(args, root: Path, selected, expected_dir: Path, runs) -> Tuple[List[Unit], List[GoBuild]]:
    """The Go twins' units of every generation asked for, each generation's
    twins built by its own Go (GO_FOR_GENERATION) into a directory of their
    own; the builds, in the same order."""
    units: List[Unit] = []
    builds: List[GoBuild] = []
    for generation in args.generations:
        tc = toolchain(generation=generation)
        gdir = go_build_dir(args, root, tc)
        built = build_twins(root, gdir, [c.id for c in selected], args.jobs, sys.stderr, no_build=args.no_build,
                            tc=tc)
        mine = make_units(selected, parse_variants(args.variant), [GO_MODE], runs, expected_dir, gdir, GO_TWIN,
                          generation)
        for u in mine:
            u.skipped = built.skipped.get(u.case.id)
        check_executables((u.binary for u in mine if u.skipped is None), args.no_build,
                          "go build, as cases/go.md says")
        units += mine
        builds.append(built)
    return units, builds


def _extra_go_units(args, root: Path, selected, expected_dir: Path, runs) -> Dict[str, Tuple[List[Unit], GoBuild]]:
    """--go-extra: per Go release, the bucket map's twins built by it (a Go
    1.21+ launcher fetches it through GOTOOLCHAIN), into their own directory."""
    out: Dict[str, Tuple[List[Unit], GoBuild]] = {}
    if not args.go_extra or "bucket" not in args.generations:
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
        gdir = go_build_dir(args, root, tc)
        built = build_twins(root, gdir, [c.id for c in selected], args.jobs, sys.stderr, no_build=args.no_build,
                            environ=environ, tc=tc)
        units = make_units(selected, parse_variants(args.variant), [GO_MODE], runs, expected_dir, gdir, GO_TWIN,
                           "bucket")
        for u in units:
            u.skipped = built.skipped.get(u.case.id)
        check_executables((u.binary for u in units if u.skipped is None), args.no_build,
                          "go build, as cases/go.md says")
        out[version] = (units, built)
    return out


def toolchains_text(builds: Sequence[GoBuild]) -> str:
    """`go1.19.8 (bucket map)`, joined with `, ` for several."""
    return ", ".join(f"{b.toolchain.version} ({b.toolchain.map_generation} map)" for b in builds)


def _open(args):
    files = {name: open_output(getattr(args, name), f"--{name}") for name in ("json", "junit", "html")}
    make_keep_dir(args.keep)
    return files


def go_report_fields(go_versions: Dict[str, str]) -> Dict[str, object]:
    """The JSON report's top-level fields that name the Go of each generation."""
    return {"go_version": ", ".join(go_versions.values()), "go_versions": dict(go_versions)}


def do_go(args, root: Path, cases, expected_dir: Path) -> int:
    """--go: the Go twins alone, with the usual policies and reports (and
    shard reports that --merge reads like the C cases')."""
    out, err = sys.stdout, sys.stderr
    selected = select_cases(cases, args.cases)
    files = _open(args)
    units, builds = _go_units(args, root, selected, expected_dir, args.runs)
    if not units:
        raise UsageError("nothing to run: the selected cases have no such variant")
    selected_units = len(units)
    units = shard_units(units, args.shard)
    session = session_of(args)
    master = session.master
    out.write(f"{toolchains_text(builds)}: "
              + plan_line(GO_TWIN, [u for u in units if u.skipped is None], [GO_MODE],
                          [(b.toolchain.map_generation, b.out_dir.parent) for b in builds],
                          args.jobs, args.timeout, args.shard, master))
    out.flush()
    result = run_units(units, master, session.loop, err)
    if args.verbose:
        write_verbose([u for u in units if u.done], out)
    go_versions = {b.toolchain.map_generation: b.toolchain.version for b in builds}
    facts = RunFacts(judge=GO_TWIN.name, cases=list(args.cases),
                     variants=None if session.variants is None else list(session.variants),
                     modes=[GO_MODE], runs=args.runs, timeout=args.timeout, shard=args.shard,
                     selected_units=selected_units, wall=result.wall, interrupted_by=result.interrupted,
                     failfast_stopped=result.failfast_hit, generations=list(session.generations),
                     go_versions=go_versions)
    return write_reports(units, master, GO_TWIN, facts, root, expected_dir,
                         (files["json"], files["junit"], files["html"]), out, go_report_fields(go_versions))


def do_against_go(args, root: Path, cases, expected_dir: Path) -> int:
    """--against-go: each C case (natural) beside its Go twin, the same number of runs."""
    out, err = sys.stdout, sys.stderr
    selected = select_cases(cases, args.cases)
    runs = args.runs or DEFAULT_AGAINST_GO_RUNS
    files = _open(args)
    c_dirs = []
    c_units: List[Unit] = []
    for generation in args.generations:
        preset = preset_for(DEFAULT, generation)
        c_dir = build_dir_of(args.build_dir, root, preset)
        if not args.no_build:
            ensure_built(root, c_dir, preset, args.jobs, err, needed=[case_binary(c_dir, c.id) for c in selected])
        mine = make_units(selected, parse_variants(args.variant), [GO_MODE], runs, expected_dir, c_dir, SIGNATURE,
                          generation)
        if mine:
            check_executables((u.binary for u in mine), args.no_build)
            check_generation(c_dir, generation, generation_probe(mine))
        c_dirs.append(c_dir)
        c_units += mine
    if not c_units:
        raise UsageError("nothing to run: the selected cases have no such variant")
    go_units, builds = _go_units(args, root, selected, expected_dir, runs)
    extra_units = _extra_go_units(args, root, selected, expected_dir, runs)
    pairs = make_pairs(c_units, go_units, {v: u for v, (u, _) in extra_units.items()})
    go_versions = {b.toolchain.map_generation: b.toolchain.version for b in builds}
    builds += [b for _, b in extra_units.values()]
    units = [u for p in pairs for u in (p.c, p.go, *(e for _, e in p.extra))]  # each C unit, then its twins

    session = session_of(args)
    master = session.master
    live = [u for u in units if u.skipped is None]
    out.write(f"C cases against their Go twins ({toolchains_text(builds)}): "
              f"{plural(len(pairs), 'case and variant', 'cases and variants')}, "
              f"{plural(runs, 'natural run')} per side, {plural(sum(u.runs for u in live), 'run')}, -j {args.jobs}, "
              f"timeout {args.timeout:g}s, seed {master} (replay with --seed {master})\n"
              f"C: {', '.join(display_path(d) for d in c_dirs)}, "
              f"Go: {', '.join(display_path(b.out_dir.parent) for b in builds)}; a disagreement in "
              "first line or exit status fails, a rate difference does not\n")
    out.flush()
    result = run_units(units, master, session.loop, err)
    if args.verbose:
        write_verbose([u for u in units if u.done], out)
    against_report.write_pair_failures(pairs, out)
    out.write("\n" + against_report.format_pairs(pairs) + "\n")
    total = sum(u.done for u in units)
    if total:
        out.write(f"\n{plural(total, 'run')} in {result.wall:.1f}s wall\n")
    if result.interrupted is not None:
        out.write(f"interrupted by {signal_name(result.interrupted)}\n")
    passed, failed, skipped = pair_counts(pairs)
    out.write(closing_line(passed, failed, skipped) + "\n")
    out.flush()
    if files["json"] is not None:
        with files["json"]:
            report = against_report.json_pairs(master, runs, ", ".join(b.toolchain.version for b in builds), pairs,
                                               passed, failed, skipped, result.interrupted is not None)
            report["go_versions"] = go_versions
            report["go_extra"] = list(extra_units)
            files["json"].write(json.dumps(report, indent=1).encode() + b"\n")
    if files["junit"] is not None:
        with files["junit"]:
            files["junit"].write(against_report.junit_pairs(master, pairs,
                                                            ", ".join(b.toolchain.version for b in builds)))
    if files["html"] is not None:
        with files["html"]:
            # The page's totals count units; the pairs' verdicts (disagreements included) lead.
            meta = {"C cases against their Go twins": toolchains_text(builds),
                    "map generation": "+".join(args.generations),
                    "cases and variants": closing_line(passed, failed, skipped), "seed": master,
                    "runs per side": runs, "wall": f"{result.wall:.1f}s", "finished": now_utc()}
            files["html"].write(html_report.render_units(
                units, root, expected_dir, meta, go_twins=against_report.html_cells(pairs)).encode("utf-8"))
    return exit_status(result.interrupted, failed)
