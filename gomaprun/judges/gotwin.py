"""The Go twin judge: a case's Go twin (cases/<id>.go) against the case's expected file.

A twin is the same program in real Go (cases/go.md). Go's runtime has no
hooks, so a twin runs in natural mode only. Its runs are judged by the same
expected file as the C case, on what both programs share:

    exit: 2    exit status 2 and the first stderr line (`first-line`, or a
               `natural-also` line, or a line `natural-also-match` accepts);
               then every `go-contains` pattern must match some stderr line
               (Go's own traceback: `goroutine N [running]:`, the faulting
               function). `go-natural-also-match` adds first lines only a
               twin can end with: Go's map code faulting on a table racing
               writers broke (a nil dereference; Go's default traceback
               hides the runtime's frames, so the twin's own frame, which
               go-contains requires, is what names the map access). An exit
               0 without a report is "not reproduced".
    exit: 0    exit status 0, no `fatal error`/`panic:` on stderr, and the
               `stdout` line (DONE).

The C report's body lines (`contains`, `absent`) describe the C core's
report and do not apply to Go's traceback.

Unseen corruption, Go's way: a test twin (4.4) whose own check failed prints
`--- FAIL: <Test>/<sub>` on stdout and exits 1, with no report on stderr,
as `go test` does; that run is counted as unseen corruption, like the C
case's exit 70.

Policies are the signature judge's natural ones: a trigger needs at least
one match and no wrong signature or timeout; a fixed variant or a control
needs every run clean.
"""

from __future__ import annotations

import re
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from ..base import DEFAULT_RUNS, FORCED, NATURAL, MATCHED, TIMEOUT, UNSEEN_CORRUPTION, WRONG, clip, signal_name
from ..catalogue.command import run_environment
from ..catalogue.expect import Expectation
from . import register
from .signature import REPORT_RE, SignatureJudge, clean_end, report_status, wrong_first_line

# A failed check of a Go test: `go test`'s line on stdout, and its exit status.
GO_TEST_FAIL_PREFIX = "--- FAIL: "
GO_TEST_FAIL_EXIT = 1
GO_MODE = NATURAL


def _lines(text: str) -> List[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


def classify_go(exp: Expectation, status: Optional[int], signum: Optional[int], stdout: str, stderr: str,
                timed_out: bool = False) -> Tuple[str, str]:
    """Classify one finished run of a Go twin; return (outcome, reason), reason empty on a match."""
    if timed_out:
        return TIMEOUT, "did not finish in time"
    if signum is not None:
        return WRONG, f"killed by {signal_name(signum)}, expected exit status {exp.exit}"
    err_lines = _lines(stderr)
    report = REPORT_RE.search(stderr)
    first = err_lines[0] if err_lines else ""
    if not report and status == GO_TEST_FAIL_EXIT:
        failed = next((line for line in _lines(stdout) if line.startswith(GO_TEST_FAIL_PREFIX)), None)
        if failed is not None:
            return UNSEEN_CORRUPTION, f"the test's own check failed, no runtime report: {clip(failed)!r}"
    if exp.exit == 2:
        wrong_status = report_status(status, bool(report))
        if wrong_status:
            return wrong_status
        accepted = [exp.first_line] + list(exp.natural_also)
        if first not in accepted and not any(p.regex.fullmatch(first) for p in exp.natural_also_match):
            if not any(p.regex.fullmatch(first) for p in exp.go_natural_also_match):
                alternatives = (len(accepted) - 1 + len(exp.natural_also_match)
                                + len(exp.go_natural_also_match))
                return wrong_first_line(first, exp, alternatives)
        for pat in exp.go_contains:
            if not any(pat.regex.search(line) for line in err_lines):
                return WRONG, f"no stderr line matches go-contains /{pat.text}/"
        return MATCHED, ""
    return clean_end(exp, status, bool(report), err_lines, stdout) or (MATCHED, "")


class GoTwinJudge(SignatureJudge):
    """Runs of the Go twins (<build>/go/cases/<id>), judged by exit status and first line."""

    name = "go-twin"
    suite = "gomap-catalogue-go"
    title = "Go twins"
    program = "Go"
    note = ("each case's Go twin, natural mode only (Go has no forced mode), judged by the case's "
            "expected exit status and first line, and its go-contains lines")
    DEFAULT_RUNS = {NATURAL: DEFAULT_RUNS[NATURAL], FORCED: DEFAULT_RUNS[NATURAL]}

    def modes(self, case, variant: str, expect, modes: Sequence[str]) -> List[str]:
        return [GO_MODE]

    def classify(self, expect, mode, status, signum, stdout, stderr, timed_out=False):
        return classify_go(expect, status, signum, stdout, stderr, timed_out)

    def policy(self, variant: str, mode: str, expect) -> str:
        return super().policy(variant, GO_MODE, expect)

    def breaks_policy(self, variant: str, mode: str, expect, outcome: str) -> bool:
        return super().breaks_policy(variant, GO_MODE, expect, outcome)

    def needs_a_match(self, variant: str, mode: str, expect) -> bool:
        return super().needs_a_match(variant, GO_MODE, expect)

    def replay_assignments(self, environ: Mapping[str, str]) -> Dict[str, str]:
        return {}

    def environment(self, environ: Mapping[str, str]) -> Dict[str, str]:
        # GOTRACEBACK is dropped, as for the C cases: the default traceback is the one judged.
        return run_environment(environ, {})

    def report_fields(self) -> Dict[str, object]:
        return {"program": "go-twin"}


GO_TWIN = GoTwinJudge()

register(GO_TWIN.name, lambda **_: GO_TWIN)
