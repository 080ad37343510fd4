"""The run loop: every run of every unit, through one Executor.

run_units is the only loop that runs units, whatever their judge: it
derives each run's seed from the master seed, starts the runs (at most -j
at a time), has each finished run classified by its unit's judge, records
it in its unit (counts, times, the failing runs with their replay commands,
one run's output for -v, one bad run with a map timeline for the reports),
saves non-matching stderr under --keep, reports progress, and stops early
for --failfast or a signal. An observer, when given, sees every finished run
too (the detection matrix counts with one).

After the runs, the orderings a judge names for a unit (an exploration's
shortest detecting schedule and blind-spot example) are replayed, through
the same Executor, and recorded in the unit with their map timelines;
the reports draw them and never start a process.

capture_one makes a single run of a unit and returns it whole, for
--explain's timeline: the reports draw what the loop captured.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, Optional, Sequence, Tuple

from ..base import MATCHED, FIRST_LINE_LIMIT, FAIL, signal_name
from ..execution import CAPTURE_LIMIT, Executor, Finished, Job
from ..judges.recorder import has_timeline
from .progress import Progress
from ..catalogue.command import run_environment
from .units import Example, RunRecord, Unit

# How many failing runs per unit are kept (and printed) with their replay command.
SHOWN_FAILURES = 5

# observer(unit, record, stdout, stderr), called for every finished run.
Observer = Callable[[Unit, RunRecord, str, str], None]


@dataclass
class LoopOptions:
    jobs: int
    timeout: float
    verbose: bool = False
    failfast: bool = False
    keep: Optional[Path] = None


@dataclass
class LoopResult:
    wall: float  # seconds
    interrupted: Optional[int]  # the signal that stopped the loop, if one did
    failfast_hit: bool


def _environments(units: Sequence[Unit]) -> Dict[int, Dict[str, str]]:
    """Each judge's run environment, computed once per judge."""
    envs: Dict[int, Dict[str, str]] = {}
    for u in units:
        if id(u.judge) not in envs:
            envs[id(u.judge)] = u.judge.environment(os.environ)
    return envs


def run_units(units: Sequence[Unit], master: int, opts: LoopOptions, err,
              observer: Optional[Observer] = None) -> LoopResult:
    """Run every run of every unit; the results land in the units."""
    total_runs = sum(u.runs for u in units if u.skipped is None)
    progress = Progress(err, total_runs, sum(1 for u in units if u.skipped is None), live=err.isatty())
    state = {"failfast_hit": False}

    def on_finished(fin: Finished) -> bool:
        u, index, seed = fin.job.key
        so = fin.stdout.decode("utf-8", "replace")
        se = fin.stderr.decode("utf-8", "replace")
        outcome, reason = u.classify(fin.status, fin.signum, so, se, fin.timed_out)
        if fin.timed_out:
            reason = f"no exit within {opts.timeout:g}s; got SIGABRT" + (
                f", ended by {signal_name(fin.signum)}" if fin.signum is not None else "")
        if fin.dropped:
            reason += f" (output truncated, {fin.dropped} bytes dropped)" if reason else ""
        first = se.split("\n", 1)[0][:FIRST_LINE_LIMIT]
        rec = RunRecord(index, seed, outcome, reason, fin.status, fin.signum, first, fin.ms)
        details = u.judge.run_details(so)
        if details is not None:
            u.explored = details
        failing = u.add_record(rec, None if opts.verbose else SHOWN_FAILURES)
        if opts.verbose and (u.shown is None or (failing and not u.breaks_policy(u.shown[0].outcome))):
            u.shown = (rec, so, se)
        if u.is_trigger and (u.sample is None or (outcome == MATCHED and u.sample[0].outcome != MATCHED)) \
                and has_timeline(se):
            u.sample = (rec, se)
        if opts.keep is not None and outcome != MATCHED:
            keep_stderr(opts.keep, u, rec, fin.stderr, fin.dropped)
        if observer is not None:
            observer(u, rec, so, se)
        progress.run_done()
        if u.done == u.runs:
            progress.unit_done(u)
            if opts.failfast and u.verdict() == FAIL:
                state["failfast_hit"] = True
        if opts.failfast and failing:
            state["failfast_hit"] = True
        return state["failfast_hit"]

    envs = _environments(units)

    def jobs() -> Iterable[Job]:
        for u in units:
            if u.skipped is not None:
                continue
            env = envs[id(u.judge)]
            for k in range(u.runs):
                seed = u.run_seed(master, k)
                yield Job(u.argv(seed), (u, k, seed), env)

    executor = Executor(opts.jobs, opts.timeout, {})
    t0 = time.monotonic()
    try:
        executor.run(jobs(), on_finished)
        interrupted = executor.interrupted
        if interrupted is None:
            interrupted = replay_examples(units, opts)
    finally:
        progress.close()
    return LoopResult(time.monotonic() - t0, interrupted, state["failfast_hit"])


def replay_examples(units: Sequence[Unit], opts: LoopOptions) -> Optional[int]:
    """Replay the orderings each unit's judge names (with their timelines) and
    record them in the unit, checked against what the unit's run said;
    returns the signal that interrupted the replays, if one did."""
    jobs = []
    for u in units:
        if u.skipped is not None or u.explored is None:
            continue
        env = run_environment(os.environ, u.judge.example_assignments())
        for kind, schedule in u.judge.examples(u.expect, u.explored):
            jobs.append(Job(u.argv(0, schedule), (u, kind, schedule), env))
    if not jobs:
        return None
    found: Dict[Tuple[int, str], Example] = {}

    def on_finished(fin: Finished) -> bool:
        u, kind, schedule = fin.job.key
        se = fin.stderr.decode("utf-8", "replace")
        ok, problem = u.judge.check_example(u.expect, kind, fin.status, fin.signum, se, fin.timed_out)
        first = se.split("\n", 1)[0][:FIRST_LINE_LIMIT]
        found[(id(u), kind)] = Example(kind, schedule, fin.status, fin.signum, first, se, ok, problem)
        return False

    executor = Executor(opts.jobs, opts.timeout, {})
    executor.run(jobs, on_finished)
    # In the order the judge named them, whatever order they finished in.
    for job in jobs:
        u, kind, _ = job.key
        if (id(u), kind) in found:
            u.examples.append(found[(id(u), kind)])
    return executor.interrupted


def capture_one(unit: Unit, seed: int, timeout: float) -> Finished:
    """One run of `unit` with `seed`, returned whole (not classified)."""
    done = []
    env = unit.judge.environment(os.environ)
    Executor(1, timeout, env).run([Job(unit.argv(seed), (unit, 0, seed))], lambda fin: done.append(fin) or False)
    if not done:  # interrupted before it finished
        raise KeyboardInterrupt
    return done[0]


def keep_stderr(keep: Path, u: Unit, rec: RunRecord, stderr: bytes, dropped: int) -> None:
    """Save one run's stderr under --keep, with a line in keep/index.tsv."""
    program = f".{u.judge.program.lower()}" if u.judge.program else ""  # a Go twin's beside its C case's
    name = f"{u.case.id}.{u.variant}.{u.mode}{program}.{rec.index}.stderr"
    try:
        with open(keep / name, "wb") as f:
            f.write(stderr)
            if dropped:
                f.write(f"\n[runner: output beyond {CAPTURE_LIMIT} bytes per stream dropped: {dropped} bytes]\n"
                        .encode())
        with open(keep / "index.tsv", "a", encoding="utf-8") as f:
            f.write(f"{name}\t{rec.outcome}\t{rec.reason}\t{u.replay_text(rec.seed)}\n")
    except OSError as e:
        sys.stderr.write(f"runner.py: warning: cannot save {keep / name}: {e.strerror or e}\n")
