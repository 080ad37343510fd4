"""Layer 2: running processes.

The Executor runs many short processes at once from a single thread and
hands back, for each, its exit status or signal, the head of its stdout and
stderr, and how long it took. It knows nothing of cases or judges: a Job is
an argument vector, an optional environment, and a key the caller uses to
find its own records again.
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional

from .base import UsageError

# After SIGABRT, how long a hung run has to die before it gets SIGKILL; after
# the main process has exited, how long its pipes may stay open.
KILL_GRACE = 1.0
# Each captured stream keeps at most this many bytes (the head); the rest is
# read and counted, so a chatty child never blocks and never eats memory.
CAPTURE_LIMIT = 64 * 1024


@dataclass
class Job:
    """One process to run: its argument vector, what the caller wants back
    with the result (`key`), and its environment (None: the executor's)."""

    argv: List[str]
    key: object = None
    env: Optional[Dict[str, str]] = None


@dataclass
class Finished:
    """What one process did, before any judge looked at it."""

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
        argv = job.argv
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            pid = os.posix_spawn(
                argv[0], argv, self.env if job.env is None else job.env,
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
