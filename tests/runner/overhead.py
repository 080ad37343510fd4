#!/usr/bin/env python3
"""Measure the runner's cost per run against starting a trivial C program.

    python3 tests/runner/overhead.py [--runs N] [--rounds R] [-j N]

Builds a fake catalogue whose only case is a trivial C program (prints DONE,
exits 0), then alternates, R times: N sequential starts of that program
(spawn and wait, nothing else: the cost of starting a trivial C program) and
a runner run of N runs on it. Prints both per-run times and their ratio;
the best round of each counts, since a shared machine only ever adds time.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time

import fakes

TRIVIAL_C = '#include <stdio.h>\nint main(void) { puts("DONE"); return 0; }\n'


def spawn_loop(exe, runs):
    """Seconds per start of `exe`: spawn, wait, nothing else."""
    devnull = os.open(os.devnull, os.O_RDWR)
    argv = [str(exe), "--variant", "control", "--mode", "forced", "--seed", "1"]
    t0 = time.perf_counter()
    for _ in range(runs):
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[
            (os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
        os.waitpid(pid, 0)
    os.close(devnull)
    return (time.perf_counter() - t0) / runs


def runner_run(tree, runs, jobs):
    """Seconds per run as the runner itself reports them (wall time / runs)."""
    proc = tree.run("--runs", str(runs), "-j", str(jobs), "--seed", "1", timeout=600)
    if proc.returncode != 0:
        sys.exit(proc.stdout + proc.stderr)
    m = re.search(r"^(\d+) runs in ([\d.]+)s wall", proc.stdout, re.M)
    return float(m.group(2)) / int(m.group(1))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("-j", "--jobs", type=int, default=fakes.cmdline.cpu_count())
    args = p.parse_args()
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        sys.exit("needs a C compiler")
    tree = fakes.FakeTree()
    try:
        tree.add_case("trivial", group="control", variants="control", body=None)
        src = tree.tmp / "trivial.c"
        src.write_text(TRIVIAL_C)
        subprocess.run([cc, "-O2", "-o", str(tree.bin_dir / "trivial"), str(src)], check=True)
        starts, runs = [], []
        for r in range(args.rounds):
            starts.append(spawn_loop(tree.bin_dir / "trivial", args.runs))
            runs.append(runner_run(tree, args.runs, args.jobs))
            print(f"round {r + 1}: trivial start {starts[-1] * 1e3:.3f} ms, "
                  f"runner {runs[-1] * 1e3:.3f} ms per run (-j {args.jobs})")
        best_start, best_run = min(starts), min(runs)
        print(f"best: trivial start {best_start * 1e3:.3f} ms, runner {best_run * 1e3:.3f} ms per run, "
              f"ratio {best_run / best_start:.2f} (bar: 2.00)")
        with open("/proc/loadavg") as f:
            print(f"load average: {f.read().split()[0]}")
    finally:
        tree.cleanup()


if __name__ == "__main__":
    main()
