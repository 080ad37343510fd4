"""The explore judge: one exploration of every ordering of a case variant
up to a preemption bound (runner.py --mode explore; docs/explore.md).

A unit is one exploration: a single process (`<id> --variant V --mode
explore --bound N`) that runs every schedule itself and prints one JSON
summary line on stdout (its fields: harness/harness.h). The judge reads
that line and decides the unit:

    trigger (bad)     at least one schedule ends with the expected
                      signature (the expected file's first-line, or a
                      natural-also line, or a line a natural-also-match
                      accepts) and no schedule ends in anything else; clean
                      schedules are allowed: they are the orderings the
                      detector cannot see (blind spots among them)
    fixed, control    no schedule reports anything or ends otherwise, and
                      no schedule overlaps (two map operations at once, one
                      of them a write): a bounded proof that the fix removes
                      every overlap
    len control       control-len-while-writing: len overlaps writes and is
                      never reported, which is what the control shows; its
                      overlaps are allowed, a report is not

Whatever the variant, the space must be exhausted (a cap that stopped the
exploration fails the unit, saying so), and an explorer that exits non-zero
fails it. For each trigger the run loop then replays the shortest detecting
schedule and the blind-spot example (`--schedule S`, GOMAP_TIMELINE=1) for
their lane charts; check_example says whether a replay ended as the summary
says (detecting: an expected signature; blind spot: clean).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from ..base import MATCHED, NOT_REPRODUCED, TIMEOUT, WRONG, clip, signal_name
from ..catalogue.command import EXPLORE, run_environment
from ..catalogue.expect import Expectation, expect_path, load_expectation
from . import Judge
from .signature import REPORT_RE

DEFAULT_BOUND = 2
# The one control whose overlaps are the point: len never checks the flag.
OVERLAPS_ALLOWED = ("control-len-while-writing",)
CLEAN_END = "clean"
# The examples a trigger's exploration names, replayed for their lane charts.
DETECTING = "detecting"
BLIND_SPOT = "blind spot"
EXAMPLE_FIELDS = ((DETECTING, "shortest_detecting"), (BLIND_SPOT, "blind_spot_example"))
# The summary fields a report needs (harness/harness.h has them all).
NEEDED = ("schedules", "exhausted", "ends", "clean", "reported", "overlapping", "blind_spots", "other",
          "max_schedules")


@dataclass
class ExploreExpectation:
    """What an exploration of one case variant must show."""

    case_id: str
    variant: str
    file: Expectation

    @property
    def is_trigger(self) -> bool:
        return self.file.exit == 2

    @property
    def overlaps_allowed(self) -> bool:
        return not self.is_trigger and self.case_id in OVERLAPS_ALLOWED

    def signature(self, end: str) -> bool:
        """Whether an exploration's end is one of this trigger's signatures."""
        f = self.file
        return self.is_trigger and (end == f.first_line or end in f.natural_also
                                    or any(p.regex.fullmatch(end) for p in f.natural_also_match))

    def summary(self) -> str:
        if self.is_trigger:
            more = len(self.file.natural_also) + len(self.file.natural_also_match)
            return (self.file.first_line or "") + (f" (or {more} more)" if more else "")
        return "no report" + (", overlaps allowed" if self.overlaps_allowed else ", no overlap")


def parse_summary(stdout: str) -> Optional[dict]:
    """The exploration's summary: the last line of stdout that is a JSON
    object with the fields the reports need; None when there is none."""
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            data = json.loads(line)
        except ValueError:
            return None
        if isinstance(data, dict) and all(k in data for k in NEEDED) and isinstance(data["ends"], dict):
            return data
        return None
    return None


def detected(expect: ExploreExpectation, summary: Mapping) -> int:
    """Schedules that ended with one of the expected signatures."""
    return sum(int(n) for end, n in summary["ends"].items() if expect.signature(end))


def unexpected_ends(expect: ExploreExpectation, summary: Mapping) -> List[Tuple[str, int]]:
    """(end, count) of every end the policy does not accept, in the summary's order."""
    out = []
    for end, n in summary["ends"].items():
        if end == CLEAN_END or expect.signature(end):
            continue
        out.append((end, int(n)))
    return out


def _example_of(summary: Mapping, end: str) -> str:
    for o in summary.get("other_ends") or ():
        if isinstance(o, dict) and o.get("end") == end and o.get("example"):
            return f", e.g. --schedule {o['example']}"
    return ""


def classify_exploration(expect: ExploreExpectation, status: Optional[int], signum: Optional[int], stdout: str,
                         stderr: str, timed_out: bool = False) -> Tuple[str, str]:
    """One exploration's (outcome, reason); the reason is empty when it met its policy."""
    if timed_out:
        return TIMEOUT, "the exploration did not finish in time"
    if signum is not None:
        return WRONG, f"the explorer was killed by {signal_name(signum)}"
    first = stderr.split("\n", 1)[0]
    if status != 0:
        return WRONG, f"the explorer failed: exit status {status}" + (f": {clip(first)!r}" if first else "")
    s = parse_summary(stdout)
    if s is None:
        return WRONG, "the explorer printed no summary line"
    n = s["schedules"]
    if not s["exhausted"]:
        cut = s.get("cut_short") or 0
        if cut:
            return WRONG, (f"not exhausted: a limit (the 20 s timeout, the step limit or too many choice points) "
                           f"cut {cut} of {n} schedules short, hiding the orderings after the cut")
        return WRONG, (f"not exhausted: the cap of {s['max_schedules']} schedules stopped the exploration "
                       f"after {n} schedules (the bound's space is larger)")
    bad = unexpected_ends(expect, s)
    if bad:
        shown = "; ".join(f"{n_end} x {clip(end)!r}{_example_of(s, end)}" for end, n_end in bad)
        what = "ended otherwise" if expect.is_trigger else "reported or ended otherwise"
        return WRONG, f"{sum(c for _, c in bad)} of {n} schedules {what}: {shown}"
    if expect.is_trigger:
        if detected(expect, s) == 0:
            return NOT_REPRODUCED, f"none of {n} schedules ended with the expected signature"
        return MATCHED, ""
    if s["overlapping"] and not expect.overlaps_allowed:
        example = s.get("blind_spot_example")
        return WRONG, (f"{s['overlapping']} of {n} schedules overlap two map operations, one a write"
                       + (f", e.g. --schedule {example}" if example else ""))
    return MATCHED, ""


def check_example(expect: ExploreExpectation, kind: str, status: Optional[int], signum: Optional[int],
                  stderr: str, timed_out: bool = False) -> Tuple[bool, str]:
    """Whether a replayed example ended as its exploration said: (ok, why not)."""
    if timed_out:
        return False, "the replay did not finish in time"
    if signum is not None:
        return False, f"the replay was killed by {signal_name(signum)}"
    first = stderr.split("\n", 1)[0]
    if kind == DETECTING:
        if status == 2 and expect.signature(first):
            return True, ""
        return False, f"the replay ended with exit status {status}, first line {clip(first)!r}, not a signature"
    if status == 0 and not REPORT_RE.search(stderr):
        return True, ""
    return False, f"the replay ended with exit status {status}, first line {clip(first)!r}, not clean"


class ExploreJudge(Judge):
    """Explorations of every ordering up to a preemption bound, one per unit."""

    name = "explore"
    suite = "gomap-catalogue-explore"
    title = ""
    # Every unit is one exploration; its seeds are the explorer's own.
    DEFAULT_RUNS = 1

    def __init__(self, bound: int = DEFAULT_BOUND):
        self.bound = bound
        self.note = (f"explore mode, preemption bound {bound}: every ordering of each variant's scheduling "
                     "points, one exploration per unit")

    def expectation(self, case, variant: str, expected_dir) -> ExploreExpectation:
        return ExploreExpectation(case.id, variant, load_expectation(expect_path(expected_dir, case.id, variant)))

    def modes(self, case, variant: str, expect, modes: Sequence[str]) -> List[str]:
        return [EXPLORE]

    def default_runs(self, mode: str) -> int:
        return self.DEFAULT_RUNS

    def classify(self, expect, mode, status, signum, stdout, stderr, timed_out=False):
        return classify_exploration(expect, status, signum, stdout, stderr, timed_out)

    def policy(self, variant: str, mode: str, expect) -> str:
        if expect.is_trigger:
            return ("at least one schedule ends with the expected signature, none ends otherwise "
                    "(clean schedules allowed); the space exhausted")
        if expect.overlaps_allowed:
            return ("no schedule reports anything (len overlaps writes and is never reported: "
                    "overlaps allowed); the space exhausted")
        return "no schedule reports anything and none overlaps; the space exhausted"

    def run_details(self, stdout: str) -> Optional[dict]:
        return parse_summary(stdout)

    def examples(self, expect, details: Optional[Mapping]) -> List[Tuple[str, str]]:
        if details is None or not expect.is_trigger:
            return []
        return [(kind, details[key]) for kind, key in EXAMPLE_FIELDS if details.get(key)]

    def check_example(self, expect, kind: str, status, signum, stderr: str, timed_out: bool = False):
        return check_example(expect, kind, status, signum, stderr, timed_out)

    def replay_assignments(self, environ: Mapping[str, str]) -> Dict[str, str]:
        return {}

    def environment(self, environ: Mapping[str, str]) -> Dict[str, str]:
        return run_environment(environ, {})

    def example_assignments(self) -> Dict[str, str]:
        return {"GOMAP_TIMELINE": "1"}

    def report_fields(self) -> Dict[str, object]:
        return {"bound": self.bound}

    def unit_fields(self, expect) -> Dict[str, object]:
        return {}
