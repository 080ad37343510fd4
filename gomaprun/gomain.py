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
import secrets
import sys
from pathlib import Path
from typing import List, Tuple

from .base import UsageError, exit_status, make_keep_dir, now_utc, open_output, display_path, signal_name
from .build import DEFAULT, build_dir_of, check_executables, ensure_built
from .cmdline import DEFAULT_AGAINST_GO_RUNS
from .catalogue.select import parse_variants, select_cases
from .gobuild import GO_BUILD_DIR, GoBuild, build_twins
from .judges.gotwin import GO_MODE, GO_TWIN
from .judges.signature import SIGNATURE
from .reports import against_go as against_report
from .reports import html as html_report
from .reports.json_report import json_report
from .reports.junit import junit_report
from .reports.text import closing_line, counts, format_table, plan_line, write_closing, write_failures, \
    write_verbose
from .runloop.loop import LoopOptions, run_units
from .runloop.pairs import make_pairs, pair_counts
from .runloop.units import Unit, make_units


def go_build_dir(args, root: Path) -> Path:
    """Where the twins are built: <build dir>/go (default build/go)."""
    if args.build_dir is not None:
        return (args.build_dir / "go").absolute()
    return (root / GO_BUILD_DIR).absolute()


def _go_units(args, root: Path, selected, expected_dir: Path, runs) -> Tuple[List[Unit], GoBuild]:
    gdir = go_build_dir(args, root)
    built = build_twins(root, gdir, [c.id for c in selected], args.jobs, sys.stderr, no_build=args.no_build)
    units = make_units(selected, parse_variants(args.variant), [GO_MODE], runs, expected_dir, gdir, GO_TWIN)
    for u in units:
        u.skipped = built.skipped.get(u.case.id)
    check_executables((u.binary for u in units if u.skipped is None), args.no_build,
                      "go build, as cases/go.md says")
    return units, built


def _open(args):
    files = {name: open_output(getattr(args, name), f"--{name}") for name in ("json", "junit", "html")}
    make_keep_dir(args.keep)
    return files


def do_go(args, root: Path, cases, expected_dir: Path) -> int:
    """--go: the Go twins alone, with the usual policies and reports."""
    out, err = sys.stdout, sys.stderr
    selected = select_cases(cases, args.cases)
    files = _open(args)
    units, built = _go_units(args, root, selected, expected_dir, args.runs)
    if not units:
        raise UsageError("nothing to run: the selected cases have no such variant")
    if args.shard:
        i, n = args.shard
        units = [u for k, u in enumerate(units) if k % n == i - 1]
    master = args.seed if args.seed is not None else secrets.randbits(32)
    out.write(f"{built.toolchain.version} ({built.toolchain.map_generation} map): "
              + plan_line(GO_TWIN, [u for u in units if u.skipped is None], [GO_MODE], built.out_dir.parent,
                          args.jobs, args.timeout, args.shard, master))
    out.flush()
    opts = LoopOptions(jobs=args.jobs, timeout=args.timeout, verbose=args.verbose, failfast=args.failfast,
                       keep=args.keep)
    result = run_units(units, master, opts, err)
    shown = [u for u in units if u.done or u.skipped is not None]
    if args.verbose:
        write_verbose(shown, out)
    write_failures(shown, out)
    out.write("\n" + format_table(shown) + "\n")
    write_closing(units, result.wall, result.interrupted, result.failfast_hit, out)
    out.flush()
    passed, failed = counts(units)
    if files["json"] is not None:
        with files["json"]:
            report = json_report(master, units, passed, failed, result.interrupted is not None, GO_TWIN)
            report["go_version"] = built.toolchain.version
            files["json"].write(json.dumps(report, indent=1).encode() + b"\n")
    if files["junit"] is not None:
        with files["junit"]:
            files["junit"].write(junit_report(master, units, GO_TWIN.suite))
    if files["html"] is not None:
        with files["html"]:
            meta = {"judged by": f"Go twins ({built.toolchain.version})", "seed": master,
                    "runs per unit": args.runs or "default", "wall": f"{result.wall:.1f}s", "finished": now_utc()}
            files["html"].write(html_report.render_units(units, root, expected_dir, meta).encode("utf-8"))
    return exit_status(result.interrupted, failed)


def do_against_go(args, root: Path, cases, expected_dir: Path) -> int:
    """--against-go: each C case (natural) beside its Go twin, the same number of runs."""
    out, err = sys.stdout, sys.stderr
    selected = select_cases(cases, args.cases)
    runs = args.runs or DEFAULT_AGAINST_GO_RUNS
    files = _open(args)
    c_dir = build_dir_of(args.build_dir, root, SIGNATURE.preset)
    if not args.no_build:
        ensure_built(root, c_dir, DEFAULT, args.jobs, err)
    go_units, built = _go_units(args, root, selected, expected_dir, runs)
    c_units = make_units(selected, parse_variants(args.variant), [GO_MODE], runs, expected_dir, c_dir, SIGNATURE)
    if not c_units:
        raise UsageError("nothing to run: the selected cases have no such variant")
    check_executables((u.binary for u in c_units), args.no_build)
    pairs = make_pairs(c_units, go_units)
    units = [u for p in pairs for u in (p.c, p.go)]  # each C unit, then its twin

    master = args.seed if args.seed is not None else secrets.randbits(32)
    live = [u for u in units if u.skipped is None]
    out.write(f"C cases against their Go twins ({built.toolchain.version}, {built.toolchain.map_generation} map): {len(pairs)} cases and variants, "
              f"{runs} natural runs per side, {sum(u.runs for u in live)} runs, -j {args.jobs}, "
              f"timeout {args.timeout:g}s, seed {master} (replay with --seed {master})\n"
              f"C: {display_path(c_dir)}, Go: {display_path(built.out_dir.parent)}; a disagreement in "
              "first line or exit status fails, a rate difference does not\n")
    out.flush()
    opts = LoopOptions(jobs=args.jobs, timeout=args.timeout, verbose=args.verbose, failfast=args.failfast,
                       keep=args.keep)
    result = run_units(units, master, opts, err)
    if args.verbose:
        write_verbose([u for u in units if u.done], out)
    against_report.write_pair_failures(pairs, out)
    out.write("\n" + against_report.format_pairs(pairs) + "\n")
    total = sum(u.done for u in units)
    if total:
        out.write(f"\n{total} runs in {result.wall:.1f}s wall\n")
    if result.interrupted is not None:
        out.write(f"interrupted by {signal_name(result.interrupted)}\n")
    passed, failed, skipped = pair_counts(pairs)
    out.write(closing_line(passed, failed, skipped) + "\n")
    out.flush()
    if files["json"] is not None:
        with files["json"]:
            report = against_report.json_pairs(master, runs, built.toolchain.version, pairs, passed, failed,
                                               skipped, result.interrupted is not None)
            files["json"].write(json.dumps(report, indent=1).encode() + b"\n")
    if files["junit"] is not None:
        with files["junit"]:
            files["junit"].write(against_report.junit_pairs(master, pairs, built.toolchain.version))
    if files["html"] is not None:
        with files["html"]:
            # The page's totals count units; the pairs' verdicts (disagreements included) lead.
            meta = {"C cases against their Go twins": built.toolchain.version,
                    "cases and variants": closing_line(passed, failed, skipped), "seed": master,
                    "runs per side": runs, "wall": f"{result.wall:.1f}s", "finished": now_utc()}
            files["html"].write(html_report.render_units(
                units, root, expected_dir, meta, go_twins=against_report.html_cells(pairs)).encode("utf-8"))
    return exit_status(result.interrupted, failed)
