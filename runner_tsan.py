"""The catalogue under ThreadSanitizer, and the detection matrix (runner.py --sanitizer thread, --matrix).

`runner.py --sanitizer thread` builds the CMake preset `tsan` (clang
-fsanitize=thread, build dir build-tsan/) and runs every selected unit there
with TSAN_OPTIONS below. Each run is judged by what ThreadSanitizer printed,
by one of four expectations:

    trigger      bad variants: a `data race` report that names both accesses
                 (the current one and the `Previous ...` one), each with a
                 stack through core/. Whether the built-in detector also fired
                 does not matter: exit 2 (it did) or 66 (TSan's exit code) are
                 both accepted.
    race-free    fixed variants and race-free controls: no ThreadSanitizer
                 output at all, no built-in report, DONE on stdout, exit 0.
    len-control  control-len-while-writing: a data race report naming both
                 accesses, while the built-in detector stays silent (no
                 report, DONE) and the run exits 66 (TSan's exit code).
    nil-panic    a bad variant whose expected first line is a panic (nil-map
                 assignment): one thread, so no race; Go's panic, exit 2 and
                 no ThreadSanitizer output.

Every run of every unit must meet its expectation (100% of trigger runs
reported, no report in any fixed or control run).

Triggers and the len control run in natural mode whatever --mode says: the
forced schedule parks the window holder on a mutex and condition variable
until the other party arrives, and that hand-over is a happens-before edge
for TSan, which then sees no race (measured: forced bad runs of most cases
show no race at all; docs/cross-checks.md). Fixed variants, controls and
the nil-map panic run in the modes --mode selects.

`runner.py --matrix` measures, per case with a bad variant and for the len
control, how often each tool reports the misuse in natural mode: the
built-in detector (a normal natural run of build/: runs that matched the
expected signature; for the control, runs with any report) and
ThreadSanitizer (natural runs of build-tsan/: runs with a data race report
naming both accesses). It prints the table, puts it in the --html page and
writes it as markdown with --matrix-md.

Standard library only. The run loop, tables and reports are runner.py's; it
passes itself in as `R`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

# halt_on_error=0: the run goes on after a report, so the built-in detector's
#   verdict is seen as well.
# exitcode=66: a run with reports that otherwise ends normally exits 66.
# report_signal_unsafe=0: the core's report is written from a signal-free
#   path, but the harness's SIGABRT handling must not add reports of its own.
# history_size=4: enough access history to restore the previous access's
#   stack, so the report names both accesses with their frames.
# io_sync=0: a write to a descriptor and a later read from it are not taken
#   as synchronisation (by default they are, and the HTTP traffic of 4.1 then
#   orders the handlers' map writes in some runs and hides the race; the fixed
#   variants use locks only, so for them this is the stricter test).
# second_deadlock_stack=1: a lock-order report shows both stacks.
# atexit_sleep_ms=100: TSan by default sleeps a whole second at exit to catch
#   threads still running; every case joins its threads before DONE, so a
#   tenth of that is plenty and makes a run about ten times faster.
TSAN_OPTIONS = ("halt_on_error=0 exitcode=66 report_signal_unsafe=0 history_size=4 io_sync=0 "
                "second_deadlock_stack=1 atexit_sleep_ms=100")
TSAN_EXIT = 66
TSAN_BUILD_DIR = "build-tsan"
TSAN_PRESET = "tsan"
DEFAULT_TSAN_RUNS = 100
DEFAULT_MATRIX_RUNS = 200
LEN_CONTROL = "control-len-while-writing"

# Outcome names: the same strings as runner.py's, so its tables and reports read them.
MATCHED = "matched"
NOT_REPRODUCED = "not-reproduced"
WRONG = "wrong-signature"
TIMEOUT = "timeout"

TRIGGER = "trigger"
RACE_FREE = "race-free"
LEN = "len-control"
NIL_PANIC = "nil-panic"

KIND_SUMMARY = {
    TRIGGER: "TSan data race, both accesses",
    RACE_FREE: "no TSan report, exit 0, DONE",
    LEN: "TSan data race, detector silent",
    NIL_PANIC: "panic, no TSan report",
}

# --------------------------------------------------------------------------
# Reading ThreadSanitizer's reports
# --------------------------------------------------------------------------

_WARNING_RE = re.compile(r"^WARNING: ThreadSanitizer: (.*?)(?: \(pid=\d+\))?\s*$")
# Any line ThreadSanitizer prints on its own account (reports, the closing
# count, DEADLYSIGNAL, CHECK failed, ...).
_ANY_TSAN_RE = re.compile(r"^(?:WARNING: )?ThreadSanitizer\b")
_CURRENT_RE = re.compile(r"^  (?:Atomic )?(?:[Ww]rite|[Rr]ead) of size \d+")
_PREVIOUS_RE = re.compile(r"^  Previous (?:atomic )?(?:write|read) of size \d+")
_SECTION_RE = re.compile(r"^  [A-Z]")
_FRAME_RE = re.compile(r"^    #\d+ ")
_CORE_FRAME_RE = re.compile(r"/core/[A-Za-z0-9_]+\.[ch]:\d+")
_END_RE = re.compile(r"^={10,}\s*$")
# What the core and the harness print when the built-in detector fires.
_BUILTIN_RE = re.compile(r"^(?:fatal error: |panic: )", re.M)


@dataclass
class Access:
    """One access named by a data race report: its heading line and its stack."""

    line: str
    frames: int = 0
    in_core: bool = False


@dataclass
class Race:
    """One `WARNING: ThreadSanitizer: data race` report."""

    current: Optional[Access] = None
    previous: Optional[Access] = None

    @property
    def both(self) -> bool:
        """Both accesses are named, each with at least one frame."""
        return bool(self.current and self.previous and self.current.frames and self.previous.frames)

    @property
    def in_map(self) -> bool:
        """Both accesses are named and both stacks pass through the map core."""
        return self.both and self.current.in_core and self.previous.in_core  # type: ignore[union-attr]


@dataclass
class TsanFacts:
    """What ThreadSanitizer said in one run's stderr."""

    warnings: List[str] = field(default_factory=list)  # the kind of each report, e.g. "data race"
    races: List[Race] = field(default_factory=list)
    any_output: bool = False  # any line ThreadSanitizer printed on its own account
    summaries: List[str] = field(default_factory=list)  # each report's SUMMARY line, without the prefix

    @property
    def reported(self) -> bool:
        return bool(self.warnings) or self.any_output

    @property
    def race_both(self) -> bool:
        return any(r.both for r in self.races)

    @property
    def map_race(self) -> bool:
        return any(r.in_map for r in self.races)

    def first_warning(self) -> str:
        return self.warnings[0] if self.warnings else ""


def parse_tsan(stderr: str) -> TsanFacts:
    """Read every ThreadSanitizer report out of a run's stderr.

    Tolerant of other output interleaved with a report (the core's own report
    is written by another thread): lines that are neither a section heading,
    a frame nor a report boundary are skipped.
    """
    facts = TsanFacts()
    race: Optional[Race] = None
    access: Optional[Access] = None
    for line in stderr.split("\n"):
        line = line.rstrip("\r")
        m = _WARNING_RE.match(line)
        if m:
            facts.any_output = True
            facts.warnings.append(m.group(1))
            race = Race() if m.group(1).startswith("data race") else None
            if race is not None:
                facts.races.append(race)
            access = None
            continue
        if _ANY_TSAN_RE.match(line) or line.startswith("SUMMARY: ThreadSanitizer"):
            facts.any_output = True
        if line.startswith("SUMMARY: ThreadSanitizer: "):
            facts.summaries.append(line[len("SUMMARY: ThreadSanitizer: "):].strip())
        if _END_RE.match(line) or line.startswith("SUMMARY: "):
            race = access = None
            continue
        if race is None:
            continue
        if _CURRENT_RE.match(line) and race.current is None:
            access = race.current = Access(line.strip())
        elif _PREVIOUS_RE.match(line) and race.previous is None:
            access = race.previous = Access(line.strip())
        elif _SECTION_RE.match(line):
            access = None
        elif access is not None and _FRAME_RE.match(line):
            access.frames += 1
            if _CORE_FRAME_RE.search(line):
                access.in_core = True
    return facts


def builtin_report(stderr: str) -> Optional[str]:
    """The first line of the built-in detector's report (or the nil-map panic), if any."""
    m = re.search(r"^(?:fatal error: |panic: ).*$", stderr, re.M)
    return m.group(0) if m else None


# --------------------------------------------------------------------------
# Expectations and the classification of one run
# --------------------------------------------------------------------------


def expectation_kind(case_id: str, variant: str, bad_first_line: Optional[str] = None) -> str:
    """Which TSan expectation a case's variant has.

    `bad_first_line` is the first line the bad variant's expected file
    names; a panic there (nil-map assignment) is no race.
    """
    if case_id == LEN_CONTROL:
        return LEN
    if variant == "bad":
        if bad_first_line and bad_first_line.startswith("panic:"):
            return NIL_PANIC
        return TRIGGER
    return RACE_FREE


def classify_tsan(kind: str, status: Optional[int], signum: Optional[int], stdout: str, stderr: str,
                  timed_out: bool = False, panic_line: Optional[str] = None) -> Tuple[str, str]:
    """Classify one run under ThreadSanitizer; return (outcome, reason), reason empty on a match.

    `status` is the exit status, or None when the run was killed by `signum`.
    `panic_line` is the first line a nil-panic run must print.
    """
    if timed_out:
        return TIMEOUT, "did not finish in time"
    if signum is not None:
        return WRONG, f"killed by {_signal_name(signum)}"
    facts = parse_tsan(stderr)
    builtin = builtin_report(stderr)
    done = "DONE" in stdout.split("\n")
    if kind == TRIGGER:
        if not facts.races:
            what = f"a ThreadSanitizer report of another kind ({facts.first_warning()})" if facts.warnings \
                else "no ThreadSanitizer report"
            return NOT_REPRODUCED, f"{what}; exit status {status}"
        if not facts.race_both:
            return WRONG, "the data race report does not name both accesses (current and previous, with stacks)"
        if not facts.map_race:
            return WRONG, "no data race report with both accesses inside the map core (core/)"
        if status not in (2, TSAN_EXIT):
            return WRONG, f"exit status {status}, expected 2 (the detector fired) or {TSAN_EXIT} (TSan's)"
        return MATCHED, ""
    if kind == LEN:
        if builtin:
            return WRONG, f"the built-in detector fired: {builtin!r}"
        if not facts.races:
            return NOT_REPRODUCED, f"no ThreadSanitizer data race report; exit status {status}"
        if not facts.race_both:
            return WRONG, "the data race report does not name both accesses (current and previous, with stacks)"
        if not facts.map_race:
            return WRONG, "no data race report with both accesses inside the map core (core/)"
        if status != TSAN_EXIT:
            return WRONG, f"exit status {status}, expected {TSAN_EXIT} (TSan's, after its report)"
        if not done:
            return WRONG, "no line 'DONE' on stdout"
        return MATCHED, ""
    if facts.reported:
        if facts.warnings:
            where = f" ({facts.summaries[0]})" if facts.summaries else ""
            return WRONG, f"ThreadSanitizer reported a {facts.first_warning()}{where}"
        return WRONG, "ThreadSanitizer printed output of its own"
    if kind == NIL_PANIC:
        want = panic_line or "panic: assignment to entry in nil map"
        first = stderr.split("\n", 1)[0].rstrip("\r")
        if status != 2:
            return WRONG, f"exit status {status}, expected 2"
        if first != want:
            return WRONG, f"first line {first[:300]!r}, expected {want!r}"
        return MATCHED, ""
    # RACE_FREE
    if builtin:
        return WRONG, f"the built-in detector fired: {builtin!r}"
    if status != 0:
        return WRONG, f"exit status {status}, expected 0"
    if not done:
        return WRONG, "no line 'DONE' on stdout"
    return MATCHED, ""


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


# --------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------


class TsanExpectation:
    """Stands in for runner.Expectation in tables and reports."""

    def __init__(self, kind: str, panic_line: Optional[str] = None):
        self.kind = kind
        self.panic_line = panic_line

    def summary(self) -> str:
        return KIND_SUMMARY[self.kind]


_unit_classes: Dict[int, type] = {}


def unit_class(R) -> type:
    """A runner.Unit whose policy is the same for every unit: every run as expected."""
    cls = _unit_classes.get(id(R))
    if cls is not None:
        return cls

    class TsanUnit(R.Unit):  # type: ignore[misc,name-defined]
        sanitizer = "thread"

        @property
        def policy(self) -> str:
            return {TRIGGER: "every run reported by TSan (both accesses)",
                    LEN: "every run reported by TSan, detector silent",
                    NIL_PANIC: "every run panics with no TSan report",
                    RACE_FREE: "every run clean, no TSan report"}[self.expect.kind]

        def breaks_policy(self, outcome: str) -> bool:
            return outcome != MATCHED

        def verdict(self) -> str:
            if self.failing_total:
                return "FAIL"
            if self.done < self.runs:
                return "incomplete" if self.done else "not run"
            return "pass"

        def classify(self, status, signum, stdout, stderr, timed_out=False):
            return classify_tsan(self.expect.kind, status, signum, stdout, stderr, timed_out,
                                 self.expect.panic_line)

    _unit_classes[id(R)] = TsanUnit
    return TsanUnit


def make_tsan_units(R, cases: Sequence, variants: Optional[Sequence[str]], modes: Sequence[str],
                    runs: int, expected_dir: Path, build_dir: Path) -> List:
    """Units for a ThreadSanitizer run.

    Triggers and the len control run in natural mode only (see the module
    docstring); the others in every mode of `modes`.
    """
    cls = unit_class(R)
    units = []
    for c in cases:
        bad_first = None
        if "bad" in c.variants:
            bad_first = R.load_expectation(expected_dir / f"{c.id}.bad.expect").first_line
        for v in c.variants:
            if variants is not None and v not in variants:
                continue
            kind = expectation_kind(c.id, v, bad_first)
            exp = TsanExpectation(kind, bad_first if kind == NIL_PANIC else None)
            unit_modes = ["natural"] if kind in (TRIGGER, LEN) else list(modes)
            for m in unit_modes:
                units.append(cls(case=c, variant=v, mode=m, expect=exp, runs=runs,
                                 binary=build_dir / "cases" / c.id))
    return units


def tsan_env(R, environ: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """The environment of a run under ThreadSanitizer.

    The map's flight recorder (GOMAP_TIMELINE) is off unless the runner's
    own environment sets it: the recorder is the runner's diagnostic, not
    part of a case, and its lazily allocated ring is read by other threads
    through a relaxed load of its pointer, which TSan reports as a race in
    fixed variants whose threads share a map without otherwise ordering the
    ring's first use (measured: 3.3 fixed, 77 of 100 forced runs).
    """
    environ = os.environ if environ is None else environ
    env = R.child_env()
    if "GOMAP_TIMELINE" not in environ:
        env.pop("GOMAP_TIMELINE", None)
    extra = env.get("TSAN_OPTIONS", "").strip()
    # The runner's options come last, so they win over inherited ones.
    env["TSAN_OPTIONS"] = (extra + " " + TSAN_OPTIONS).strip() if extra else TSAN_OPTIONS
    return env


def tsan_replay_text(R, unit, seed: int) -> str:
    argv = unit.replay(seed)
    argv[0] = R.display_path(Path(argv[0]))
    timeline = "GOMAP_TIMELINE=1 " if "GOMAP_TIMELINE" in os.environ else ""
    return f"{timeline}TSAN_OPTIONS={shlex.quote(TSAN_OPTIONS)} " + " ".join(shlex.quote(a) for a in argv)


# --------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------


def ensure_tsan_built(R, root: Path, build_dir: Path, jobs: int, err) -> None:
    """Configure build-tsan/ with the `tsan` preset if needed, then bring it up to date."""
    cmake = shutil.which("cmake")
    if cmake is None:
        raise R.UsageError(f"cmake not found on PATH; install the build tools: {R.INSTALL_HINT}")
    if shutil.which("clang") is None:
        raise R.UsageError("clang not found on PATH: the ThreadSanitizer build (preset tsan) needs it "
                           "(apt-get install clang)")
    t0 = time.monotonic()
    configured = (build_dir / "CMakeCache.txt").is_file()
    if not configured:
        if os.path.abspath(build_dir) == os.path.abspath(root / TSAN_BUILD_DIR) \
                and (root / "CMakePresets.json").is_file():
            R.run_quietly([cmake, "--preset", TSAN_PRESET], root, f"configuring (cmake --preset {TSAN_PRESET})")
        else:
            R.run_quietly([cmake, "-S", str(root), "-B", str(build_dir), "-DCMAKE_C_COMPILER=clang",
                           "-DGOMAP_SANITIZER=thread", "-DCMAKE_BUILD_TYPE=RelWithDebInfo"],
                          None, "configuring the ThreadSanitizer build")
    R.run_quietly([cmake, "--build", str(build_dir), "-j", str(jobs)], None, "building (ThreadSanitizer)")
    what = "configured and built" if not configured else "brought up to date"
    err.write(f"{what}: {R.display_path(build_dir)} ({time.monotonic() - t0:.1f}s)\n")


# --------------------------------------------------------------------------
# Running units (shared by --sanitizer thread and --matrix)
# --------------------------------------------------------------------------


def _run_units(R, args, units: Sequence, env: Dict[str, str], master: int, out, err,
               on_run=None) -> Tuple[float, Optional[int], bool]:
    """Run every unit's runs through runner.py's executor; return (wall, interrupted, failfast hit).

    `on_run(unit, outcome, stdout, stderr)` is called for every finished run.
    """
    total_runs = sum(u.runs for u in units)
    progress = R.Progress(err, total_runs, len(units), live=err.isatty())
    state = {"failfast_hit": False}

    def on_finished(fin) -> bool:
        u = fin.job.unit
        so = fin.stdout.decode("utf-8", "replace")
        se = fin.stderr.decode("utf-8", "replace")
        if hasattr(u, "classify"):
            outcome, reason = u.classify(fin.status, fin.signum, so, se, fin.timed_out)
        else:
            outcome, reason = R.classify(u.expect, u.mode, fin.status, fin.signum, so, se, fin.timed_out)
        if fin.timed_out:
            reason = f"no exit within {args.timeout:g}s; got SIGABRT" + (
                f", ended by {R.signal_name(fin.signum)}" if fin.signum is not None else "")
        if fin.dropped:
            reason += f" (output truncated, {fin.dropped} bytes dropped)" if reason else ""
        first = se.split("\n", 1)[0][:R.FIRST_LINE_LIMIT]
        rec = R.RunRecord(fin.job.index, fin.job.seed, outcome, reason, fin.status, fin.signum, first, fin.ms)
        u.records.append(rec)
        u.counts[outcome] += 1
        u.times.append(fin.ms)
        failing = u.breaks_policy(outcome)
        if failing:
            u.failing_total += 1
            if args.verbose or len(u.failing) < R.SHOWN_FAILURES:
                u.failing.append(rec)
        if args.verbose and (u.shown is None or (failing and not u.breaks_policy(u.shown[0].outcome))):
            u.shown = (rec, so, se)
        if u.is_trigger and (u.sample is None or (outcome == MATCHED and u.sample[0].outcome != MATCHED)) \
                and R.runner_html.has_timeline(se):
            u.sample = (rec, se)
        if args.keep is not None and outcome != MATCHED:
            R.keep_stderr(args.keep, u, rec, fin.stderr, fin.dropped)
        if on_run is not None:
            on_run(u, outcome, so, se)
        progress.run_done()
        if u.done == u.runs:
            progress.unit_done(u)
            if args.failfast and u.verdict() == "FAIL":
                state["failfast_hit"] = True
        if args.failfast and failing:
            state["failfast_hit"] = True
        return state["failfast_hit"]

    def jobs() -> Iterable:
        for u in units:
            for k in range(u.runs):
                yield R.Job(u, k, R.derive_seed(master, u.case.id, u.variant, u.mode, k))

    executor = R.Executor(args.jobs, args.timeout, env)
    t0 = time.monotonic()
    try:
        executor.run(jobs(), on_finished)
    finally:
        progress.close()
    return time.monotonic() - t0, executor.interrupted, state["failfast_hit"]


def _write_failures(R, units: Sequence, out, replay) -> None:
    failing_units = [u for u in units if u.done and u.verdict() == "FAIL"]
    if not failing_units:
        return
    out.write("\nfailures:\n")
    for u in failing_units:
        out.write(f"{u.name}: {u.failure_reason()}\n")
        for r in u.failing:
            out.write(f"  run {r.index}: {r.outcome}: {r.reason}\n    replay: {replay(u, r.seed)}\n")
        if u.failing_total > len(u.failing):
            out.write(f"  ... and {u.failing_total - len(u.failing)} more failing runs (-v shows them all; "
                      f"--json has every run, --keep their stderr)\n")


def _write_verbose(units: Sequence, out, replay) -> None:
    for u in units:
        if u.done and u.shown:
            rec, so, se = u.shown
            status = f"exit {rec.status}" if rec.signum is None else _signal_name(rec.signum)
            out.write(f"\n--- {u.name} run {rec.index} seed {rec.seed}: {rec.outcome} ({status}, {rec.ms:.1f} ms)\n")
            out.write(f"$ {replay(u, rec.seed)}\n--- stdout\n{so}")
            out.write(f"{'' if so.endswith(chr(10)) or not so else chr(10)}--- stderr\n{se}")
            out.write("" if se.endswith("\n") or not se else "\n")


def _exit_status(R, interrupted: Optional[int], failed: int) -> int:
    if interrupted is not None:
        return R.EXIT_INTERRUPTED if interrupted == signal.SIGINT else 128 + interrupted
    return R.EXIT_FAILED if failed else R.EXIT_OK


def _check_binaries(R, units: Sequence, no_build: bool) -> None:
    missing = sorted({str(u.binary) for u in units if not os.access(u.binary, os.X_OK)})
    if missing:
        hint = "build them or drop --no-build" if no_build else \
            "the build did not produce them; is every case listed in cases/CMakeLists.txt?"
        raise R.UsageError("missing case executables: " + ", ".join(R.display_path(Path(m)) for m in missing)
                           + f"; {hint}")


# --------------------------------------------------------------------------
# runner.py --sanitizer thread
# --------------------------------------------------------------------------


def main(R, args, root: Path, cases: Sequence, expected_dir: Path) -> int:
    """Entry from runner.py for --sanitizer, --matrix and --matrix-md: check the combination, then run."""
    if args.matrix_md is not None and not args.matrix:
        raise R.UsageError("--matrix-md goes with --matrix")
    if args.list or args.explain:
        raise R.UsageError(f"{'--list' if args.list else '--explain'} cannot be combined with "
                           f"{'--matrix' if args.matrix else '--sanitizer'}")
    if args.matrix:
        for given, name in ((args.sanitizer, "--sanitizer"), (args.variant, "--variant"),
                            (args.shard, "--shard"), (args.junit, "--junit")):
            if given:
                raise R.UsageError(f"--matrix cannot be combined with {name} (it runs the bad variants and "
                                   f"the len control in natural mode, with and without ThreadSanitizer)")
        return run_matrix(R, args, root, cases, expected_dir)
    return run_sanitizer(R, args, root, cases, expected_dir)


def run_sanitizer(R, args, root: Path, cases: Sequence, expected_dir: Path) -> int:
    """runner.py --sanitizer thread: every selected unit under ThreadSanitizer."""
    out, err = sys.stdout, sys.stderr
    build_dir: Path = (args.build_dir or root / TSAN_BUILD_DIR).absolute()
    selected = R.select_cases(cases, args.cases)
    variants = R.parse_variants(args.variant)
    modes = list(R.MODES) if args.mode == "both" else [args.mode]
    units = make_tsan_units(R, selected, variants, modes, args.runs or DEFAULT_TSAN_RUNS, expected_dir, build_dir)
    if not units:
        raise R.UsageError(f"nothing to run: the selected cases have no variant {', '.join(variants or [])}")
    if args.shard:
        i, n = args.shard
        units = [u for k, u in enumerate(units) if k % n == i - 1]
    json_file = R.open_output(args.json, "--json")
    junit_file = R.open_output(args.junit, "--junit")
    html_file = R.open_output(args.html, "--html")
    if args.keep is not None:
        try:
            args.keep.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise R.UsageError(f"cannot create the --keep directory {args.keep}: {e.strerror or e}") from None
    if not args.no_build:
        ensure_tsan_built(R, root, build_dir, args.jobs, err)
    _check_binaries(R, units, args.no_build)

    master = args.seed if args.seed is not None else R.secrets.randbits(32)
    total_runs = sum(u.runs for u in units)
    shard = f", shard {args.shard[0]}/{args.shard[1]}" if args.shard else ""
    out.write(f"ThreadSanitizer ({R.display_path(build_dir)}): {len(units)} units, {total_runs} runs, "
              f"-j {args.jobs}, timeout {args.timeout:g}s{shard}, seed {master} (replay with --seed {master})\n"
              f"triggers and the len control run in natural mode (the forced schedule's hand-over is a "
              f"happens-before edge that hides the race from TSan); TSAN_OPTIONS={TSAN_OPTIONS}\n")
    out.flush()
    wall, interrupted, failfast_hit = _run_units(R, args, units, tsan_env(R), master, out, err)

    def replay(u, seed):
        return tsan_replay_text(R, u, seed)

    shown = [u for u in units if u.done]
    if args.verbose:
        _write_verbose(shown, out, replay)
    _write_failures(R, shown, out, replay)
    out.write("\n" + R.format_table(shown) + "\n")
    total_done = sum(u.done for u in units)
    if total_done:
        out.write(f"\n{total_done} runs in {wall:.1f}s wall, {wall * 1000.0 / total_done:.2f} ms per run\n")
    unfinished = sum(1 for u in units if u.verdict() in ("incomplete", "not run"))
    if interrupted is not None:
        out.write(f"interrupted by {R.signal_name(interrupted)}: {unfinished} of {len(units)} units not finished\n")
    elif failfast_hit and unfinished:
        out.write(f"stopped by --failfast: {unfinished} of {len(units)} units not finished\n")
    passed = sum(1 for u in units if u.verdict() == "pass")
    failed = sum(1 for u in units if u.verdict() == "FAIL")
    out.write(f"{passed} passed, {failed} failed\n")
    out.flush()

    if json_file is not None:
        report = R.json_report(master, units, passed, failed, interrupted is not None)
        report["sanitizer"] = "thread"
        report["tsan_options"] = TSAN_OPTIONS
        by_unit = {(u.case.id, u.variant, u.mode): u for u in units}
        for run in report["runs"]:
            if run["replay"]:
                run["replay"] = replay(by_unit[(run["case"], run["variant"], run["mode"])], run["seed"])
        for s in report["summary"]:
            s["tsan_expectation"] = by_unit[(s["case"], s["variant"], s["mode"])].expect.kind
        with json_file:
            json_file.write(json.dumps(report, indent=1).encode() + b"\n")
    if junit_file is not None:
        with junit_file:
            junit_file.write(R.junit_report(master, units).replace(
                b'name="gomap-catalogue"', b'name="gomap-catalogue-tsan"', 1))
    if html_file is not None:
        with html_file:
            meta = {"sanitizer": "thread", "seed": master, "runs per unit": args.runs or DEFAULT_TSAN_RUNS,
                    "wall": f"{wall:.1f}s", "finished": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
            if interrupted is not None:
                meta["interrupted by"] = R.signal_name(interrupted)
            html_file.write(R.runner_html.render_units(units, root, expected_dir, meta).encode("utf-8"))
    return _exit_status(R, interrupted, failed)


# --------------------------------------------------------------------------
# runner.py --matrix
# --------------------------------------------------------------------------


@dataclass
class MatrixRow:
    case_id: str
    group: str
    go_article: str
    builtin_fired: int = 0
    builtin_runs: int = 0
    tsan_fired: int = 0
    tsan_runs: int = 0

    @staticmethod
    def rate(fired: int, runs: int) -> Optional[float]:
        return fired / runs if runs else None

    @property
    def builtin_rate(self) -> Optional[float]:
        return self.rate(self.builtin_fired, self.builtin_runs)

    @property
    def tsan_rate(self) -> Optional[float]:
        return self.rate(self.tsan_fired, self.tsan_runs)


def builtin_fired(kind: str, outcome: str, stderr: str) -> bool:
    """Whether the built-in detector caught the misuse in a normal (non-TSan) run."""
    if kind == LEN:
        return builtin_report(stderr) is not None
    return outcome == MATCHED


def tsan_fired(stderr: str) -> bool:
    """Whether ThreadSanitizer reported a data race naming both accesses."""
    return parse_tsan(stderr).race_both


def matrix_cases(cases: Sequence) -> List:
    """The cases the matrix covers: every case with a bad variant, and the len control."""
    return [c for c in cases if "bad" in c.variants or c.id == LEN_CONTROL]


def _percent(fired: int, runs: int) -> str:
    """A rate as a percentage that never rounds to 0% or 100% unless it is exactly that."""
    pct = 100.0 * fired / runs
    text = f"{pct:.0f}"
    if (text == "100" and fired != runs) or (text == "0" and fired):
        text = f"{pct:.1f}"
    return text + "%"


def _cell(fired: int, runs: int) -> str:
    if not runs:
        return "not measured"
    return f"{_percent(fired, runs)} ({fired}/{runs})"


def matrix_table(rows: Sequence[MatrixRow]) -> List[Tuple[str, str, str, str]]:
    head = ("case", "built-in detector", "ThreadSanitizer", "real Go (article)")
    body = [(r.case_id, _cell(r.builtin_fired, r.builtin_runs), _cell(r.tsan_fired, r.tsan_runs),
             r.go_article if r.go_article not in ("", "-") else "-") for r in rows]
    return [head] + body


def format_matrix_text(rows: Sequence[MatrixRow]) -> str:
    table = matrix_table(rows)
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in table)


def format_matrix_markdown(rows: Sequence[MatrixRow]) -> str:
    table = matrix_table(rows)
    lines = ["| " + " | ".join(table[0]) + " |", "|---|---:|---:|---:|"]
    lines += ["| " + " | ".join([f"`{r[0]}`"] + list(r[1:])) + " |" for r in table[1:]]
    return "\n".join(lines)


def matrix_for_html(rows: Sequence[MatrixRow]) -> Dict[str, Dict[str, object]]:
    """The rows for runner_html.detection_matrix: each cell as text with its run counts."""
    return {r.case_id: {"builtin_rate": _cell(r.builtin_fired, r.builtin_runs) if r.builtin_runs else None,
                        "tsan_rate": _cell(r.tsan_fired, r.tsan_runs) if r.tsan_runs else None} for r in rows}


def matrix_markdown_page(rows: Sequence[MatrixRow], runs: int, seed: int, when: str, tsan_options: str) -> str:
    return f"""# Detection matrix: the built-in detector and ThreadSanitizer

Per case: how often each tool reports the misuse of the map in **natural
mode** (no forced schedule: the overlap is left to chance, as in a user's
program).

- **built-in detector**: Go's own best-effort check, ported to the core
  (`build/`); a run counts when it ends with the case's expected report
  (for `{LEN_CONTROL}`: when any report appears; it never should).
- **ThreadSanitizer**: the same programs built with the `tsan` preset
  (`build-tsan/`, clang `-fsanitize=thread`); a run counts when TSan prints
  a `data race` report naming both accesses.
- **real Go (article)**: the article's own example run with Go 1.19
  (without `-race`): runs that ended with a fatal error, from
  `cases/manifest.tsv`.

Measured {when} with `python3 runner.py --matrix --runs {runs} --seed {seed}`:
{runs} natural runs per case and tool, on the shared 2-core machine.
`TSAN_OPTIONS="{tsan_options}"`.

{format_matrix_markdown(rows)}

`nil-map-assign` is a panic in a single thread, not a race: only the
built-in check sees it. `{LEN_CONTROL}` is a race that Go's detector cannot
see by design (`len` does not check the write flag): only ThreadSanitizer
reports it. The built-in detector sees a misuse only when the two
operations overlap in time, while one of them holds the write flag.
ThreadSanitizer sees any two map operations that are not ordered by
synchronisation, whether or not they overlapped: under TSan the core reads
or writes one header byte in every map operation, as Go's race build does
(racereadpc/racewritepc), so a reader and a writer that touch different
buckets still race. The price is slower runs
and a special build. Under ThreadSanitizer the triggers run in natural
mode: the forced schedule's hand-over between the two threads is a
happens-before edge for TSan and hides the race.
"""


# Everything from this line on in a --matrix-md file is kept when the file is
# written again (notes and measurements that are not the matrix itself).
MD_KEEP_MARKER = "<!-- written by runner.py --matrix above this line; kept as is below -->"


def write_matrix_md(path: Path, page: str) -> None:
    """Write the generated page, keeping what follows the marker in an existing file."""
    kept = ""
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = ""
    at = old.find(MD_KEEP_MARKER)
    if at >= 0:
        kept = old[at + len(MD_KEEP_MARKER):]
    path.write_text(page.rstrip("\n") + "\n\n" + MD_KEEP_MARKER + (kept if kept else "\n"), encoding="utf-8")


def run_matrix(R, args, root: Path, cases: Sequence, expected_dir: Path) -> int:
    """runner.py --matrix: natural runs of both builds, per case, and the rates side by side."""
    out, err = sys.stdout, sys.stderr
    build_dir: Path = (args.build_dir or root / "build").absolute()
    tsan_dir: Path = (root / TSAN_BUILD_DIR).absolute()
    selected = matrix_cases(R.select_cases(cases, args.cases))
    if not selected:
        raise R.UsageError("nothing to measure: the detection matrix covers cases with a bad variant "
                           f"and {LEN_CONTROL}")
    runs = args.runs or DEFAULT_MATRIX_RUNS
    html_file = R.open_output(args.html, "--html")
    json_file = R.open_output(args.json, "--json")
    if not args.no_build:
        R.ensure_built(root, build_dir, args.jobs, err)
        ensure_tsan_built(R, root, tsan_dir, args.jobs, err)

    builtin_units, tsan_units = [], []
    for u in R.make_units(selected, None, ["natural"], runs, expected_dir, build_dir):
        if u.variant in ("bad", "control"):
            u.expect = R.load_expectation(expected_dir / f"{u.case.id}.{u.variant}.expect")
            builtin_units.append(u)
    for u in make_tsan_units(R, selected, None, ["natural"], runs, expected_dir, tsan_dir):
        if u.variant in ("bad", "control"):
            tsan_units.append(u)
    _check_binaries(R, builtin_units + tsan_units, args.no_build)

    rows: Dict[str, MatrixRow] = {c.id: MatrixRow(c.id, c.group, c.go_article) for c in selected}
    kinds = {u.case.id: expectation_kind(u.case.id, u.variant) for u in builtin_units}

    def on_run(u, outcome, so, se) -> None:
        row = rows[u.case.id]
        if getattr(u, "sanitizer", None) == "thread":
            row.tsan_runs += 1
            row.tsan_fired += tsan_fired(se)
        else:
            row.builtin_runs += 1
            row.builtin_fired += builtin_fired(kinds[u.case.id], outcome, se)

    master = args.seed if args.seed is not None else R.secrets.randbits(32)
    units = builtin_units + tsan_units
    out.write(f"detection matrix: {len(selected)} cases, {runs} natural runs per case and tool "
              f"({R.display_path(build_dir)} and {R.display_path(tsan_dir)}), -j {args.jobs}, "
              f"seed {master} (replay with --seed {master})\n")
    out.flush()
    wall, interrupted, _ = _run_units(R, args, units, tsan_env(R), master, out, err, on_run)
    ordered = [rows[c.id] for c in selected]
    out.write("\n" + format_matrix_text(ordered) + "\n")
    out.write(f"\n{sum(u.done for u in units)} runs in {wall:.1f}s wall\n")
    # The matrix measures rates: its units' verdicts (a natural trigger that
    # never reproduced, a TSan run without a report) are printed for
    # information; the exit status is 0 once every row is measured.
    passed = sum(1 for u in units if u.verdict() == "pass")
    failed = sum(1 for u in units if u.verdict() == "FAIL")
    out.write(f"{passed} passed, {failed} failed\n")
    out.flush()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    if args.matrix_md is not None and interrupted is None:
        try:
            write_matrix_md(args.matrix_md, matrix_markdown_page(ordered, runs, master, when, TSAN_OPTIONS))
        except OSError as e:
            raise R.UsageError(f"cannot write {args.matrix_md}: {e.strerror or e}") from None
        out.write(f"matrix written to {R.display_path(args.matrix_md)}\n")
    if json_file is not None:
        report = {"seed": master, "runs": runs, "measured": when, "tsan_options": TSAN_OPTIONS,
                  "interrupted": interrupted is not None,
                  "matrix": [{"case": r.case_id, "builtin_fired": r.builtin_fired, "builtin_runs": r.builtin_runs,
                              "tsan_fired": r.tsan_fired, "tsan_runs": r.tsan_runs} for r in ordered]}
        with json_file:
            json_file.write(json.dumps(report, indent=1).encode() + b"\n")
    if html_file is not None:
        with html_file:
            meta = {"detection matrix": f"{runs} natural runs per case and tool", "seed": master,
                    "wall": f"{wall:.1f}s", "finished": when}
            html_file.write(R.runner_html.render_units(builtin_units, root, expected_dir, meta,
                                                       matrix=matrix_for_html(ordered)).encode("utf-8"))
    if interrupted is not None:
        return _exit_status(R, interrupted, 0)
    return R.EXIT_OK if all(r.builtin_runs and r.tsan_runs for r in ordered) else R.EXIT_FAILED
