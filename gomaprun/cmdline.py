"""Layer 6: the command line.

build_parser describes every option, in groups, with usage text and
examples; parse_args parses and then refuses every combination of options
that cannot work together (exit status 2, with a message that says why),
so that no mode has to check its options, and no option is silently
ignored.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Tuple

from .base import EXPLORE, FORCED, MODES, NATURAL, DEFAULT_GENERATION, DEFAULT_RUNS, GENERATIONS, PROG
from .judges.tsan import DEFAULT_TSAN_RUNS
from .reports.matrix import DEFAULT_MATRIX_RUNS
from .catalogue.select import parse_variants
from .runloop.loop import SHOWN_FAILURES, LoopOptions

DEFAULT_TIMEOUT = 10.0
BOTH_GENERATIONS = "both"
BOTH_MODES = "both"  # --mode both: forced, then natural
GENERATION_CHOICES = GENERATIONS + (BOTH_GENERATIONS,)
# Explore mode: an exploration is one process running thousands of
# schedules with two children of its own, so one at a time, and a timeout
# for the whole exploration.
DEFAULT_EXPLORE_TIMEOUT = 300.0
DEFAULT_EXPLORE_JOBS = 1
DEFAULT_AGAINST_GO_RUNS = DEFAULT_RUNS["against-go"]
ROOT = Path(__file__).resolve().parent.parent

EPILOG = """\
selection:
  CASE may be a case id, a glob (quote it: '2.*', '*writing*') or a group:
  article (the article's twelve), family (the rest of the family), control
  (the controls) or all. Nothing given means all.

policies:
  forced trigger    (bad, forced)    every run matches the expected signature
  natural trigger   (bad, natural)   at least one match, no wrong signature,
                                     no timeout (runs not reproduced and runs
                                     with unseen corruption are counted)
  fixed and control (any mode)       every run clean
  explore trigger   (bad, explore)   some schedule ends with the expected signature
                                     (first-line, natural-also, natural-also-match),
                                     none ends otherwise; clean schedules allowed
  explore fixed, control             no schedule reports and none overlaps (the len
                                     control: overlaps allowed, never reported);
                                     every exploration exhausts its space

exit status:
  0 every unit met its policy, 1 some failed, 2 bad usage or input
  (unknown case, malformed manifest or expected file, options that cannot
  be combined, missing tools, failed build), 130 interrupted (Ctrl-C).

examples:
  python3 runner.py                          build if needed, run everything
  python3 runner.py 2.1-read-write-pair -v   one case, show one run's output
  python3 runner.py article --mode natural --runs 500
  python3 runner.py --runs 1000 --junit report.xml --shard 1/4
  python3 runner.py --runs 1000 --seed 7 --shard 2/4 --json shard2.json   (one per machine)
  python3 runner.py --merge shard*.json --junit report.xml --html report.html
  python3 runner.py --explain 3.3-background-scanner
  python3 runner.py --mode explore --bound 2   every ordering up to 2 preemptions
  python3 runner.py --sanitizer thread --mode both   every unit under ThreadSanitizer
  python3 runner.py --matrix --matrix-md docs/detection-matrix.md
  python3 runner.py --against-go --runs 100  each case beside its Go twin (needs go)
"""


def _whole(text: str) -> int:
    """A whole number written in ASCII digits (int() would also take '1_000',
    ' 5' and other scripts' digits); the error is the runner's own words."""
    if not re.fullmatch(r"-?[0-9]+", text):
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}")
    return int(text)


def _positive_int(text: str) -> int:
    n = _whole(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return n


def _nonnegative_int(text: str) -> int:
    n = _whole(text)
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, not {n}")
    return n


def _positive_float(text: str) -> float:
    if not re.fullmatch(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?", text):
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}")
    x = float(text)
    if not x > 0 or x == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return x


def _seed(text: str) -> int:
    if not re.fullmatch(r"-?[0-9]+", text):
        raise argparse.ArgumentTypeError(f"not a decimal number: {text!r}")
    n = int(text)
    if not 0 <= n < 1 << 64:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**64-1, not {n}")
    return n


def _shard(text: str) -> Tuple[int, int]:
    m = re.fullmatch(r"([0-9]+)/([0-9]+)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"expected I/N like 2/4, not {text!r}")
    i, n = int(m.group(1)), int(m.group(2))
    if not 1 <= i <= n:
        raise argparse.ArgumentTypeError(f"need 1 <= I <= N, not {i}/{n}")
    return i, n


def _go_release(text: str) -> str:
    """A Go release as GOTOOLCHAIN names it: go1.22.12 (GOTOOLCHAIN=go1.22.12 also taken)."""
    value = text.split("=", 1)[1] if text.startswith("GOTOOLCHAIN=") else text
    m = re.fullmatch(r"go1\.([0-9]+)(\.[0-9]+)?", value)
    if not m:
        raise argparse.ArgumentTypeError(f"not a Go release like go1.22.12: {text!r}")
    if not 21 <= int(m.group(1)) < 24:
        raise argparse.ArgumentTypeError(f"{value}: --go-extra takes a Go with the bucket map that GOTOOLCHAIN "
                                         "can fetch, Go 1.21 to 1.23")
    return value


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Run the catalogue's cases many times and check every run's signature.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    p.add_argument("cases", nargs="*", metavar="CASE", help="case ids, globs or groups to run (default: all)")

    sel = p.add_argument_group("selection and modes")
    sel.add_argument("--variant", action="append", metavar="V",
                     help="only these variants: bad, fixed, control (repeat or comma-separate)")
    sel.add_argument("--mode", choices=MODES + (BOTH_MODES, EXPLORE),
                     help="forced schedules the overlap, natural leaves it to chance, both is forced+natural; "
                          "explore runs every ordering up to a preemption bound, one exploration per unit "
                          "(docs/explore.md) (default: forced)")
    sel.add_argument("--bound", type=_nonnegative_int, metavar="N",
                     help="with --mode explore: preemptions allowed per schedule (default: 2)")
    sel.add_argument("--generation", choices=GENERATION_CHOICES, metavar="G",
                     help="the core's map generation: bucket (the port of Go 1.19's map, build/), swiss (the "
                          "port of Go 1.26's Swiss tables, build-swiss/, configured with GOMAP_GENERATION=swiss) "
                          "or both, side by side in one report; in every mode, each beside its own Go with "
                          f"--go and --against-go (bucket: Go 1.19, swiss: Go 1.26) (default: {DEFAULT_GENERATION}, "
                          "the map the expected files and figures were measured on)")
    sel.add_argument("--runs", type=_positive_int, metavar="N",
                     help=f"runs per case, variant and mode (default: {DEFAULT_RUNS['forced']} forced, "
                          f"{DEFAULT_RUNS['natural']} natural)")
    sel.add_argument("--seed", type=_seed, metavar="N",
                     help="master seed; every run's seed derives from it, so the same seed replays "
                          "the same run set (default: random, printed)")
    sel.add_argument("--shard", type=_shard, metavar="I/N",
                     help="run only slice I of N (1 <= I <= N): units I, I+N, I+2N... in catalogue order, "
                          "for CI matrices; run seeds do not depend on the slicing")

    exe = p.add_argument_group("execution")
    exe.add_argument("-j", "--jobs", type=_positive_int, metavar="N",
                     help=f"runs in parallel (default: the number of usable cores, {cpu_count()} here; "
                          f"{DEFAULT_EXPLORE_JOBS} with --mode explore, whose explorations run two children each)")
    exe.add_argument("--timeout", type=_positive_float, metavar="SECONDS",
                     help="a run still alive after this gets SIGABRT, then SIGKILL, for its whole "
                          f"process group (default: {DEFAULT_TIMEOUT:g}; with --mode explore, a whole "
                          f"exploration's: {DEFAULT_EXPLORE_TIMEOUT:g})")
    exe.add_argument("--failfast", action="store_true",
                     help="stop launching runs after the first run or unit that fails")

    out = p.add_argument_group("output")
    out.add_argument("--list", action="store_true", help="list the selected cases and exit")
    out.add_argument("--explain", metavar="CASE",
                     help="print a case's write-up, source header, expected signature and fix, and exit")
    out.add_argument("-v", "--verbose", action="store_true",
                     help="show the whole output of one run per unit (a failing one if any), and "
                          f"every failing run's replay command (default: the first {SHOWN_FAILURES} per unit)")
    out.add_argument("--json", metavar="FILE", type=Path, help="write every run's outcome and the summary as JSON")
    out.add_argument("--junit", metavar="FILE", type=Path,
                     help="write a JUnit XML report: one test case per case, variant and mode")
    out.add_argument("--html", metavar="FILE", type=Path,
                     help="write a self-contained HTML report: the table, and per case its signatures, "
                          "natural-mode rate beside real Go's, one bad run's map timeline and the write-up")
    out.add_argument("--keep", metavar="DIR", type=Path,
                     help="save the stderr of every run that did not match under DIR")

    shards = p.add_argument_group("merging shards")
    shards.add_argument("--merge", nargs="+", type=Path, metavar="REPORT",
                        help="read the --json reports of a run's shards (--shard I/N --json F, on one machine "
                             "or several) and report them as that one run: the table, the closing line and "
                             "exit status, --json, --junit and --html; runs and builds nothing")

    san = p.add_argument_group("ThreadSanitizer and the detection matrix")
    san.add_argument("--sanitizer", choices=("thread",),
                     help="build the tsan preset (build-tsan/) and check every run under ThreadSanitizer: "
                          "triggers reported as data races naming both accesses, fixed variants and controls "
                          "without any report; triggers and the len control run in natural mode "
                          f"(default --runs {DEFAULT_TSAN_RUNS})")
    san.add_argument("--matrix", action="store_true",
                     help="measure the detection matrix: per case, how often the built-in detector and "
                          f"ThreadSanitizer report the misuse in natural mode (default --runs {DEFAULT_MATRIX_RUNS})")
    san.add_argument("--matrix-md", metavar="FILE", type=Path,
                     help="with --matrix: write the measured table as markdown (e.g. docs/detection-matrix.md)")

    gos = p.add_argument_group("Go twins (cases/<id>.go; needs a Go toolchain: go on PATH or GO=)")
    gos.add_argument("--go", action="store_true",
                     help="run the Go twins instead of the C cases, natural mode only, judged by the expected "
                          "files' exit status and first line (built into BUILD/go/; default --runs "
                          f"{DEFAULT_RUNS['natural']})")
    gos.add_argument("--against-go", action="store_true",
                     help="run each case (natural) and its Go twin the same number of times and compare: "
                          "rates, first lines, and whether they agree; a disagreement in first line or exit "
                          f"status fails (default --runs {DEFAULT_AGAINST_GO_RUNS})")
    gos.add_argument("--go-extra", action="append", type=_go_release, metavar="GO",
                     help="with --against-go: also build and run the bucket map's twins with this Go release "
                          "(go1.21.x to go1.23.x, fetched by a Go 1.21+ launcher through GOTOOLCHAIN and the "
                          "module proxy), a further column beside Go 1.19's; repeat for more")

    tree = p.add_argument_group("source tree and build")
    tree.add_argument("--root", type=Path, metavar="DIR", default=ROOT,
                      help="the source tree (default: the directory of runner.py)")
    tree.add_argument("--build-dir", type=Path, metavar="DIR",
                      help="the CMake build directory; executables are DIR/cases/<id> "
                           "(default: ROOT/build, ROOT/build-tsan with --sanitizer)")
    tree.add_argument("--manifest", type=Path, metavar="FILE", help="the case list (default: ROOT/cases/manifest.tsv)")
    tree.add_argument("--expected-dir", type=Path, metavar="DIR",
                      help="the expected-signature files (default: ROOT/expected)")
    tree.add_argument("--no-build", action="store_true",
                      help="do not configure or build; use the executables already in the build directory")
    return p


# Options that shape or record a run of the catalogue; meaningless with
# --list and --explain, which run nothing (--explain's one timeline run is
# always the bad variant, forced, seed 1).
_RUN_OPTIONS = (("sanitizer", "--sanitizer"), ("matrix", "--matrix"), ("json", "--json"), ("junit", "--junit"),
                ("html", "--html"), ("keep", "--keep"), ("runs", "--runs"), ("seed", "--seed"),
                ("shard", "--shard"), ("variant", "--variant"), ("mode", "--mode"), ("failfast", "--failfast"),
                ("verbose", "-v"), ("go", "--go"), ("against_go", "--against-go"), ("bound", "--bound"),
                ("generation", "--generation"))
# What --matrix decides for itself: both tools, bad variants and the len
# control, natural mode, every case; it writes no JUnit and shows no run.
_NOT_WITH_MATRIX = (("sanitizer", "--sanitizer"), ("variant", "--variant"), ("shard", "--shard"),
                    ("junit", "--junit"), ("mode", "--mode"), ("verbose", "-v"))

# What the Go twins cannot do: no sanitizer build, no matrix; --against-go
# pairs each case with its twin, so it cannot be sliced into shards either.
_NOT_WITH_GO = (("sanitizer", "--sanitizer"), ("matrix", "--matrix"))
_NOT_WITH_AGAINST_GO = (("shard", "--shard"),)


# What a merge takes from its shard reports (selection, modes, runs, seed,
# judge) or cannot do (it runs nothing): everything but the report files,
# the tree options, -j and --timeout.
_NOT_WITH_MERGE = (("cases", "case selection"), ("variant", "--variant"), ("mode", "--mode"), ("runs", "--runs"),
                   ("seed", "--seed"), ("shard", "--shard"), ("sanitizer", "--sanitizer"), ("list", "--list"),
                   ("explain", "--explain"), ("matrix", "--matrix"), ("matrix_md", "--matrix-md"),
                   ("keep", "--keep"), ("failfast", "--failfast"), ("verbose", "-v"), ("bound", "--bound"),
                   ("generation", "--generation"))


# What an exploration decides for itself: one exploration per unit (no
# --runs), the default build, the C cases only.
_NOT_WITH_EXPLORE = (("runs", "--runs"), ("sanitizer", "--sanitizer"), ("matrix", "--matrix"),
                     ("against_go", "--against-go"), ("go", "--go"))


def _given(args: argparse.Namespace, name: str) -> bool:
    return getattr(args, name) not in (None, False, [])


# The options that name a file to write; no two may name the same file
# (the second report would overwrite the first).
_OUTPUT_FILES = (("json", "--json"), ("junit", "--junit"), ("html", "--html"), ("matrix_md", "--matrix-md"))


def _same_output(args: argparse.Namespace) -> Optional[str]:
    seen = {}
    for name, flag in _OUTPUT_FILES:
        path = getattr(args, name, None)
        if path is None:
            continue
        key = os.path.realpath(path)
        if key in seen:
            return (f"{seen[key]} and {flag} name the same file ({path}); "
                    "each report needs a file of its own")
        seen[key] = flag
    return None


def check_combinations(args: argparse.Namespace) -> Optional[str]:
    """The first problem with the combination of options, or None."""
    same = _same_output(args)
    if same is not None:
        return same
    if args.merge:
        for name, flag in _NOT_WITH_MERGE:
            if _given(args, name):
                return (f"--merge cannot be combined with {flag} (a merge runs nothing: the selection, "
                        "modes, runs, seed and judge are the shard reports')")
    if args.bound is not None and args.mode != EXPLORE and not args.merge:
        return "--bound goes with --mode explore (the preemption bound of an exploration)"
    if args.mode == EXPLORE:
        for name, flag in _NOT_WITH_EXPLORE:
            if _given(args, name):
                return (f"--mode explore cannot be combined with {flag} (each unit is one exploration of "
                        "every ordering of a C case, on the default build)")
    if args.matrix_md is not None and not args.matrix:
        return "--matrix-md goes with --matrix"
    if args.list and args.explain is not None:
        return "--list cannot be combined with --explain"
    info = "--list" if args.list else "--explain" if args.explain is not None else None
    if info is not None:
        for name, flag in _RUN_OPTIONS:
            if _given(args, name):
                return f"{info} cannot be combined with {flag} ({info} runs no catalogue and writes no report)"
        if args.explain is not None and args.cases:
            return f"--explain takes one case as its value; drop the other case arguments ({' '.join(args.cases)})"
    if args.matrix:
        for name, flag in _NOT_WITH_MATRIX:
            if _given(args, name):
                return (f"--matrix cannot be combined with {flag} (it runs the bad variants and "
                        f"the len control in natural mode, with and without ThreadSanitizer)")
    if args.generation == BOTH_GENERATIONS and args.build_dir is not None and not args.merge:
        return ("--generation both cannot be combined with --build-dir (one directory holds one build; "
                "both generations use their own: build/ and build-swiss/)")
    if args.matrix and args.generation == BOTH_GENERATIONS:
        return ("--matrix cannot be combined with --generation both (the matrix measures one generation's "
                "builds; run it once per generation)")
    if args.go_extra and not args.against_go:
        return "--go-extra goes with --against-go (further Go columns beside each bucket-map pair)"
    if args.go_extra and args.generation == "swiss":
        return ("--go-extra cannot be combined with --generation swiss (its releases, Go 1.21 to 1.23, run the "
                "bucket map)")
    if args.go and args.against_go:
        return "--go cannot be combined with --against-go (--against-go runs the Go twins beside the C cases)"
    go_flag = "--go" if args.go else "--against-go" if args.against_go else None
    if go_flag is not None:
        refused = _NOT_WITH_GO + (_NOT_WITH_AGAINST_GO if args.against_go else ())
        for name, flag in refused:
            if _given(args, name):
                return (f"{go_flag} cannot be combined with {flag} (the Go twins run real Go, natural mode, no "
                        "sanitizer" + ("; each case beside its twin in one run)" if args.against_go else ")"))
        if args.mode not in (None, NATURAL):
            return (f"{go_flag} cannot be combined with --mode {args.mode} (Go has no forced mode: "
                    "twins run natural only)")
    return None


@dataclass(frozen=True)
class Session:
    """What every command that runs something decides the same way, once,
    from the parsed command line: the master seed (given, or drawn here and
    printed by the plan line), the modes and variants, the map generations,
    and the run loop's options."""

    master: int
    modes: Tuple[str, ...]
    variants: Optional[Tuple[str, ...]]  # None: every variant
    generations: Tuple[str, ...]
    loop: LoopOptions


def session_of(args: argparse.Namespace) -> Session:
    """The session of a parsed command line; UsageError for an unknown variant."""
    variants = parse_variants(args.variant)
    return Session(
        master=args.seed if args.seed is not None else secrets.randbits(32),
        modes=MODES if args.mode == BOTH_MODES else (args.mode,),
        variants=None if variants is None else tuple(variants),
        generations=tuple(args.generations),
        loop=LoopOptions(jobs=args.jobs, timeout=args.timeout, verbose=args.verbose, failfast=args.failfast,
                         keep=args.keep))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line; bad values and combinations exit with status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = check_combinations(args)
    if problem is not None:
        parser.error(problem)
    if args.mode is None:
        args.mode = NATURAL if args.go or args.against_go else FORCED
    args.generations = (list(GENERATIONS) if args.generation == BOTH_GENERATIONS
                        else [args.generation or DEFAULT_GENERATION])
    explore = args.mode == EXPLORE
    if args.jobs is None:
        args.jobs = DEFAULT_EXPLORE_JOBS if explore else cpu_count()
    if args.timeout is None:
        args.timeout = DEFAULT_EXPLORE_TIMEOUT if explore else DEFAULT_TIMEOUT
    return args
