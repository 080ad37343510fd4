"""Units, their records, policies and verdicts; the seed of each run."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from ..base import BAD, DEFAULT_GENERATION, FAIL, FORCED, INCOMPLETE, MATCHED, NOT_RUN, OUTCOMES, PASS, SKIPPED
from ..catalogue.command import case_argv, case_binary, command_text
from ..catalogue.manifest import Case
from ..judges import Judge
from ..judges.signature import SIGNATURE


def derive_seed(master: int, case: str, variant: str, mode: str, index: int,
                generation: str = DEFAULT_GENERATION) -> int:
    """The seed of one run: a fixed function of the master seed and the run's
    place (the default map generation's seeds are those of the runs made
    before generations had names)."""
    place = f"{master}\0{case}\0{variant}\0{mode}\0{index}"
    if generation != DEFAULT_GENERATION:
        place += f"\0{generation}"
    key = place.encode()
    digest = hashlib.blake2b(key, digest_size=8).digest()
    # Kept below 2**63 so that no parser can mistake it for a negative number.
    return int.from_bytes(digest, "little") & ((1 << 63) - 1)


@dataclass
class RunRecord:
    index: int
    seed: int
    outcome: str
    reason: str
    status: Optional[int]
    signum: Optional[int]
    first_line: str
    ms: float


@dataclass
class Example:
    """One ordering of an exploration, replayed for its lane chart: what kind
    it is ("detecting", "blind spot"), its schedule string, how the replay
    ended, its stderr (with the map timeline), and whether that agrees with
    the exploration's summary."""

    kind: str
    schedule: str
    status: Optional[int]
    signum: Optional[int]
    first_line: str
    stderr: str
    ok: bool
    problem: str = ""


@dataclass
class Unit:
    """One case variant in one mode, under one judge, and what its runs did."""

    case: Case
    variant: str
    mode: str
    expect: object  # what the judge expects of a run; has summary()
    runs: int
    binary: Path
    judge: Judge = SIGNATURE
    # The core's map generation the binary holds (a Go twin's: its Go's map).
    generation: str = DEFAULT_GENERATION
    counts: Dict[str, int] = field(default_factory=lambda: {o: 0 for o in OUTCOMES})
    times: List[float] = field(default_factory=list)
    records: List[RunRecord] = field(default_factory=list)
    failing: List[RunRecord] = field(default_factory=list)
    failing_total: int = 0
    # For -v: the captured output of one run (a failing one when there is one).
    shown: Optional[Tuple[RunRecord, str, str]] = None
    # For the HTML timeline: the stderr of one bad run that printed the map's
    # timeline (a matched one when there is one); at most CAPTURE_LIMIT bytes.
    sample: Optional[Tuple[RunRecord, str]] = None
    # Why the unit cannot run here (e.g. "needs Go 1.21"); None when it can.
    # A skipped unit starts no run and is never counted as passed.
    skipped: Optional[str] = None
    # What a run printed that the judge keeps whole (an exploration's
    # summary), and the orderings replayed for their lane charts.
    explored: Optional[dict] = None
    examples: List[Example] = field(default_factory=list)

    @property
    def name(self) -> str:
        """`2.1-read-write-pair bad forced`; `(Go)` for a Go twin, `[swiss]` for another generation than the default."""
        program = self.judge.program
        return (f"{self.case.id} {self.variant} {self.mode}" + (f" ({program})" if program else "")
                + (f" [{self.generation}]" if self.generation != DEFAULT_GENERATION else ""))

    @property
    def key(self) -> Tuple[str, str, str, str]:
        """What tells the units of a run apart: (case, variant, mode, generation)."""
        return (self.case.id, self.variant, self.mode, self.generation)

    def run_seed(self, master: int, index: int) -> int:
        """The seed of this unit's run `index` under the master seed (derive_seed)."""
        return derive_seed(master, self.case.id, self.variant, self.mode, index, self.generation)

    @property
    def is_trigger(self) -> bool:
        return self.variant == BAD

    @property
    def policy(self) -> str:
        return self.judge.policy(self.variant, self.mode, self.expect)

    @property
    def done(self) -> int:
        return len(self.times)

    def add_record(self, rec: RunRecord, shown_failures: Optional[int]) -> bool:
        """Count one judged run in this unit; whether it breaks the policy.

        Failing runs are kept (with their replay commands) up to
        `shown_failures`, all of them when it is None. The run loop records
        every finished run through here, and so does a merge of shard reports.
        """
        self.records.append(rec)
        self.counts[rec.outcome] += 1
        self.times.append(rec.ms)
        failing = self.breaks_policy(rec.outcome)
        if failing:
            self.failing_total += 1
            # The failing runs with the lowest indexes, whatever order they
            # finished in: the reports (the first one names the unit's
            # reason) are then a function of the seed, and a merge of shard
            # reports says what one run would have said.
            self.failing.append(rec)
            self.failing.sort(key=lambda r: r.index)
            if shown_failures is not None:
                del self.failing[shown_failures:]
        return failing

    def breaks_policy(self, outcome: str) -> bool:
        """Whether a single run with this outcome already fails the unit."""
        return self.judge.breaks_policy(self.variant, self.mode, self.expect, outcome)

    def verdict(self) -> str:
        """'pass', 'FAIL', 'incomplete' (cut short, nothing wrong yet), 'not run' or 'skipped'."""
        if self.skipped is not None:
            return SKIPPED
        if self.failing_total or any(not e.ok for e in self.examples):
            return FAIL
        if self.done < self.runs:
            return INCOMPLETE if self.done else NOT_RUN
        if self.counts[MATCHED] == 0 and self.judge.needs_a_match(self.variant, self.mode, self.expect):
            return FAIL
        return PASS

    def failure_reason(self) -> str:
        if self.skipped is not None:
            return ""
        if self.failing:
            first = self.failing[0]
            return (f"{self.failing_total} of {self.done} runs broke the policy ({self.policy}); "
                    f"first: {first.outcome}: {first.reason}")
        wrong = [e for e in self.examples if not e.ok]
        if wrong:
            return "; ".join(f"the {e.kind} schedule {e.schedule}, replayed: {e.problem}" for e in wrong)
        if self.verdict() == FAIL:
            return f"never reproduced in {self.done} natural runs"
        return ""

    def classify(self, status: Optional[int], signum: Optional[int], stdout: str, stderr: str,
                 timed_out: bool = False) -> Tuple[str, str]:
        """A finished run of this unit, judged by the unit's judge."""
        return self.judge.classify(self.expect, self.mode, status, signum, stdout, stderr, timed_out)

    def argv(self, seed: int, schedule: Optional[str] = None) -> List[str]:
        """A run's argument vector; with `schedule`, the replay of that ordering."""
        return self.judge.argv(self.binary, self.variant, self.mode, seed, schedule)

    def example_text(self, schedule: str) -> str:
        """The command that replays one ordering of an exploration with its timeline."""
        return command_text(self.argv(0, schedule), self.judge.example_assignments())

    def replay_text(self, seed: int) -> str:
        """The command that repeats one run of this unit."""
        return command_text(self.argv(seed), self.judge.replay_assignments(os.environ))


def make_units(cases: Sequence[Case], variants: Optional[Sequence[str]], modes: Sequence[str],
               runs: Optional[int], expected_dir: Path, build_dir: Path, judge: Judge = SIGNATURE,
               generation: str = DEFAULT_GENERATION) -> List[Unit]:
    """Every unit of the selected cases, variants and modes, in catalogue order,
    each with the judge's expectation for the map `generation` (UsageError for
    a missing or malformed one); `build_dir` holds that generation's build."""
    units = []
    for c in cases:
        for v in c.variants:
            if variants is not None and v not in variants:
                continue
            exp = judge.expectation(c, v, expected_dir, generation)
            for m in judge.modes(c, v, exp, modes):
                units.append(Unit(case=c, variant=v, mode=m, expect=exp, runs=runs or judge.default_runs(m),
                                  binary=case_binary(build_dir, c.id), judge=judge, generation=generation))
    return units


def generation_probe(units: Sequence[Unit]) -> List[str]:
    """The argument vector of a short run of one of `units`' case programs
    (a race-free variant when there is one, forced), to ask it its map
    generation (build.check_generation adds --banner)."""
    unit = next((u for u in units if not u.is_trigger), units[0])
    return case_argv(unit.binary, unit.variant, FORCED, 1)


def shard_units(units: Sequence[Unit], shard: Optional[Tuple[int, int]]) -> List[Unit]:
    """Slice I of N (1-based) of the units: units I, I+N, I+2N... in catalogue
    order; all of them when `shard` is None. --shard runs a slice; a merge
    of shard reports checks each report against its slice."""
    if shard is None:
        return list(units)
    i, n = shard
    return [u for k, u in enumerate(units) if k % n == i - 1]
