#!/usr/bin/env python3
"""Run the catalogue of concurrent-map failures many times and check every signature.

Each case of the catalogue (cases/manifest.tsv) is a small program with one or
two variants: `bad` triggers the failure, `fixed` is its race-free twin, and a
control has a single `control` variant that must never fail. A *unit* is one
(case, variant, mode) triple; the runner runs every selected unit many times,
classifies each run against the unit's expected file (expected/FORMAT.md) and
judges the unit by its policy:

    forced trigger  (bad, --mode forced)   every run matches
    natural trigger (bad, --mode natural)  at least one run matches, and no run
                                           has a wrong signature or times out
    fixed, control  (any mode)             every run is clean (matches its
                                           exit-0 expectation)

A run is `<build>/cases/<id> --variant V --mode M --seed S`, started in a
session of its own with stdin from /dev/null, the runner's environment plus
GOMAP_TIMELINE=1 (the core's flight recorder) and without GOTRACEBACK (the
expected files describe the default report). Each run's seed is derived from
the master seed (--seed) and the run's place, so one master seed replays a
whole run set, and every failing run is printed with its own command line.

A run is one of: matched, not reproduced (an exit-2 expectation, but the run
exited 0 without any report), wrong signature, timeout. A run that takes longer
than --timeout gets SIGABRT for its whole process group, and SIGKILL a second
later if it is still there. At most 64 KiB of each output stream is kept.

Exit status: 0 every unit met its policy; 1 some unit failed; 2 bad usage or
input (unknown case, malformed manifest or expected file, missing tools, failed
build); 130 interrupted by Ctrl-C (143 by SIGTERM, 129 by SIGHUP): the running
cases are killed and the partial table is printed. Every run of the runner
that gets as far as running cases ends with the line `N passed, N failed`,
counting units.

Standard library only; Python 3.9 or newer.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import re
import secrets
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import runner_html
import runner_tsan

# --------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

MATCHED = "matched"
NOT_REPRODUCED = "not-reproduced"
WRONG = "wrong-signature"
TIMEOUT = "timeout"
OUTCOMES = (MATCHED, NOT_REPRODUCED, WRONG, TIMEOUT)

GROUPS = ("article", "family", "control")
VARIANTS = ("bad", "fixed", "control")
MODES = ("forced", "natural")

# Runs per unit when --runs is not given. Natural runs reproduce only some of
# the time, so they get more tries.
DEFAULT_RUNS = {"forced": 100, "natural": 200}
DEFAULT_TIMEOUT = 10.0
# After SIGABRT, how long a hung run has to die before it gets SIGKILL; after
# the main process has exited, how long its pipes may stay open.
KILL_GRACE = 1.0
# Each captured stream keeps at most this many bytes (the head); the rest is
# read and counted, so a chatty child never blocks and never eats memory.
CAPTURE_LIMIT = 64 * 1024
# First lines kept per run (reports and JSON) are cut to this many characters.
FIRST_LINE_LIMIT = 300
# How many failing runs per unit are printed with their replay command.
SHOWN_FAILURES = 5

INSTALL_HINT = "apt-get install cmake gcc libcriterion-dev libdw-dev pkg-config"

MANIFEST_COLUMNS = ("id", "group", "section", "variants", "title", "go_article", "go_signature")
CASE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

# Any trace of the detector or of a nil-map panic in a run's stderr.
REPORT_RE = re.compile(r"fatal error|panic:")


class UsageError(Exception):
    """Bad command line or bad input: printed as one message, exit status 2."""


# --------------------------------------------------------------------------
# The manifest
# --------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    group: str
    section: str
    variants: List[str]
    title: str
    go_article: str
    go_signature: str


def load_manifest(path: Path) -> List[Case]:
    """Return the cases listed in a manifest, in file order.

    Raises UsageError, naming the file and line, for anything malformed.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: manifest not found (is --root or --manifest right?)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: cannot read the manifest: {e}") from None
    cases: List[Case] = []
    seen: Dict[str, int] = {}
    header_seen = False
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        where = f"{path}:{lineno}"
        if not header_seen:
            if tuple(fields) != MANIFEST_COLUMNS:
                raise UsageError(
                    f"{where}: the header must be the tab-separated columns {' '.join(MANIFEST_COLUMNS)}"
                )
            header_seen = True
            continue
        if len(fields) != len(MANIFEST_COLUMNS):
            raise UsageError(
                f"{where}: expected {len(MANIFEST_COLUMNS)} tab-separated columns, found {len(fields)}"
            )
        cid, group, section, variants, title, go_article, go_signature = fields
        if not CASE_ID_RE.match(cid):
            raise UsageError(f"{where}: bad case id {cid!r} (letters, digits, '.', '_' and '-' only)")
        if cid in seen:
            raise UsageError(f"{where}: case {cid} is already listed on line {seen[cid]}")
        if group not in GROUPS:
            raise UsageError(f"{where}: group must be one of {', '.join(GROUPS)}, not {group!r}")
        vlist = [v.strip() for v in variants.split(",")]
        if not vlist or any(v not in VARIANTS for v in vlist) or len(set(vlist)) != len(vlist):
            raise UsageError(f"{where}: variants must be 'bad,fixed' or 'control', not {variants!r}")
        seen[cid] = lineno
        cases.append(Case(cid, group, section, vlist, title, go_article, go_signature))
    if not header_seen:
        raise UsageError(f"{path}: empty manifest (no header line)")
    return cases


# --------------------------------------------------------------------------
# Expected files (expected/FORMAT.md)
# --------------------------------------------------------------------------


@dataclass
class Pattern:
    text: str
    regex: "re.Pattern[str]"
    lineno: int


@dataclass
class Expectation:
    path: Path
    exit: int
    first_line: Optional[str] = None
    stdout: Optional[str] = None
    natural_also: List[str] = field(default_factory=list)
    natural_also_match: List[Pattern] = field(default_factory=list)
    contains: List[Pattern] = field(default_factory=list)
    absent: List[Pattern] = field(default_factory=list)

    def summary(self) -> str:
        """The expectation in a few words, for tables and messages."""
        if self.exit == 2:
            return self.first_line or ""
        return f"exit 0, {self.stdout}" if self.stdout else "exit 0"


_SINGLE_KEYS = ("exit", "first-line", "stdout")
_REPEAT_KEYS = ("natural-also", "natural-also-match", "contains", "absent")


def parse_expect_text(text: str, path: Path) -> Expectation:
    """Parse the text of an expected file; `path` is only used in messages.

    A directive is `key: value`; the value is the rest of the line with
    surrounding blanks removed. Raises UsageError naming file and line.
    """
    single: Dict[str, Tuple[str, int]] = {}
    natural_also: List[str] = []
    natural_also_match: List[Pattern] = []
    contains: List[Pattern] = []
    absent: List[Pattern] = []
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip("\r")
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        where = f"{path}:{lineno}"
        key, sep, value = line.partition(":")
        key = key.strip()
        value = value.strip()
        if not sep:
            raise UsageError(f"{where}: expected 'key: value', found {stripped!r}")
        if key in _SINGLE_KEYS:
            if key in single:
                raise UsageError(f"{where}: '{key}' given twice (first on line {single[key][1]})")
            single[key] = (value, lineno)
        elif key == "natural-also":
            if not value:
                raise UsageError(f"{where}: 'natural-also' needs a first line")
            natural_also.append(value)
        elif key in ("contains", "absent", "natural-also-match"):
            try:
                regex = re.compile(value)
            except re.error as e:
                raise UsageError(f"{where}: bad regular expression {value!r}: {e}") from None
            dest = {"contains": contains, "absent": absent, "natural-also-match": natural_also_match}[key]
            dest.append(Pattern(value, regex, lineno))
        else:
            known = ", ".join(_SINGLE_KEYS + _REPEAT_KEYS)
            raise UsageError(f"{where}: unknown key {key!r} (known: {known})")
    if "exit" not in single:
        raise UsageError(f"{path}: no 'exit:' line (every expected file says how the run ends)")
    exit_text, exit_line = single["exit"]
    if exit_text not in ("0", "2"):
        raise UsageError(f"{path}:{exit_line}: exit must be 0 or 2, not {exit_text!r}")
    exp = Expectation(
        path=path,
        exit=int(exit_text),
        natural_also=natural_also,
        natural_also_match=natural_also_match,
        contains=contains,
        absent=absent,
    )
    if exp.exit == 2:
        if "first-line" not in single:
            raise UsageError(f"{path}: 'exit: 2' needs a 'first-line:' line")
        if "stdout" in single:
            raise UsageError(f"{path}:{single['stdout'][1]}: 'stdout' goes only with 'exit: 0'")
        exp.first_line = single["first-line"][0]
        if not exp.first_line:
            raise UsageError(f"{path}:{single['first-line'][1]}: empty first line")
    else:
        for key in ("first-line",):
            if key in single:
                raise UsageError(f"{path}:{single[key][1]}: '{key}' goes only with 'exit: 2'")
        if natural_also or natural_also_match:
            key = "natural-also" if natural_also else "natural-also-match"
            raise UsageError(f"{path}: '{key}' goes only with 'exit: 2'")
        if "stdout" in single:
            exp.stdout = single["stdout"][0]
    return exp


def load_expectation(path: Path) -> Expectation:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: expected file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: cannot read: {e}") from None
    return parse_expect_text(text, path)


# --------------------------------------------------------------------------
# Normalisation and classification of one run
# --------------------------------------------------------------------------

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


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


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
        return WRONG, f"killed by {signal_name(signum)}"
    err_lines = _lines(stderr)
    norm: Optional[List[str]] = None
    if exp.absent or exp.contains:
        norm = [normalise(line) for line in err_lines]
    for pat in exp.absent:
        for line in norm or ():
            if pat.regex.search(line):
                return WRONG, f"stderr has a line matching absent /{pat.text}/: {_clip(line)!r}"
    report = REPORT_RE.search(stderr)
    if exp.exit == 2:
        if status == 0 and not report:
            return NOT_REPRODUCED, "exited 0 without a report"
        if status != 2:
            extra = " after printing a report" if report else ""
            return WRONG, f"exit status {status}, expected 2{extra}"
        first = err_lines[0] if err_lines else ""
        accepted = [exp.first_line]
        if mode == "natural":
            accepted += exp.natural_also
        if first not in accepted:
            # A report of a structure broken by racing writers varies with
            # what broke; its content is not the case's signature, so only
            # `absent` applies to it.
            if mode == "natural" and any(p.regex.fullmatch(first) for p in exp.natural_also_match):
                return MATCHED, ""
            return WRONG, f"first line {_clip(first)!r}"
    else:
        if status != 0:
            return WRONG, f"exit status {status}, expected 0"
        if report:
            return WRONG, f"stderr has a report line: {_clip(_first_report_line(err_lines))!r}"
        if exp.stdout is not None and exp.stdout not in _lines(stdout):
            return WRONG, f"no line {exp.stdout!r} on stdout"
    for pat in exp.contains:
        if not any(pat.regex.search(line) for line in norm or ()):
            return WRONG, f"no stderr line matches /{pat.text}/"
    return MATCHED, ""


def _clip(line: str) -> str:
    return line if len(line) <= FIRST_LINE_LIMIT else line[:FIRST_LINE_LIMIT] + "..."


def _first_report_line(lines: Sequence[str]) -> str:
    for line in lines:
        if REPORT_RE.search(line):
            return line
    return ""


# --------------------------------------------------------------------------
# Units, seeds and policies
# --------------------------------------------------------------------------


def derive_seed(master: int, case: str, variant: str, mode: str, index: int) -> int:
    """The seed of one run: a fixed function of the master seed and the run's place."""
    key = f"{master}\0{case}\0{variant}\0{mode}\0{index}".encode()
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
class Unit:
    case: Case
    variant: str
    mode: str
    expect: Expectation
    runs: int
    binary: Path
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

    @property
    def name(self) -> str:
        return f"{self.case.id} {self.variant} {self.mode}"

    @property
    def is_trigger(self) -> bool:
        return self.variant == "bad"

    @property
    def policy(self) -> str:
        if not self.is_trigger:
            return "every run clean"
        if self.mode == "forced":
            return "every run matches"
        return "at least one match, no wrong signature or timeout"

    @property
    def done(self) -> int:
        return len(self.times)

    def breaks_policy(self, outcome: str) -> bool:
        """Whether a single run with this outcome already fails the unit."""
        if self.is_trigger and self.mode == "natural":
            return outcome in (WRONG, TIMEOUT)
        return outcome != MATCHED

    def verdict(self) -> str:
        """'pass', 'FAIL', 'incomplete' (cut short, nothing wrong yet) or 'not run'."""
        if self.failing_total:
            return "FAIL"
        if self.done < self.runs:
            return "incomplete" if self.done else "not run"
        if self.is_trigger and self.mode == "natural" and self.counts[MATCHED] == 0:
            return "FAIL"
        return "pass"

    def failure_reason(self) -> str:
        if self.failing:
            first = self.failing[0]
            return f"{self.failing_total} of {self.done} runs broke the policy ({self.policy}); first: {first.outcome}: {first.reason}"
        if self.verdict() == "FAIL":
            return f"never reproduced in {self.done} natural runs"
        return ""

    def replay(self, seed: int) -> List[str]:
        return [str(self.binary), "--variant", self.variant, "--mode", self.mode, "--seed", str(seed)]


def replay_text(unit: Unit, seed: int) -> str:
    argv = unit.replay(seed)
    argv[0] = display_path(Path(argv[0]))
    return "GOMAP_TIMELINE=1 " + " ".join(shlex.quote(a) for a in argv)


def display_path(path: Path) -> str:
    """A path relative to the working directory when it lies below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


# --------------------------------------------------------------------------
# Running processes
# --------------------------------------------------------------------------


@dataclass
class Job:
    unit: Unit
    index: int
    seed: int


@dataclass
class Finished:
    """What one process did, before classification."""

    job: Job
    status: Optional[int]
    signum: Optional[int]
    stdout: bytes
    stderr: bytes
    dropped: int
    timed_out: bool
    ms: float


class _Child:
    """Book-keeping for one running process."""

    __slots__ = (
        "job", "pid", "pidfd", "bufs", "open_fds", "t0", "stage", "next_at",
        "status", "signum", "reaped", "ms", "dropped", "timed_out",
    )


# Stages of a child's life; the child's timer (next_at) means something different in each.
_RUNNING, _ABORTED, _KILLED, _DRAINING = range(4)


class _Poller:
    """epoll where there is one, poll otherwise; maps each fd to its owner."""

    def __init__(self) -> None:
        if hasattr(select, "epoll"):
            self._p = select.epoll()
            self._ms = False
        else:  # pragma: no cover - not Linux
            self._p = select.poll()
            self._ms = True
        self.owner: Dict[int, object] = {}

    def add(self, fd: int, owner: object) -> None:
        self._p.register(fd, select.POLLIN)
        self.owner[fd] = owner

    def remove(self, fd: int) -> None:
        if fd in self.owner:
            del self.owner[fd]
            self._p.unregister(fd)

    def wait(self, timeout: float) -> List[int]:
        if self._ms:  # pragma: no cover
            return [fd for fd, _ in self._p.poll(timeout * 1000.0)]
        return [fd for fd, _ in self._p.poll(timeout)]

    def close(self) -> None:
        if hasattr(self._p, "close"):
            self._p.close()


class Executor:
    """Runs jobs with at most `jobs` children alive, from a single thread.

    Every child is started with posix_spawn in a session of its own (so its
    whole process group can be signalled), stdin from /dev/null and stdout and
    stderr on pipes. One poller waits on the pipes, on a pidfd per child (its
    exit notification) and on the signal wake-up pipe, so a run costs a
    handful of system calls and no thread switches.

    A child past its deadline gets SIGABRT for its group, then SIGKILL after
    KILL_GRACE. When a child's main process exits, its group gets SIGKILL
    before the zombie is reaped (while the zombie exists its pid cannot name
    anyone else's group), so no stray process outlives its run.
    """

    # Signals the runner may have ignored or blocked; children start with the defaults.
    _SIGDEF = (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM, signal.SIGQUIT,
               signal.SIGHUP, signal.SIGABRT, signal.SIGCHLD)

    def __init__(self, jobs: int, timeout: float, env: Dict[str, str], capture_limit: int = CAPTURE_LIMIT):
        self.jobs = max(1, jobs)
        self.timeout = timeout
        self.env = env
        self.capture_limit = capture_limit
        self.interrupted: Optional[int] = None
        self.children: Dict[int, _Child] = {}
        self._use_pidfd = hasattr(os, "pidfd_open")
        self._poller: Optional[_Poller] = None
        self._devnull = -1

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.interrupted is None:
            self.interrupted = signum

    def run(self, jobs: Iterable[Job], on_finished: Callable[[Finished], bool]) -> None:
        """Run every job; call on_finished for each, in completion order.

        on_finished returns True to stop launching new jobs (running ones
        finish). On SIGINT, SIGTERM or SIGHUP every child's group is killed,
        the unfinished runs are dropped and self.interrupted is set to the signal.
        """
        queue = iter(jobs)
        exhausted = stop_launching = False
        poller = self._poller = _Poller()
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        poller.add(wake_r, None)
        self._devnull = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        old_handlers = {}
        old_wakeup = -1
        in_main = threading.current_thread() is threading.main_thread()
        children = self.children
        try:
            if in_main:
                # The handler only records the signal; the wake-up pipe ends the wait.
                old_wakeup = signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
                for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                    old_handlers[s] = signal.signal(s, self._on_signal)
            while self.interrupted is None:
                while not stop_launching and not exhausted and len(children) < self.jobs:
                    job = next(queue, None)
                    if job is None:
                        exhausted = True
                    else:
                        self._spawn(job)
                if not children:
                    break
                wait = max(0.0, min(c.next_at for c in children.values()) - time.monotonic())
                if not self._use_pidfd:
                    wait = min(wait, 0.002)
                for fd in poller.wait(wait):
                    owner = poller.owner.get(fd)
                    if owner is None:
                        if fd == wake_r:
                            _drain(wake_r)
                        continue
                    child, which = owner
                    if which == 2:
                        poller.remove(fd)
                        os.close(fd)
                        child.pidfd = -1
                        self._reap(child)
                    else:
                        self._read(child, fd, which)
                now = time.monotonic()
                for child in list(children.values()):
                    if not child.reaped and not self._use_pidfd and _has_exited(child.pid):
                        self._reap(child)
                    if child.reaped and not child.open_fds:
                        del children[child.pid]
                        fin = Finished(child.job, child.status, child.signum, bytes(child.bufs[0]),
                                       bytes(child.bufs[1]), child.dropped, child.timed_out, child.ms)
                        if on_finished(fin):
                            stop_launching = True
                    elif now >= child.next_at:
                        self._advance(child, now)
        finally:
            self._kill_all()
            if in_main:
                signal.set_wakeup_fd(old_wakeup)
                for s, h in old_handlers.items():
                    signal.signal(s, h)
            poller.close()
            for fd in (wake_r, wake_w, self._devnull):
                os.close(fd)
            self._poller = None

    def _spawn(self, job: Job) -> None:
        argv = job.unit.replay(job.seed)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            pid = os.posix_spawn(
                argv[0], argv, self.env,
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, self._devnull, 0),
                    (os.POSIX_SPAWN_DUP2, out_w, 1),
                    (os.POSIX_SPAWN_DUP2, err_w, 2),
                ],
                setsid=True, setsigmask=(), setsigdef=self._SIGDEF,
            )
        except OSError as e:
            os.close(out_r)
            os.close(err_r)
            raise UsageError(f"cannot start {argv[0]}: {e.strerror or e}") from None
        finally:
            os.close(out_w)
            os.close(err_w)
        c = _Child()
        c.job = job
        c.pid = pid
        c.t0 = time.monotonic()
        c.stage = _RUNNING
        c.next_at = c.t0 + self.timeout
        c.bufs = (bytearray(), bytearray())
        c.open_fds = {out_r, err_r}
        c.status = c.signum = None
        c.reaped = c.timed_out = False
        c.ms = 0.0
        c.dropped = 0
        c.pidfd = -1
        self.children[pid] = c
        poller = self._poller
        poller.add(out_r, (c, 0))
        poller.add(err_r, (c, 1))
        if self._use_pidfd:
            try:
                c.pidfd = os.pidfd_open(pid)
            except OSError:  # an old kernel: fall back to polling
                self._use_pidfd = False
            else:
                poller.add(c.pidfd, (c, 2))

    def _read(self, child: _Child, fd: int, which: int) -> None:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        if not data:
            self._poller.remove(fd)
            os.close(fd)
            child.open_fds.discard(fd)
            return
        buf = child.bufs[which]
        room = self.capture_limit - len(buf)
        if room >= len(data):
            buf += data
        else:
            if room > 0:
                buf += data[:room]
            child.dropped += len(data) - max(room, 0)

    def _reap(self, child: _Child) -> None:
        """The main process has exited: clear out its group, then collect its status."""
        _killpg(child.pid, signal.SIGKILL)
        _, wstatus = os.waitpid(child.pid, 0)
        now = time.monotonic()
        child.ms = (now - child.t0) * 1000.0
        child.reaped = True
        if os.WIFSIGNALED(wstatus):
            child.signum = os.WTERMSIG(wstatus)
        else:
            child.status = os.WEXITSTATUS(wstatus)
        # What is still in the pipes arrives at once; a pipe held open by a
        # process that escaped the group is abandoned after the grace time.
        child.stage = _DRAINING
        child.next_at = now + KILL_GRACE

    def _advance(self, child: _Child, now: float) -> None:
        """A child's timer went off: escalate, or give up on its pipes."""
        if child.stage == _RUNNING:
            child.timed_out = True
            child.stage = _ABORTED
            _killpg(child.pid, signal.SIGABRT)
        elif child.stage == _ABORTED:
            child.stage = _KILLED
            _killpg(child.pid, signal.SIGKILL)
        elif child.stage == _DRAINING:
            for fd in list(child.open_fds):
                self._poller.remove(fd)
                os.close(fd)
            child.open_fds.clear()
        # _KILLED: the kernel has not torn it down yet; keep waiting for the exit.
        child.next_at = now + KILL_GRACE

    def _kill_all(self) -> None:
        """Kill and collect every child still alive (interrupt or error)."""
        for child in list(self.children.values()):
            if not child.reaped:
                _killpg(child.pid, signal.SIGKILL)
                try:
                    os.waitpid(child.pid, 0)
                except ChildProcessError:
                    pass
            for fd in list(child.open_fds) + ([child.pidfd] if child.pidfd >= 0 else []):
                self._poller.remove(fd)
                os.close(fd)
            child.open_fds.clear()
        self.children.clear()


def _killpg(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _has_exited(pid: int) -> bool:
    """Whether a child has exited, without reaping it (fallback without pidfd)."""
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except (BlockingIOError, InterruptedError):
        pass


# --------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------


class Progress:
    """A live status line on a terminal; one plain line per finished unit otherwise."""

    def __init__(self, stream, total_runs: int, total_units: int, live: bool):
        self.stream = stream
        self.total_runs = total_runs
        self.total_units = total_units
        self.live = live
        self.runs_done = 0
        self.units_done = 0
        self.failed_units = 0
        self.t0 = time.monotonic()
        self._last = 0.0

    def run_done(self) -> None:
        self.runs_done += 1
        if self.live:
            now = time.monotonic()
            if now - self._last >= 0.1 or self.runs_done == self.total_runs:
                self._last = now
                self._draw()

    def unit_done(self, unit: Unit) -> None:
        self.units_done += 1
        verdict = unit.verdict()
        if verdict == "FAIL":
            self.failed_units += 1
        line = (
            f"[{self.units_done:>{len(str(self.total_units))}}/{self.total_units}] {unit.name}: "
            f"{unit.counts[MATCHED]}/{unit.done} matched, {unit.counts[NOT_REPRODUCED]} not reproduced, "
            f"{unit.counts[WRONG]} wrong, {unit.counts[TIMEOUT]} timeout: {verdict}"
        )
        if self.live:
            if verdict != "pass":
                self.stream.write("\r\x1b[K" + line + "\n")
            self._draw()
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def _draw(self) -> None:
        elapsed = time.monotonic() - self.t0
        self.stream.write(
            f"\r\x1b[Kruns {self.runs_done}/{self.total_runs}  units {self.units_done}/{self.total_units}"
            f"  failed {self.failed_units}  {elapsed:.1f}s"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.live:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


# --------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------

TABLE_HEADER = ("case", "variant", "mode", "expected", "runs", "matched", "not-repro", "wrong", "timeout",
                "median ms", "verdict")


def abbreviate(text: str, width: int = 52) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def table_rows(units: Sequence[Unit]) -> List[Tuple[str, ...]]:
    rows = []
    for u in units:
        median = f"{statistics.median(u.times):.1f}" if u.times else "-"
        rows.append((
            u.case.id, u.variant, u.mode, abbreviate(u.expect.summary()), str(u.done),
            str(u.counts[MATCHED]), str(u.counts[NOT_REPRODUCED]), str(u.counts[WRONG]),
            str(u.counts[TIMEOUT]), median, u.verdict(),
        ))
    return rows


def format_table(units: Sequence[Unit]) -> str:
    rows = [TABLE_HEADER] + table_rows(units)
    widths = [max(len(r[i]) for r in rows) for i in range(len(TABLE_HEADER))]
    numeric = {4, 5, 6, 7, 8, 9}
    out = []
    for r in rows:
        cells = [c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def json_report(master_seed: int, units: Sequence[Unit], passed: int, failed: int, interrupted: bool) -> dict:
    runs = []
    summary = []
    for u in units:
        for r in sorted(u.records, key=lambda rec: rec.index):
            runs.append({
                "case": u.case.id, "variant": u.variant, "mode": u.mode, "index": r.index, "seed": r.seed,
                "outcome": r.outcome, "exit": r.status,
                "signal": signal_name(r.signum) if r.signum is not None else None,
                "first_line": r.first_line, "ms": round(r.ms, 3), "reason": r.reason or None,
                "replay": replay_text(u, r.seed) if u.breaks_policy(r.outcome) else None,
            })
        summary.append({
            "case": u.case.id, "group": u.case.group, "variant": u.variant, "mode": u.mode,
            "expected": u.expect.summary(), "policy": u.policy, "runs": u.runs, "completed": u.done,
            "matched": u.counts[MATCHED], "not_reproduced": u.counts[NOT_REPRODUCED],
            "wrong_signature": u.counts[WRONG], "timeout": u.counts[TIMEOUT],
            "median_ms": round(statistics.median(u.times), 3) if u.times else None,
            "verdict": u.verdict(), "reason": u.failure_reason() or None,
        })
    return {"seed": master_seed, "interrupted": interrupted, "runs": runs, "summary": summary,
            "passed": passed, "failed": failed}


_XML_BAD = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(s: str) -> str:
    return _XML_BAD.sub("?", s)


def junit_report(master_seed: int, units: Sequence[Unit]) -> bytes:
    failures = sum(1 for u in units if u.verdict() == "FAIL")
    skipped = sum(1 for u in units if u.verdict() in ("incomplete", "not run"))
    suites = ET.Element("testsuites")
    suite = ET.SubElement(suites, "testsuite", name="gomap-catalogue", tests=str(len(units)),
                          failures=str(failures), errors="0", skipped=str(skipped),
                          time=f"{sum(sum(u.times) for u in units) / 1000.0:.3f}")
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="seed", value=str(master_seed))
    for u in units:
        tc = ET.SubElement(suite, "testcase", classname=f"{u.case.group}.{u.case.id}",
                           name=f"{u.variant}.{u.mode}", time=f"{sum(u.times) / 1000.0:.3f}")
        verdict = u.verdict()
        if verdict == "FAIL":
            first = u.failing[0] if u.failing else None
            actual = first.first_line if first else "(no run matched)"
            msg = f"expected: {u.expect.summary()} | actual: {actual}"
            if first:
                msg += f" | replay: {replay_text(u, first.seed)}"
            body = [u.failure_reason(), f"policy: {u.policy}",
                    f"runs {u.done}: matched {u.counts[MATCHED]}, not reproduced {u.counts[NOT_REPRODUCED]}, "
                    f"wrong signature {u.counts[WRONG]}, timeout {u.counts[TIMEOUT]}"]
            for r in u.failing:
                body.append(f"run {r.index} seed {r.seed}: {r.outcome}: {r.reason}")
                body.append(f"  first line: {r.first_line}")
                body.append(f"  replay: {replay_text(u, r.seed)}")
            fail = ET.SubElement(tc, "failure", message=_xml_text(msg), type=first.outcome if first else "not-reproduced")
            fail.text = _xml_text("\n".join(body))
        elif verdict in ("incomplete", "not run"):
            ET.SubElement(tc, "skipped", message=f"{verdict}: {u.done} of {u.runs} runs")
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"


# --------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------


def tail(text: str, n: int = 40) -> str:
    return "\n".join(text.rstrip("\n").split("\n")[-n:])


def run_quietly(argv: List[str], cwd: Optional[Path], what: str) -> None:
    """Run a build command; show the tail of its output only when it fails."""
    try:
        proc = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    except OSError as e:
        raise UsageError(f"{what} could not start ({argv[0]}): {e.strerror or e}") from None
    if proc.returncode != 0:
        output = proc.stdout.decode("utf-8", "replace")
        raise UsageError(
            f"{what} failed (exit status {proc.returncode}): {' '.join(shlex.quote(a) for a in argv)}\n"
            f"{tail(output)}\n"
            f"(missing packages? {INSTALL_HINT})"
        )


def find_c_compiler() -> Optional[str]:
    cc = os.environ.get("CC")
    if cc:
        try:
            words = shlex.split(cc)
        except ValueError:
            words = []
        return shutil.which(words[0]) if words else None
    for name in ("cc", "gcc", "clang"):
        found = shutil.which(name)
        if found:
            return found
    return None


def ensure_built(root: Path, build_dir: Path, jobs: int, err) -> None:
    """Configure the build directory if needed, then bring it up to date."""
    cmake = shutil.which("cmake")
    if cmake is None:
        raise UsageError(f"cmake not found on PATH; install the build tools: {INSTALL_HINT}")
    t0 = time.monotonic()
    configured = (build_dir / "CMakeCache.txt").is_file()
    if not configured:
        if find_c_compiler() is None:
            raise UsageError(f"no C compiler found (cc, gcc, clang or $CC); install one: {INSTALL_HINT}")
        if _same_path(build_dir, root / "build") and (root / "CMakePresets.json").is_file():
            run_quietly([cmake, "--preset", "default"], root, "configuring (cmake --preset default)")
        else:
            run_quietly([cmake, "-S", str(root), "-B", str(build_dir)], None, "configuring")
    run_quietly([cmake, "--build", str(build_dir), "-j", str(jobs)], None, "building")
    what = "configured and built" if not configured else "brought up to date"
    err.write(f"{what}: {display_path(build_dir)} ({time.monotonic() - t0:.1f}s)\n")


def _same_path(a: Path, b: Path) -> bool:
    return os.path.abspath(a) == os.path.abspath(b)


# --------------------------------------------------------------------------
# --explain
# --------------------------------------------------------------------------


def source_header(text: str) -> Optional[str]:
    """The leading /* ... */ comment of a C file, without its decoration."""
    s = text.lstrip()
    if not s.startswith("/*"):
        return None
    end = s.find("*/")
    if end < 0:
        return None
    lines = [re.sub(r"^\s*\*(?: |$)", "", line).rstrip() for line in s[2:end].split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def fix_from_header(header: str) -> Optional[str]:
    """The paragraph of a case header labelled 'Fix:' (or 'The fix:'), without its label.

    The label normally starts a line; a header whose lines were reflowed may
    have it mid-line. The paragraph runs to a blank line or to the next line
    that starts with a label of its own.
    """
    lines = header.split("\n")
    at_start = re.compile(r"^\s*(?:the\s+)?fix(?:ed)?\s*:\s*", re.IGNORECASE)
    inline = re.compile(r"\bFix:\s*")
    other_label = re.compile(r"^[A-Z][\w ,'()-]{0,30}:\s")
    for pattern in (at_start, inline):
        for i, line in enumerate(lines):
            m = pattern.search(line)
            if m:
                para = [line[m.end():].strip()]
                for more in lines[i + 1:]:
                    if not more.strip() or other_label.match(more):
                        break
                    para.append(more.strip())
                return " ".join(p for p in para if p)
    return None


def explain(case: Case, root: Path, expected_dir: Path, out) -> None:
    def section(title: str) -> None:
        out.write(f"\n== {title} ==\n")

    out.write(f"{case.id} ({case.group}{', section ' + case.section if case.section not in ('', '-') else ''}): "
              f"{case.title}\n")
    if case.go_article not in ("", "-"):
        out.write(f"real Go, the article's example: {case.go_article}")
        out.write(f" ({case.go_signature})\n" if case.go_signature not in ("", "-") else "\n")
    section("write-up")
    writeup = root / "docs" / "cases" / f"{case.id}.md"
    try:
        out.write(writeup.read_text(encoding="utf-8", errors="replace").rstrip("\n") + "\n")
    except OSError:
        out.write(f"no write-up yet ({display_path(writeup)})\n")
    section("source header")
    src = root / "cases" / f"{case.id}.c"
    header = None
    try:
        header = source_header(src.read_text(encoding="utf-8", errors="replace"))
        out.write((header if header is not None else f"{display_path(src)} has no leading comment") + "\n")
    except OSError:
        out.write(f"no source yet ({display_path(src)})\n")
    section("expected signature")
    for v in case.variants:
        path = expected_dir / f"{case.id}.{v}.expect"
        out.write(f"--- {display_path(path)}\n")
        try:
            out.write(path.read_text(encoding="utf-8", errors="replace").rstrip("\n") + "\n")
        except OSError:
            out.write("(missing)\n")
    section("fix")
    fix = fix_from_header(header) if header else None
    if fix:
        out.write(fix + "\n")
    elif "fixed" in case.variants:
        out.write(f"no fix line in the header; see the fixed variant ({display_path(src)}, --variant fixed)\n")
    else:
        out.write("nothing to fix: this is a control that must never fail\n")


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="runner.py",
        description="Run the catalogue's cases many times and check every run's signature.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="""\
selection:
  CASE may be a case id, a glob (quote it: '2.*', '*writing*') or a group:
  article (the article's twelve), family (the rest of the family), control
  (the controls) or all. Nothing given means all.

policies:
  forced trigger    (bad, forced)    every run matches the expected signature
  natural trigger   (bad, natural)   at least one match, no wrong signature,
                                     no timeout
  fixed and control (any mode)       every run clean

exit status:
  0 every unit met its policy, 1 some failed, 2 bad usage or input
  (unknown case, malformed manifest or expected file, missing tools, failed
  build), 130 interrupted (Ctrl-C).

examples:
  python3 runner.py                          build if needed, run everything
  python3 runner.py 2.1-read-write-pair -v   one case, show one run's output
  python3 runner.py article --mode natural --runs 500
  python3 runner.py --runs 1000 --junit report.xml --shard 1/4
  python3 runner.py --explain 3.3-background-scanner
  python3 runner.py --sanitizer thread --mode both   every unit under ThreadSanitizer
  python3 runner.py --matrix --matrix-md docs/detection-matrix.md
""",
    )
    p.add_argument("cases", nargs="*", metavar="CASE", help="case ids, globs or groups to run (default: all)")

    sel = p.add_argument_group("selection and modes")
    sel.add_argument("--variant", action="append", metavar="V",
                     help="only these variants: bad, fixed, control (repeat or comma-separate)")
    sel.add_argument("--mode", choices=("forced", "natural", "both"), default="forced",
                     help="forced schedules the overlap, natural leaves it to chance (default: forced)")
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
    exe.add_argument("-j", "--jobs", type=_positive_int, metavar="N", default=_cpu_count(),
                     help="runs in parallel (default: the number of usable cores, %(default)s here)")
    exe.add_argument("--timeout", type=_positive_float, metavar="SECONDS", default=DEFAULT_TIMEOUT,
                     help="a run still alive after this gets SIGABRT, then SIGKILL, for its whole "
                          "process group (default: %(default)s)")
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

    san = p.add_argument_group("ThreadSanitizer and the detection matrix (runner_tsan.py)")
    san.add_argument("--sanitizer", choices=("thread",),
                     help="build the tsan preset (build-tsan/) and check every run under ThreadSanitizer: "
                          "triggers reported as data races naming both accesses, fixed variants and controls "
                          "without any report; triggers and the len control run in natural mode "
                          "(default --runs 100)")
    san.add_argument("--matrix", action="store_true",
                     help="measure the detection matrix: per case, how often the built-in detector and "
                          "ThreadSanitizer report the misuse in natural mode (default --runs 200)")
    san.add_argument("--matrix-md", metavar="FILE", type=Path,
                     help="with --matrix: write the measured table as markdown (e.g. docs/detection-matrix.md)")

    tree = p.add_argument_group("source tree and build")
    tree.add_argument("--root", type=Path, metavar="DIR", default=Path(__file__).resolve().parent,
                      help="the source tree (default: the directory of runner.py)")
    tree.add_argument("--build-dir", type=Path, metavar="DIR",
                      help="the CMake build directory; executables are DIR/cases/<id> (default: ROOT/build)")
    tree.add_argument("--manifest", type=Path, metavar="FILE", help="the case list (default: ROOT/cases/manifest.tsv)")
    tree.add_argument("--expected-dir", type=Path, metavar="DIR",
                      help="the expected-signature files (default: ROOT/expected)")
    tree.add_argument("--no-build", action="store_true",
                      help="do not configure or build; use the executables already in the build directory")
    return p


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return n


def _positive_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not x > 0 or x == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return x


def _seed(text: str) -> int:
    try:
        n = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a decimal number: {text!r}") from None
    if not 0 <= n < 1 << 64:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**64-1, not {n}")
    return n


def _shard(text: str) -> Tuple[int, int]:
    m = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"expected I/N like 2/4, not {text!r}")
    i, n = int(m.group(1)), int(m.group(2))
    if not 1 <= i <= n:
        raise argparse.ArgumentTypeError(f"need 1 <= I <= N, not {i}/{n}")
    return i, n


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def select_cases(cases: Sequence[Case], patterns: Sequence[str]) -> List[Case]:
    """The cases named by ids, globs or group names, in manifest order."""
    if not patterns:
        return list(cases)
    chosen = set()
    for pat in patterns:
        if pat == "all":
            hits = [c.id for c in cases]
        elif pat in GROUPS or pat == "controls":
            group = "control" if pat == "controls" else pat
            hits = [c.id for c in cases if c.group == group]
        else:
            hits = [c.id for c in cases if fnmatch.fnmatchcase(c.id, pat)]
        if not hits:
            known = "\n  ".join(c.id for c in cases) or "(the manifest lists no cases)"
            raise UsageError(
                f"unknown case {pat!r}; the known cases are:\n  {known}\n"
                f"groups: {', '.join(GROUPS)}, all"
            )
        chosen.update(hits)
    return [c for c in cases if c.id in chosen]


def parse_variants(values: Optional[Sequence[str]]) -> Optional[List[str]]:
    if not values:
        return None
    out = []
    for v in values:
        for part in v.split(","):
            part = part.strip()
            if part not in VARIANTS:
                raise UsageError(f"unknown variant {part!r}; the variants are {', '.join(VARIANTS)}")
            out.append(part)
    return out


def make_units(cases: Sequence[Case], variants: Optional[Sequence[str]], modes: Sequence[str],
               runs: Optional[int], expected_dir: Path, build_dir: Path) -> List[Unit]:
    units = []
    for c in cases:
        for v in c.variants:
            if variants is not None and v not in variants:
                continue
            for m in modes:
                units.append(Unit(case=c, variant=v, mode=m, expect=None,  # type: ignore[arg-type]
                                  runs=runs or DEFAULT_RUNS[m], binary=build_dir / "cases" / c.id))
    return units


def open_output(path: Optional[Path], what: str):
    if path is None:
        return None
    try:
        return open(path, "wb")
    except OSError as e:
        raise UsageError(f"cannot write the {what} file {path}: {e.strerror or e}") from None


def child_env() -> Dict[str, str]:
    env = dict(os.environ)
    env["GOMAP_TIMELINE"] = "1"
    # Expected files describe the default report; an inherited GOTRACEBACK
    # (none, all, crash) would change every signature.
    env.pop("GOTRACEBACK", None)
    return env


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _main(args)
    except UsageError as e:
        sys.stdout.flush()
        sys.stderr.write(f"runner.py: error: {e}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("\nrunner.py: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (runner.py --list | head): stop quietly.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_FAILED


def _main(args: argparse.Namespace) -> int:
    root: Path = args.root.resolve()
    if not root.is_dir():
        raise UsageError(f"--root {args.root}: not a directory")
    build_dir: Path = (args.build_dir or root / "build").absolute()
    manifest: Path = args.manifest or root / "cases" / "manifest.tsv"
    expected_dir: Path = args.expected_dir or root / "expected"
    out, err = sys.stdout, sys.stderr

    cases = load_manifest(manifest)
    if args.sanitizer or args.matrix or args.matrix_md:
        return runner_tsan.main(sys.modules[__name__], args, root, cases, expected_dir)

    if args.explain:
        matches = select_cases(cases, [args.explain])
        if len(matches) != 1:
            raise UsageError(f"--explain needs exactly one case; {args.explain!r} names "
                             f"{len(matches)}: {', '.join(c.id for c in matches)}")
        explain(matches[0], root, expected_dir, out)
        if "bad" in matches[0].variants:
            runner_html.explain_timeline(build_dir / "cases" / matches[0].id, child_env(), out,
                                         timeout=min(args.timeout, 30.0), color=out.isatty())
        return EXIT_OK

    selected = select_cases(cases, args.cases)
    if args.list:
        rows = [("id", "group", "variants", "title")] + [
            (c.id, c.group, ",".join(c.variants), c.title) for c in selected]
        w = [max(len(r[i]) for r in rows) for i in range(3)]
        for r in rows:
            out.write(f"{r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:<{w[2]}}  {r[3]}".rstrip() + "\n")
        return EXIT_OK

    variants = parse_variants(args.variant)
    modes = list(MODES) if args.mode == "both" else [args.mode]
    units = make_units(selected, variants, modes, args.runs, expected_dir, build_dir)
    if not units:
        raise UsageError(f"nothing to run: the selected cases have no variant {', '.join(variants or [])}")
    expectations: Dict[Tuple[str, str], Expectation] = {}
    for u in units:
        key = (u.case.id, u.variant)
        if key not in expectations:
            expectations[key] = load_expectation(expected_dir / f"{u.case.id}.{u.variant}.expect")
        u.expect = expectations[key]
    if args.shard:
        i, n = args.shard
        units = [u for k, u in enumerate(units) if k % n == i - 1]

    json_file = open_output(args.json, "--json")
    junit_file = open_output(args.junit, "--junit")
    html_file = open_output(args.html, "--html")
    if args.keep is not None:
        try:
            args.keep.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UsageError(f"cannot create the --keep directory {args.keep}: {e.strerror or e}") from None

    if not args.no_build:
        ensure_built(root, build_dir, args.jobs, err)
    missing = sorted({str(u.binary) for u in units if not os.access(u.binary, os.X_OK)})
    if missing:
        hint = "build them (cmake --build) or drop --no-build" if args.no_build else \
            "the build did not produce them; is every case listed in cases/CMakeLists.txt?"
        raise UsageError("missing case executables: " + ", ".join(display_path(Path(m)) for m in missing)
                         + f"; {hint}")

    master = args.seed if args.seed is not None else secrets.randbits(32)
    total_runs = sum(u.runs for u in units)
    shard = f", shard {args.shard[0]}/{args.shard[1]}" if args.shard else ""
    out.write(f"{len(units)} units ({'+'.join(modes)}), {total_runs} runs, -j {args.jobs}, "
              f"timeout {args.timeout:g}s{shard}, seed {master} (replay with --seed {master})\n")
    out.flush()

    progress = Progress(err, total_runs, len(units), live=err.isatty())
    state = {"failfast_hit": False}

    def on_finished(fin: Finished) -> bool:
        u = fin.job.unit
        so = fin.stdout.decode("utf-8", "replace")
        se = fin.stderr.decode("utf-8", "replace")
        outcome, reason = classify(u.expect, u.mode, fin.status, fin.signum, so, se, fin.timed_out)
        if fin.timed_out:
            reason = f"no exit within {args.timeout:g}s; got SIGABRT" + (
                f", ended by {signal_name(fin.signum)}" if fin.signum is not None else "")
        if fin.dropped:
            reason += f" (output truncated, {fin.dropped} bytes dropped)" if reason else ""
        first = se.split("\n", 1)[0][:FIRST_LINE_LIMIT]
        rec = RunRecord(fin.job.index, fin.job.seed, outcome, reason, fin.status, fin.signum, first, fin.ms)
        u.records.append(rec)
        u.counts[outcome] += 1
        u.times.append(fin.ms)
        failing = u.breaks_policy(outcome)
        if failing:
            u.failing_total += 1
            if args.verbose or len(u.failing) < SHOWN_FAILURES:
                u.failing.append(rec)
        if args.verbose and (u.shown is None or (failing and not u.breaks_policy(u.shown[0].outcome))):
            u.shown = (rec, so, se)
        if u.is_trigger and (u.sample is None or (outcome == MATCHED and u.sample[0].outcome != MATCHED)) \
                and runner_html.has_timeline(se):
            u.sample = (rec, se)
        if args.keep is not None and outcome != MATCHED:
            keep_stderr(args.keep, u, rec, fin.stderr, fin.dropped)
        progress.run_done()
        if u.done == u.runs:
            progress.unit_done(u)
            if args.failfast and u.verdict() == "FAIL":
                state["failfast_hit"] = True
        if args.failfast and failing:
            state["failfast_hit"] = True
        return state["failfast_hit"]

    def jobs() -> Iterable[Job]:
        for u in units:
            for k in range(u.runs):
                yield Job(u, k, derive_seed(master, u.case.id, u.variant, u.mode, k))

    executor = Executor(args.jobs, args.timeout, child_env())
    t0 = time.monotonic()
    try:
        executor.run(jobs(), on_finished)
    finally:
        progress.close()
    wall = time.monotonic() - t0
    interrupted = executor.interrupted

    shown_units = [u for u in units if u.done]
    if args.verbose:
        for u in shown_units:
            if u.shown:
                rec, so, se = u.shown
                out.write(f"\n--- {u.name} run {rec.index} seed {rec.seed}: {rec.outcome} "
                          f"({'exit ' + str(rec.status) if rec.signum is None else signal_name(rec.signum)}, "
                          f"{rec.ms:.1f} ms)\n")
                out.write(f"$ {replay_text(u, rec.seed)}\n--- stdout\n{so}")
                out.write(f"{'' if so.endswith(chr(10)) or not so else chr(10)}--- stderr\n{se}")
                out.write("" if se.endswith("\n") or not se else "\n")
                chart = runner_html.format_terminal_timeline(se, color=out.isatty())
                if chart:
                    out.write("--- timeline\n" + chart)
    failing_units = [u for u in shown_units if u.verdict() == "FAIL"]
    if failing_units:
        out.write("\nfailures:\n")
        for u in failing_units:
            out.write(f"{u.name}: {u.failure_reason()}\n")
            for r in u.failing:
                out.write(f"  run {r.index}: {r.outcome}: {r.reason}\n    replay: {replay_text(u, r.seed)}\n")
            if u.failing_total > len(u.failing):
                more = u.failing_total - len(u.failing)
                out.write(f"  ... and {more} more failing runs (-v shows them all; --json has every run "
                          f"with its replay command, --keep their stderr)\n")
    out.write("\n" + format_table(shown_units) + "\n")
    total_done = sum(u.done for u in units)
    if total_done:
        out.write(f"\n{total_done} runs in {wall:.1f}s wall, {wall * 1000.0 / total_done:.2f} ms per run\n")
    unfinished = sum(1 for u in units if u.verdict() in ("incomplete", "not run"))
    if interrupted is not None:
        out.write(f"interrupted by {signal_name(interrupted)}: {unfinished} of {len(units)} units not finished\n")
    elif state["failfast_hit"] and unfinished:
        out.write(f"stopped by --failfast: {unfinished} of {len(units)} units not finished\n")
    passed = sum(1 for u in units if u.verdict() == "pass")
    failed = sum(1 for u in units if u.verdict() == "FAIL")
    out.write(f"{passed} passed, {failed} failed\n")
    out.flush()

    if json_file is not None:
        with json_file:
            json_file.write(json.dumps(json_report(master, units, passed, failed, interrupted is not None),
                                       indent=1).encode() + b"\n")
    if junit_file is not None:
        with junit_file:
            junit_file.write(junit_report(master, units))
    if html_file is not None:
        with html_file:
            meta = {"seed": master, "runs per unit": args.runs or "default", "modes": "+".join(modes),
                    "wall": f"{wall:.1f}s", "finished": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
            if interrupted is not None:
                meta["interrupted by"] = signal_name(interrupted)
            html_file.write(runner_html.render_units(units, root, expected_dir, meta).encode("utf-8"))

    if interrupted is not None:
        return EXIT_INTERRUPTED if interrupted == signal.SIGINT else 128 + interrupted
    return EXIT_FAILED if failed else EXIT_OK


def keep_stderr(keep: Path, u: Unit, rec: RunRecord, stderr: bytes, dropped: int) -> None:
    name = f"{u.case.id}.{u.variant}.{u.mode}.{rec.index}.stderr"
    try:
        with open(keep / name, "wb") as f:
            f.write(stderr)
            if dropped:
                f.write(f"\n[runner: output beyond {CAPTURE_LIMIT} bytes per stream dropped: {dropped} bytes]\n"
                        .encode())
        with open(keep / "index.tsv", "a", encoding="utf-8") as f:
            f.write(f"{name}\t{rec.outcome}\t{rec.reason}\t{replay_text(u, rec.seed)}\n")
    except OSError as e:
        sys.stderr.write(f"runner.py: warning: cannot save {keep / name}: {e.strerror or e}\n")


if __name__ == "__main__":
    sys.exit(main())
