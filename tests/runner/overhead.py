#!/usr/bin/env python3
"""Measure the runner's cost per run against starting a trivial C program.

    python3 tests/runner/overhead.py [--runs N] [--rounds R] [-j N]

Builds a fake catalogue whose only case is a trivial C program (prints DONE,
exits 0), then alternates, R times: N sequential starts of that program
(spawn and wait, nothing else: the cost of starting a trivial C program) and
a runner run of N runs on it. Prints both per-run times and their ratio;
the best round of each counts, since a shared machine only ever adds time.

It prints the same ratio in CPU time too (the loop's own CPU plus its
children's, against the runner's plus its cases'): on a machine loaded by
other work, wall time per run follows the load, while CPU time per run
stays what the runner itself costs.
"""

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import time

import fakes

TRIVIAL_C = '#include <stdio.h>\nint main(void) { puts("DONE"); return 0; }\n'


def cpu_self_and_children():
    """CPU seconds used so far by this process and its waited-for descendants."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def spawn_loop(exe, runs):
    """(wall, CPU) seconds per start of `exe`: spawn, wait, nothing else."""
    devnull = os.open(os.devnull, os.O_RDWR)
    me0, kids0 = cpu_self_and_children()
    argv = [str(exe), "--variant", "control", "--mode", "forced", "--seed", "1"]
    t0 = time.perf_counter()
    for _ in range(runs):
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[
            (os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
        os.waitpid(pid, 0)
    wall = (time.perf_counter() - t0) / runs
    me1, kids1 = cpu_self_and_children()
    os.close(devnull)
    return wall, (me1 - me0 + kids1 - kids0) / runs


def runner_run(tree, runs, jobs):
    """(wall, CPU) seconds per run: wall as the runner itself reports it, CPU
    of the runner and its cases."""
    _, kids0 = cpu_self_and_children()
    proc = tree.run("--runs", str(runs), "-j", str(jobs), "--seed", "1", timeout=600)
    if proc.returncode != 0:
        sys.exit(proc.stdout + proc.stderr)
    _, kids1 = cpu_self_and_children()
    m = re.search(r"^(\d+) runs in ([\d.]+)s wall", proc.stdout, re.M)
    return float(m.group(2)) / int(m.group(1)), (kids1 - kids0) / runs


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
        starts, runs, cpu_ratios = [], [], []
        for r in range(args.rounds):
            start, start_cpu = spawn_loop(tree.bin_dir / "trivial", args.runs)
            run, run_cpu = runner_run(tree, args.runs, args.jobs)
            starts.append(start)
            runs.append(run)
            cpu_ratios.append(run_cpu / start_cpu)
            print(f"round {r + 1}: trivial start {start * 1e3:.3f} ms, "
                  f"runner {run * 1e3:.3f} ms per run (-j {args.jobs}); CPU: start {start_cpu * 1e3:.3f} ms, "
                  f"runner {run_cpu * 1e3:.3f} ms per run, ratio {cpu_ratios[-1]:.2f}")
        best_start, best_run = min(starts), min(runs)
        print(f"best: trivial start {best_start * 1e3:.3f} ms, runner {best_run * 1e3:.3f} ms per run, "
              f"ratio {best_run / best_start:.2f} (bar: 2.00)")
        print(f"CPU time: ratio {sorted(cpu_ratios)[len(cpu_ratios) // 2]:.2f} (median of {len(cpu_ratios)} rounds)")
        with open("/proc/loadavg") as f:
            print(f"load average: {f.read().split()[0]}")
    finally:
        tree.cleanup()


if __name__ == "__main__":
    main()
