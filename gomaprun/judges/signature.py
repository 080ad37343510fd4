"""The signature judge: a run against its expected file (expected/FORMAT.md).

The default judge. A run gets GOMAP_TIMELINE=1 (the core's flight
recorder) and no GOTRACEBACK, and is classified by classify() below, a pure
function of the finished run and its expectation. Policies:

    forced trigger  (bad, forced)   every run matches
    natural trigger (bad, natural)  at least one run matches, and no run has
                                    a wrong signature or times out (runs
                                    not reproduced and runs with unseen
                                    corruption are accepted, and counted)
    fixed, control  (any mode)      every run is clean (matches its exit-0
                                    expectation)
"""

from __future__ import annotations

import re
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from ..base import (BAD, DEFAULT_GENERATION, DEFAULT_RUNS, FORCED, MATCHED, NATURAL, NOT_REPRODUCED, TIMEOUT,
                    UNSEEN_CORRUPTION, WRONG, clip, signal_name)
from ..catalogue.expect import Expectation, expect_path, load_expectation
from ..catalogue.command import run_environment
from . import Judge, register

# Any trace of the detector or of a nil-map panic in a run's stderr.
REPORT_RE = re.compile(r"fatal error|panic:")

# The program's own check failed: the harness ends such a program through
# hz_die, which prefixes its message with "harness: " and exits 70, and a
# failed check of a test (harness/testmain.c) is Go's "--- FAIL: Test/sub"
# line. Both are documented in expected/FORMAT.md.
CHECK_FAILED_PREFIX = "harness: --- FAIL: "
CHECK_FAILED_EXIT = 70

_HEX_RE = re.compile(r"0x[0-9a-fA-F]+")
_THREAD_RE = re.compile(r"thread \d+")
_LINE_RE = re.compile(r"(\S):\d+((?: \+0xADDR)?)$")


def normalise(line: str) -> str:
    """Replace the values that change from run to run with fixed words.

    Addresses become 0xADDR, thread numbers `thread N`, and the line number
    of a trailing `file:line` (optionally followed by ` +0xADDR`) becomes LINE.
    """
    line = _HEX_RE.sub("0xADDR", line)
    line = _THREAD_RE.sub("thread N", line)
    return _LINE_RE.sub(r"\1:LINE\2", line)


def _lines(text: str) -> List[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def check_failed(status: Optional[int], stderr_lines: Sequence[str]) -> bool:
    """Whether a run ended because the program's own check failed (see CHECK_FAILED_PREFIX)."""
    return status == CHECK_FAILED_EXIT and bool(stderr_lines) and stderr_lines[0].startswith(CHECK_FAILED_PREFIX)


def classify(
    exp: Expectation,
    mode: str,
    status: Optional[int],
    signum: Optional[int],
    stdout: str,
    stderr: str,
    timed_out: bool = False,
) -> Tuple[str, str]:
    """Classify one finished run; return (outcome, reason).

    `status` is the exit status, or None when the run was killed by the
    signal `signum`. The reason is empty for a match.
    """
    if timed_out:
        return TIMEOUT, "did not finish in time"
    if signum is not None:
        return WRONG, f"killed by {signal_name(signum)}, expected exit status {exp.exit}"
    err_lines = _lines(stderr)
    report = REPORT_RE.search(stderr)
    if not report and check_failed(status, err_lines):
        return UNSEEN_CORRUPTION, f"the program's own check failed, no detector report: {clip(err_lines[0])!r}"
    norm: Optional[List[str]] = None
    if exp.absent or exp.contains:
        norm = [normalise(line) for line in err_lines]
    for pat in exp.absent:
        for line in norm or ():
            if pat.regex.search(line):
                return WRONG, f"stderr has a line matching absent /{pat.text}/: {clip(line)!r}"
    if exp.exit == 2:
        wrong_status = report_status(status, bool(report))
        if wrong_status:
            return wrong_status
        first = err_lines[0] if err_lines else ""
        accepted = [exp.first_line]
        if mode == NATURAL:
            accepted += exp.natural_also
        if first not in accepted:
            # A report of a structure broken by racing writers varies with
            # what broke; its content is not the case's signature, so only
            # `absent` applies to it.
            if mode == NATURAL and any(p.regex.fullmatch(first) for p in exp.natural_also_match):
                return MATCHED, ""
            alternatives = len(accepted) - 1 + (len(exp.natural_also_match) if mode == NATURAL else 0)
            return wrong_first_line(first, exp, alternatives)
    else:
        unclean = clean_end(exp, status, bool(report), err_lines, stdout)
        if unclean:
            return unclean
    for pat in exp.contains:
        if not any(pat.regex.search(line) for line in norm or ()):
            return WRONG, f"no stderr line matches /{pat.text}/"
    return MATCHED, ""


def report_status(status: Optional[int], report: bool) -> Optional[Tuple[str, str]]:
    """For a trigger (exit: 2): the outcome when the exit status alone
    decides it (a clean exit without a report, another status), else None.
    The Go twin judge shares it."""
    if status == 0 and not report:
        return NOT_REPRODUCED, "exited 0 without a report"
    if status != 2:
        extra = " after printing a report" if report else ""
        return WRONG, f"exit status {status}, expected 2{extra}"
    return None


def wrong_first_line(first: str, exp: Expectation, alternatives: int) -> Tuple[str, str]:
    """A trigger's run that ended with another first line: what was seen and
    what was expected (with the number of accepted alternatives). The Go
    twin judge shares it."""
    also = (f" (or one of its {alternatives} alternatives)" if alternatives > 1
            else " (or its alternative)" if alternatives == 1 else "")
    return WRONG, f"first line {clip(first)!r}, expected {clip(exp.first_line or '')!r}{also}"


def clean_end(exp: Expectation, status: Optional[int], report: bool, err_lines: Sequence[str],
              stdout: str) -> Optional[Tuple[str, str]]:
    """For a race-free run (exit: 0): why it did not end clean (status, a
    report line on stderr, the missing stdout line), else None. The Go twin
    judge shares it."""
    if status != 0:
        first = f"; first line {clip(err_lines[0])!r}" if err_lines else ""
        return WRONG, f"exit status {status}, expected 0{first}"
    if report:
        return WRONG, f"stderr has a report line: {clip(_first_report_line(err_lines))!r}"
    if exp.stdout is not None and exp.stdout not in _lines(stdout):
        return WRONG, f"no line {exp.stdout!r} on stdout"
    return None


def _first_report_line(lines: Sequence[str]) -> str:
    for line in lines:
        if REPORT_RE.search(line):
            return line
    return ""


class SignatureJudge(Judge):
    """Runs judged by their expected files; the runner's default."""

    name = "signature"
    # Runs per unit when --runs is not given (base.DEFAULT_RUNS).
    DEFAULT_RUNS = {FORCED: DEFAULT_RUNS[FORCED], NATURAL: DEFAULT_RUNS[NATURAL]}

    def expectation(self, case, variant: str, expected_dir, generation: str = DEFAULT_GENERATION) -> Expectation:
        return load_expectation(expect_path(expected_dir, case.id, variant), generation)

    def default_runs(self, mode: str) -> int:
        return self.DEFAULT_RUNS[mode]

    def classify(self, expect, mode, status, signum, stdout, stderr, timed_out=False):
        return classify(expect, mode, status, signum, stdout, stderr, timed_out)

    def policy(self, variant: str, mode: str, expect) -> str:
        if variant != BAD:
            return "every run clean"
        if mode == FORCED:
            return "every run matches"
        return "at least one match, no wrong signature or timeout"

    def breaks_policy(self, variant: str, mode: str, expect, outcome: str) -> bool:
        if variant == BAD and mode == NATURAL:
            return outcome in (WRONG, TIMEOUT)
        return outcome != MATCHED

    def needs_a_match(self, variant: str, mode: str, expect) -> bool:
        return variant == BAD and mode == NATURAL

    def replay_assignments(self, environ: Mapping[str, str]) -> Dict[str, str]:
        return {"GOMAP_TIMELINE": "1"}

    def environment(self, environ: Mapping[str, str]) -> Dict[str, str]:
        return run_environment(environ, self.replay_assignments(environ))


SIGNATURE = SignatureJudge()

register(SIGNATURE.name, lambda **_: SIGNATURE)
