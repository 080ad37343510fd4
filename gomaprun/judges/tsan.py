"""The ThreadSanitizer judge (runner.py --sanitizer thread).

Its runs use the CMake preset `tsan` (clang -fsanitize=thread, build dir
build-tsan/) with TSAN_OPTIONS below. Each run is judged by what
ThreadSanitizer printed, by one of four expectations:

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

builtin_fired and tsan_fired say whether each tool caught the misuse in one
run; the detection matrix (runner.py --matrix) counts them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from ..base import (BAD, DEFAULT_GENERATION, DEFAULT_RUNS, MATCHED, NATURAL, NOT_REPRODUCED, TIMEOUT, WRONG,
                    signal_name)
from ..build import TSAN
from ..catalogue.command import run_environment
from ..catalogue.expect import expect_path, load_expectation
from . import Judge, register

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
DEFAULT_TSAN_RUNS = DEFAULT_RUNS["tsan"]


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


def expectation_kind(case, variant: str, bad_first_line: Optional[str] = None) -> str:
    """Which TSan expectation a case's variant has.

    A case with the unchecked-race trait (cases/manifest.tsv) is the len
    control. `bad_first_line` is the first line the bad variant's expected
    file names; a panic there (nil-map assignment) is no race.
    """
    if case.unchecked_race:
        return LEN
    if variant == BAD:
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
        return WRONG, f"killed by {signal_name(signum)}"
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


# --------------------------------------------------------------------------
# The judge
# --------------------------------------------------------------------------


class TsanExpectation:
    """What a run under ThreadSanitizer must show: one of the four kinds."""

    def __init__(self, kind: str, panic_line: Optional[str] = None):
        self.kind = kind
        self.panic_line = panic_line

    def summary(self) -> str:
        return KIND_SUMMARY[self.kind]


POLICIES = {TRIGGER: "every run reported by TSan (both accesses)",
            LEN: "every run reported by TSan, detector silent",
            NIL_PANIC: "every run panics with no TSan report",
            RACE_FREE: "every run clean, no TSan report"}


def tsan_env(environ: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """The environment of a run under ThreadSanitizer.

    The map's flight recorder (GOMAP_TIMELINE) is off unless the runner's
    own environment sets it: the recorder is the runner's diagnostic, not
    part of a case, and its lazily allocated ring is read by other threads
    through a relaxed load of its pointer, which TSan reports as a race in
    fixed variants whose threads share a map without otherwise ordering the
    ring's first use (measured: 3.3 fixed, 77 of 100 forced runs).
    """
    environ = os.environ if environ is None else environ
    env = run_environment(environ, {})
    extra = env.get("TSAN_OPTIONS", "").strip()
    # The runner's options come last, so they win over inherited ones.
    env["TSAN_OPTIONS"] = (extra + " " + TSAN_OPTIONS).strip() if extra else TSAN_OPTIONS
    return env


class TsanJudge(Judge):
    """Runs of the tsan build judged by ThreadSanitizer's reports."""

    name = "thread"
    preset = TSAN
    suite = "gomap-catalogue-tsan"
    title = "ThreadSanitizer"
    note = ("triggers and the len control run in natural mode (the forced schedule's hand-over is a "
            f"happens-before edge that hides the race from TSan); TSAN_OPTIONS={TSAN_OPTIONS}")

    def expectation(self, case, variant: str, expected_dir, generation: str = DEFAULT_GENERATION) -> TsanExpectation:
        bad_first = None
        if variant == BAD:
            bad_first = load_expectation(expect_path(expected_dir, case.id, BAD), generation).first_line
        kind = expectation_kind(case, variant, bad_first)
        return TsanExpectation(kind, bad_first if kind == NIL_PANIC else None)

    def modes(self, case, variant: str, expect, modes: Sequence[str]) -> List[str]:
        return [NATURAL] if expect.kind in (TRIGGER, LEN) else list(modes)

    def default_runs(self, mode: str) -> int:
        return DEFAULT_TSAN_RUNS

    def classify(self, expect, mode, status, signum, stdout, stderr, timed_out=False):
        return classify_tsan(expect.kind, status, signum, stdout, stderr, timed_out, expect.panic_line)

    def policy(self, variant: str, mode: str, expect) -> str:
        return POLICIES[expect.kind]

    def environment(self, environ: Mapping[str, str]) -> Dict[str, str]:
        return tsan_env(environ)

    def replay_assignments(self, environ: Mapping[str, str]) -> Dict[str, str]:
        shown = {"GOMAP_TIMELINE": "1"} if "GOMAP_TIMELINE" in environ else {}
        shown["TSAN_OPTIONS"] = TSAN_OPTIONS
        return shown

    def report_fields(self) -> Dict[str, object]:
        return {"sanitizer": "thread", "tsan_options": TSAN_OPTIONS}

    def unit_fields(self, expect) -> Dict[str, object]:
        return {"tsan_expectation": expect.kind}


THREAD = TsanJudge()


# --------------------------------------------------------------------------
# Which tool caught the misuse (the detection matrix)
# --------------------------------------------------------------------------


def builtin_fired(kind: str, outcome: str, stderr: str) -> bool:
    """Whether the built-in detector caught the misuse in a normal (non-TSan) run."""
    if kind == LEN:
        return builtin_report(stderr) is not None
    return outcome == MATCHED


def tsan_fired(stderr: str) -> bool:
    """Whether ThreadSanitizer reported a data race naming both accesses."""
    return parse_tsan(stderr).race_both

register(THREAD.name, lambda **_: THREAD)
