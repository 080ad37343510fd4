"""Running processes: exit statuses and signals, bounded capture, timeouts,
SIGABRT then SIGKILL for the whole process group, and stray children."""

import os
import shutil
import signal
import subprocess
import tempfile
import textwrap
import threading
import time
import unittest
from pathlib import Path

import fakes
from fakes import base, execution, expect, manifest, units

# A small C program that blocks SIGABRT (so only SIGKILL ends it), forks a child that
# does the same, writes both pids to the file named by $STUBBORN_PIDS, then waits.
STUBBORN_C = r"""
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGABRT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pid_t child = fork();
	if (child == 0) {
		for (;;)
			pause();
	}
	FILE *f = fopen(getenv("STUBBORN_PIDS"), "w");
	fprintf(f, "%d %d\n", (int)getpid(), (int)child);
	fclose(f);
	for (;;)
		pause();
}
"""


class ExecutorTestCase(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="runner-proc-"))
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.expect = expect.parse_expect_text(fakes.FIXED_EXPECT, Path("x"))

    def script(self, name, body):
        path = self.dir / name
        path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
        path.chmod(0o755)
        return path

    def unit(self, binary, runs=1):
        case = manifest.Case(binary.name, "family", "-", ["fixed"], "t", "-", "-")
        return units.Unit(case=case, variant="fixed", mode="forced", expect=self.expect, runs=runs, binary=binary)

    def execute(self, binary, runs=1, jobs=1, timeout=10.0, env=None, capture_limit=execution.CAPTURE_LIMIT,
                use_pidfd=True):
        u = self.unit(binary, runs)
        full_env = dict(os.environ)
        full_env.update(env or {})
        ex = execution.Executor(jobs, timeout, full_env, capture_limit)
        if not use_pidfd:
            ex._use_pidfd = False
        done = []
        t0 = time.monotonic()
        ex.run((execution.Job(u.argv(1000 + k), (u, k, 1000 + k)) for k in range(runs)), lambda fin: done.append(fin) and False)
        self.elapsed = time.monotonic() - t0
        self.assertEqual(ex.children, {})
        return done

    def kill_later(self, *pids):
        def kill():
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.addCleanup(kill)


class ExitTests(ExecutorTestCase):
    def test_exit_status_output_and_arguments_are_collected(self):
        exe = self.script("echoer", 'echo "out $*"; echo "err $GOMAP_TIMELINE" >&2; exit 3\n')
        (fin,) = self.execute(exe, env={"GOMAP_TIMELINE": "1"})
        self.assertEqual((fin.status, fin.signum, fin.timed_out), (3, None, False))
        self.assertEqual(fin.stdout, b"out --variant fixed --mode forced --seed 1000\n")
        self.assertEqual(fin.stderr, b"err 1\n")
        self.assertGreater(fin.ms, 0.0)

    def test_a_signal_is_reported_as_the_signal(self):
        exe = self.script("segv", "kill -SEGV $$\n")
        (fin,) = self.execute(exe)
        self.assertEqual((fin.status, fin.signum), (None, signal.SIGSEGV))

    def test_every_run_gets_its_own_seed_and_all_runs_finish_in_parallel(self):
        exe = self.script("seed", 'echo "$6"\n')
        done = self.execute(exe, runs=20, jobs=4)
        self.assertEqual(sorted(int(f.stdout) for f in done), list(range(1000, 1020)))

    def test_the_child_runs_in_a_session_of_its_own(self):
        exe = self.script("sid", "ps -o sid= -p $$\n")
        (fin,) = self.execute(exe)
        self.assertNotEqual(int(fin.stdout), os.getsid(0))

    def test_stdin_is_empty(self):
        exe = self.script("stdin", "cat; echo end\n")
        (fin,) = self.execute(exe)
        self.assertEqual(fin.stdout, b"end\n")

    def test_a_missing_executable_is_a_usage_error(self):
        with self.assertRaises(base.UsageError):
            self.execute(self.dir / "nope")


class CaptureTests(ExecutorTestCase):
    def test_capture_keeps_the_head_and_counts_the_rest(self):
        exe = self.script("chatty", "echo first >&2; head -c 3000000 /dev/zero | tr '\\0' x >&2; echo DONE\n")
        (fin,) = self.execute(exe)
        self.assertEqual(fin.status, 0)
        self.assertEqual(len(fin.stderr), execution.CAPTURE_LIMIT)
        self.assertTrue(fin.stderr.startswith(b"first\nxxx"))
        self.assertEqual(fin.dropped, 6 + 3000000 - execution.CAPTURE_LIMIT)
        self.assertEqual(fin.stdout, b"DONE\n")

    def test_a_smaller_limit_is_honoured_on_both_streams(self):
        exe = self.script("both", "printf '%0100d' 0; printf '%0100d' 0 >&2\n")
        (fin,) = self.execute(exe, capture_limit=10)
        self.assertEqual((len(fin.stdout), len(fin.stderr), fin.dropped), (10, 10, 180))


class TimeoutTests(ExecutorTestCase):
    def test_a_hung_run_gets_sigabrt_for_its_group(self):
        pidfile = self.dir / "pids"
        exe = self.script("hang", f"sleep 30 & echo $! > {pidfile}; echo started >&2; wait\n")
        (fin,) = self.execute(exe, timeout=0.5)
        grandchild = int(pidfile.read_text())
        self.kill_later(grandchild)
        self.assertTrue(fin.timed_out)
        self.assertEqual(fin.signum, signal.SIGABRT)
        self.assertEqual(fin.stderr, b"started\n")
        self.assertLess(self.elapsed, 0.5 + execution.KILL_GRACE)
        self.assertFalse(fakes.still_alive(grandchild), "the grandchild outlived the timeout")

    def test_a_run_that_survives_sigabrt_gets_sigkill(self):
        log = self.dir / "log"
        exe = self.script("stubborn", f"""\
            trap 'echo got-abrt >> {log}' ABRT
            echo $$ > {log}.pid
            while :; do sleep 0.05; done
            """)
        (fin,) = self.execute(exe, timeout=0.4)
        self.assertTrue(fin.timed_out)
        self.assertEqual(fin.signum, signal.SIGKILL)
        self.assertIn("got-abrt", log.read_text())
        self.assertGreaterEqual(self.elapsed, 0.4 + execution.KILL_GRACE - 0.05)
        self.assertFalse(fakes.still_alive(int((self.dir / "log.pid").read_text())))

    @unittest.skipUnless(shutil.which("cc"), "needs a C compiler")
    def test_a_c_program_blocking_sigabrt_and_its_child_are_killed(self):
        src = self.dir / "stubborn.c"
        src.write_text(STUBBORN_C)
        exe = self.dir / "stubborn"
        subprocess.run(["cc", "-o", str(exe), str(src)], check=True)
        pids = self.dir / "pids"
        (fin,) = self.execute(exe, timeout=0.3, env={"STUBBORN_PIDS": str(pids)})
        main_pid, child_pid = map(int, pids.read_text().split())
        self.kill_later(main_pid, child_pid)
        self.assertTrue(fin.timed_out)
        self.assertEqual(fin.signum, signal.SIGKILL)
        self.assertFalse(fakes.still_alive(main_pid))
        self.assertFalse(fakes.still_alive(child_pid), "the forked child outlived its run")

    def test_a_fast_run_is_not_a_timeout(self):
        exe = self.script("quick", "echo DONE\n")
        (fin,) = self.execute(exe, timeout=5)
        self.assertFalse(fin.timed_out)


class StrayChildTests(ExecutorTestCase):
    def test_a_background_child_holding_the_pipes_is_killed_when_the_run_ends(self):
        pidfile = self.dir / "pid"
        exe = self.script("leaver", f"sleep 30 & echo $! > {pidfile}; echo DONE; exit 0\n")
        (fin,) = self.execute(exe, timeout=20)
        child = int(pidfile.read_text())
        self.kill_later(child)
        self.assertEqual((fin.status, fin.timed_out), (0, False))
        self.assertEqual(fin.stdout, b"DONE\n")
        self.assertLess(self.elapsed, 5)
        self.assertFalse(fakes.still_alive(child))

    def test_a_child_that_left_the_group_cannot_hold_the_run_forever(self):
        pidfile = self.dir / "pid"
        # setsid puts the sleeper beyond the group; it still holds stdout.
        exe = self.script("escaper", f"setsid sh -c 'echo $$ > {pidfile}; exec sleep 30' & sleep 0.2; echo DONE\n")
        (fin,) = self.execute(exe, timeout=20)
        self.kill_later(int(pidfile.read_text()))
        self.assertEqual((fin.status, fin.timed_out), (0, False))
        self.assertLess(self.elapsed, 0.2 + execution.KILL_GRACE + 2)


class WithoutPidfdTests(ExecutorTestCase):
    """Kernels before 5.3 have no pidfd: exits are then found by polling."""

    def test_statuses_and_signals_without_pidfd(self):
        exe = self.script("mixed", 'case "$6" in 1000) exit 2 ;; 1001) kill -ABRT $$ ;; esac; echo "seed $6"\n')
        done = sorted(self.execute(exe, runs=6, jobs=3, use_pidfd=False), key=lambda f: f.job.key[2])
        self.assertEqual([(f.status, f.signum) for f in done[:3]],
                         [(2, None), (None, signal.SIGABRT), (0, None)])
        self.assertEqual(done[5].stdout, b"seed 1005\n")

    def test_timeout_without_pidfd(self):
        exe = self.script("hang", "exec sleep 30\n")
        (fin,) = self.execute(exe, timeout=0.3, use_pidfd=False)
        self.assertTrue(fin.timed_out)
        self.assertEqual(fin.signum, signal.SIGABRT)


class InterruptTests(ExecutorTestCase):
    def test_sigint_kills_every_child_and_drops_unfinished_runs(self):
        pids = self.dir / "pids"
        exe = self.script("sleeper", f"echo $$ >> {pids}; exec sleep 30\n")
        u = self.unit(exe, runs=10)
        ex = execution.Executor(2, 60, dict(os.environ))
        done = []

        def interrupt_when_both_run():
            for _ in range(500):
                if pids.exists() and len(pids.read_text().split()) == 2:
                    break
                time.sleep(0.01)
            os.kill(os.getpid(), signal.SIGINT)

        threading.Thread(target=interrupt_when_both_run, daemon=True).start()
        jobs = (execution.Job(u.argv(k), (u, k, k)) for k in range(10))
        t0 = time.monotonic()
        ex.run(jobs, lambda fin: done.append(fin))
        self.assertEqual(ex.interrupted, signal.SIGINT)
        self.assertEqual(done, [])
        self.assertLess(time.monotonic() - t0, 5)
        started = [int(p) for p in pids.read_text().split()]
        self.assertGreaterEqual(len(started), 2)
        for pid in started:
            self.assertFalse(fakes.still_alive(pid))
        # The runner's own handler is back in place.
        self.assertIs(signal.getsignal(signal.SIGINT), signal.default_int_handler)


if __name__ == "__main__":
    unittest.main()
