"""The command line end to end on fake trees: selection, modes, seeds,
failfast, shards, progress, --list, --explain, -v, and every kind of bad input."""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import unittest
from pathlib import Path

import fakes
from fakes import SEED_PARITY_BODY

# Natural mode reproduces only sometimes (seed divisible by 3), forced always.
NATURAL_BODY = """
if [ "$variant" = bad ] && { [ "$mode" = forced ] || [ $((seed % 3)) -eq 0 ]; }; then
  printf 'fatal error: concurrent map writes\\n\\nthread 3 "w" [running]:\\n\\nwrite flag held by thread 2 "o" [map write]:\\n' >&2
  exit 2
fi
echo DONE
"""


class SelectionTests(fakes.TreeTestCase):
    def setUp(self):
        super().setUp()
        self.tree.add_case("2.1-read-write-pair", section="2.1")
        self.tree.add_case("2.2-unsynchronised-goroutines", section="2.2")
        self.tree.add_case("clone-while-writing", group="family")
        self.tree.add_case("control-gc-only", group="control", variants="control")

    def units_run(self, *args):
        proc = self.tree.run("--runs", "2", *args)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        rows = re.findall(r"^(\S+)\s+(bad|fixed|control)\s+(forced|natural)\s", proc.stdout, re.M)
        return [" ".join(r) for r in rows]

    def test_everything_runs_in_forced_mode_by_default(self):
        proc = self.tree.run()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("7 units (forced), 700 runs", proc.stdout)
        self.assertClosingLine(proc, 7, 0)

    def test_ids_globs_and_groups_select_cases(self):
        self.assertEqual(self.units_run("clone-while-writing"),
                         ["clone-while-writing bad forced", "clone-while-writing fixed forced"])
        self.assertEqual(len(self.units_run("2.*")), 4)
        self.assertEqual(self.units_run("control"), ["control-gc-only control forced"])
        self.assertEqual(self.units_run("family", "control-*"),
                         ["clone-while-writing bad forced", "clone-while-writing fixed forced",
                          "control-gc-only control forced"])
        self.assertEqual(len(self.units_run("article")), 4)

    def test_variant_and_mode_filter_units(self):
        self.assertEqual(self.units_run("--variant", "fixed", "2.1-*", "--mode", "both"),
                         ["2.1-read-write-pair fixed forced", "2.1-read-write-pair fixed natural"])
        self.assertEqual(self.units_run("--variant", "bad,control", "--mode", "natural", "family", "control"),
                         ["clone-while-writing bad natural", "control-gc-only control natural"])

    def test_shards_split_the_units_without_overlap(self):
        first = self.units_run("--shard", "1/2")
        second = self.units_run("--shard", "2/2")
        everything = self.units_run()
        self.assertEqual(sorted(first + second), sorted(everything))
        self.assertFalse(set(first) & set(second))
        self.assertTrue(first and second)

    def test_an_empty_shard_passes_with_nothing_to_do(self):
        proc = self.tree.run("--runs", "1", "--shard", "9/9")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertClosingLine(proc, 0, 0)

    def test_list_names_the_selected_cases(self):
        proc = self.tree.run("--list", "family", "control")
        self.assertEqual(proc.returncode, 0)
        self.assertEqual([line.split()[0] for line in proc.stdout.splitlines()],
                         ["id", "clone-while-writing", "control-gc-only"])

    def test_default_runs_differ_by_mode(self):
        proc = self.tree.run("--mode", "both", "--variant", "control")
        self.assertEqual(proc.returncode, 0)
        self.assertRegex(proc.stdout, r"control-gc-only\s+control\s+forced\s.*\s100\s")
        self.assertRegex(proc.stdout, r"control-gc-only\s+control\s+natural\s.*\s200\s")


class BadInputTests(fakes.TreeTestCase):
    def setUp(self):
        super().setUp()
        self.tree.add_case("2.1-read-write-pair")
        self.tree.add_case("control-nil-map-read", group="control", variants="control")

    def assertUsageError(self, proc, *fragments):
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertNoTraceback(proc)
        for f in fragments:
            self.assertIn(f, proc.stderr)

    def test_an_unknown_case_lists_the_known_ones(self):
        proc = self.tree.run("2.9-nonsense")
        self.assertUsageError(proc, "unknown case '2.9-nonsense'", "2.1-read-write-pair", "control-nil-map-read")

    def test_a_glob_matching_nothing_says_so(self):
        self.assertUsageError(self.tree.run("9.*"), "the pattern '9.*' matches no case", "2.1-read-write-pair")
        self.assertUsageError(self.tree.run("clone-[xy]"), "the pattern 'clone-[xy]' matches no case")

    def test_explain_of_an_unknown_case_lists_the_known_ones(self):
        self.assertUsageError(self.tree.run("--explain", "nope"), "unknown case 'nope'", "control-nil-map-read")

    def test_a_malformed_expected_file_names_file_and_line(self):
        path = self.tree.expected_dir / "2.1-read-write-pair.bad.expect"
        path.write_text("exit: 2\nfirst-line: fatal error: x\nconatins: oops\n")
        self.assertUsageError(self.tree.run(), f"{path}:3", "unknown key 'conatins'")

    def test_a_missing_expected_file_is_named(self):
        (self.tree.expected_dir / "control-nil-map-read.control.expect").unlink()
        self.assertUsageError(self.tree.run(), "control-nil-map-read.control.expect: expected file not found")

    def test_a_malformed_manifest_names_file_and_line(self):
        self.tree.write_manifest(fakes.MANIFEST_HEADER + "x\tarticle\tbad,fixed\n")
        self.assertUsageError(self.tree.run(), "manifest.tsv:2", "8 tab-separated columns")

    def test_a_missing_manifest_is_named(self):
        (self.tree.cases_dir / "manifest.tsv").unlink()
        self.assertUsageError(self.tree.run(), "manifest.tsv: manifest not found")

    def test_a_missing_executable_says_how_to_build_it(self):
        (self.tree.bin_dir / "2.1-read-write-pair").unlink()
        self.assertUsageError(self.tree.run(), "missing case executables", "cases/2.1-read-write-pair",
                              "cmake --build")

    def test_bad_option_values_are_refused_without_a_traceback(self):
        for args in (["--shard", "3/2"], ["--shard", "x"], ["--shard", "a/b"], ["--shard", "1/0"],
                     ["--runs", "0"], ["--runs", "x"], ["--runs", "1.5"], ["--runs", "\u0661"], ["--runs", "1_0"],
                     ["--seed", "-1"], ["--seed", "x"], ["--timeout", "0"], ["--timeout", "x"],
                     ["--timeout", "nan"], ["-j", "zero"], ["-j", "2.0"], ["--mode", "sometimes"],
                     ["--mode", "explore", "--bound", "x"], ["--mode", "explore", "--bound", "-1"]):
            proc = self.tree.run(*args)
            self.assertEqual(proc.returncode, 2, args)
            self.assertNoTraceback(proc)
            self.assertIn("usage:", proc.stderr)
            # The runner's own words, never Python's.
            self.assertNotRegex(proc.stderr, r"invalid literal|could not convert|invalid int|invalid float",
                                args)
            self.assertRegex(proc.stderr, r"not a (whole|decimal) number|not a number|must be|expected I/N|"
                                          r"need 1 <= I <= N|invalid choice", args)

    def test_one_file_for_two_reports_is_refused(self):
        out = self.tree.tmp / "report"
        for args, flags in ((["--json", str(out), "--junit", str(out)], "--json and --junit"),
                            (["--junit", str(out), "--html", str(self.tree.tmp / "x" / ".." / "report")],
                             "--junit and --html")):
            proc = self.tree.run(*args)
            self.assertUsageError(proc, f"{flags} name the same file", "usage:")
            self.assertEqual(proc.stdout, "")
            self.assertFalse(out.exists())

    def test_options_that_cannot_be_combined_are_refused_while_parsing(self):
        # Each of these used to be ignored silently (or refused deep inside
        # a mode); now the parser refuses it, before anything is built or
        # written, with usage text and exit status 2.
        out = self.tree.tmp / "never-written"
        for args, message in (
                (["--list", "--json", str(out)], "--list cannot be combined with --json"),
                (["--list", "--junit", str(out)], "--list cannot be combined with --junit"),
                (["--list", "--html", str(out)], "--list cannot be combined with --html"),
                (["--list", "--keep", str(out)], "--list cannot be combined with --keep"),
                (["--list", "--runs", "3"], "--list cannot be combined with --runs"),
                (["--list", "--mode", "natural"], "--list cannot be combined with --mode"),
                (["--list", "--sanitizer", "thread"], "--list cannot be combined with --sanitizer"),
                (["--list", "--explain", "2.1-read-write-pair"], "--list cannot be combined with --explain"),
                (["--explain", "2.1-read-write-pair", "--junit", str(out)],
                 "--explain cannot be combined with --junit"),
                (["--explain", "2.1-read-write-pair", "--json", str(out)], "--explain cannot be combined with --json"),
                (["--explain", "2.1-read-write-pair", "--seed", "3"], "--explain cannot be combined with --seed"),
                (["--explain", "2.1-read-write-pair", "-v"], "--explain cannot be combined with -v"),
                (["--explain", "2.1-read-write-pair", "--shard", "1/2"], "--explain cannot be combined with --shard"),
                (["--explain", "2.1-read-write-pair", "--matrix"], "--explain cannot be combined with --matrix"),
                (["--explain", "2.1-read-write-pair", "clone-while-writing"], "--explain takes one case"),
                (["--matrix-md", str(out)], "--matrix-md goes with --matrix"),
                (["--sanitizer", "thread", "--matrix-md", str(out)], "--matrix-md goes with --matrix"),
                (["--matrix", "--sanitizer", "thread"], "--matrix cannot be combined with --sanitizer"),
                (["--matrix", "--variant", "bad"], "--matrix cannot be combined with --variant"),
                (["--matrix", "--shard", "1/2"], "--matrix cannot be combined with --shard"),
                (["--matrix", "--junit", str(out)], "--matrix cannot be combined with --junit"),
                (["--matrix", "--mode", "forced"], "--matrix cannot be combined with --mode"),
                (["--matrix", "-v"], "--matrix cannot be combined with -v")):
            proc = self.tree.run(*args)
            self.assertUsageError(proc, message, "usage:")
            self.assertEqual(proc.stdout, "", args)
            self.assertFalse(out.exists(), args)

    def test_options_that_do_combine_still_work(self):
        # The checks refuse only what cannot work: --list takes a selection,
        # and the execution and tree options go with everything.
        proc = self.tree.run("--list", "article", "-j", "1", "--timeout", "3")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("2.1-read-write-pair", proc.stdout)
        proc = self.tree.run("--runs", "1", "--mode", "natural", "--seed", "3", "-v", "--failfast",
                             "--variant", "fixed", "--shard", "1/2", "--keep", str(self.tree.tmp / "k"))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def test_the_smoke_test_command_line_works(self):
        # ctest's smoke tests (generated from the registry by cases/CMakeLists.txt)
        # call the runner with exactly this shape, one case and variant each.
        build = self.tree.root / "build"
        for cid, variant in (("2.1-read-write-pair", "bad"), ("control-nil-map-read", "control")):
            proc = subprocess.run(
                [sys.executable, str(fakes.RUNNER), "--root", str(self.tree.root), "--no-build", "--build-dir",
                 str(build), "--runs", "1", "--mode", "forced", cid, "--variant", variant],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            self.assertClosingLine(proc, 1, 0)

    def test_an_unknown_variant_is_refused(self):
        self.assertUsageError(self.tree.run("--variant", "good"), "unknown variant 'good'")

    def test_a_variant_no_selected_case_has_is_refused(self):
        self.assertUsageError(self.tree.run("--variant", "bad", "control-nil-map-read"), "nothing to run")

    def test_an_unwritable_report_file_is_refused_before_running(self):
        self.assertUsageError(self.tree.run("--json", str(self.tree.root / "no" / "dir" / "r.json")),
                              "cannot write the --json file")

    def test_no_cmake_says_what_to_install(self):
        empty = self.tree.tmp / "empty-path"
        empty.mkdir()
        proc = subprocess.run(
            [sys.executable, str(fakes.RUNNER), "--root", str(self.tree.root)],
            env={"PATH": str(empty), "HOME": str(self.tree.tmp)}, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, timeout=30)
        self.assertUsageError(proc, "cmake not found", "apt-get install cmake gcc")

    def test_no_c_compiler_says_what_to_install(self):
        cmake = shutil.which("cmake")
        if cmake is None:
            self.skipTest("needs cmake")
        only_cmake = self.tree.tmp / "only-cmake"
        only_cmake.mkdir()
        os.symlink(cmake, only_cmake / "cmake")
        proc = subprocess.run(
            [sys.executable, str(fakes.RUNNER), "--root", str(self.tree.root)],
            env={"PATH": str(only_cmake), "HOME": str(self.tree.tmp)}, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, timeout=30)
        self.assertUsageError(proc, "no C compiler found", "apt-get install cmake gcc")

    def test_no_shell_ever_sees_the_paths(self):
        # A tree whose path is full of shell syntax still runs, and nothing in
        # it is executed.
        odd = fakes.FakeTree(name="odd dir; touch PWNED $(touch PWNED2) `touch PWNED3`")
        self.addCleanup(odd.cleanup)
        odd.add_case("2.1-read-write-pair")
        proc = odd.run("--runs", "3", "--keep", str(odd.root / "kept $(touch PWNED4)"), cwd=str(odd.tmp))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertClosingLine(proc, 2, 0)
        leftovers = [p.name for p in odd.tmp.rglob("PWNED*")] + [p.name for p in Path.cwd().glob("PWNED*")]
        self.assertEqual(leftovers, [])

    def test_the_runner_never_builds_a_shell_command(self):
        source = fakes.RUNNER.read_text()
        for banned in ("shell=True", "os.system(", "os.popen(", "/bin/sh"):
            self.assertNotIn(banned, source)


class OutcomeReportingTests(fakes.TreeTestCase):
    def test_each_failing_run_prints_a_replay_command_that_reproduces_it(self):
        self.tree.add_case("3.1-value-receiver-copy", body=SEED_PARITY_BODY)
        proc = self.tree.run("--runs", "4", "--seed", "5", "--variant", "bad")
        self.assertEqual(proc.returncode, 1)
        self.assertNoTraceback(proc)
        self.assertClosingLine(proc, 0, 1)
        replays = re.findall(r"^    replay: (.*)$", proc.stdout, re.M)
        self.assertTrue(replays, proc.stdout)
        argv = shlex.split(replays[0])
        self.assertEqual(argv[0], "GOMAP_TIMELINE=1")
        self.assertEqual(argv[2:6], ["--variant", "bad", "--mode", "forced"])
        seed = argv[7]
        again = subprocess.run(argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(again.returncode, 2)
        self.assertEqual(again.stderr.splitlines()[0],
                         f"fatal error: concurrent map read and map write (seed {seed})")
        self.assertIn("first line 'fatal error: concurrent map read and map write", proc.stdout)

    def test_a_failure_says_what_was_expected_and_what_was_seen(self):
        self.tree.add_case("3.1-value-receiver-copy", body=SEED_PARITY_BODY)
        proc = self.tree.run("--runs", "4", "--seed", "5", "--variant", "bad")
        self.assertRegex(proc.stdout, r"run \d+: wrong-signature: first line 'fatal error: concurrent map read and "
                                      r"map write \(seed \d+\)', expected 'fatal error: concurrent map writes'")

    def test_the_reason_names_the_failing_run_with_the_lowest_index(self):
        # Runs finish in any order (-j 4, the odd seeds fail); the report is
        # a function of the seed: the unit's reason and the runs it lists
        # are the failing ones with the lowest indexes, in index order.
        self.tree.add_case("3.1-value-receiver-copy", body=SEED_PARITY_BODY)
        out = self.tree.tmp / "r.json"
        proc = self.tree.run("--runs", "40", "--seed", "5", "--variant", "bad", "-j", "4", "--json", str(out))
        report = json.loads(out.read_text())
        failing = sorted(r["index"] for r in report["runs"] if r["outcome"] == "wrong-signature")
        self.assertGreater(len(failing), 5)
        listed = [int(i) for i in re.findall(r"^  run (\d+): ", proc.stdout, re.M)]
        self.assertEqual(listed, failing[:5])
        first = next(r for r in report["runs"] if r["index"] == failing[0])
        self.assertIn(f"first: wrong-signature: {first['reason']}", report["summary"][0]["reason"])

    def test_counts_of_one_are_singular(self):
        self.tree.add_case("a", variants="control", group="control")
        proc = self.tree.run("--runs", "1")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("1 unit (forced), 1 run, -j", proc.stdout)
        self.assertIn("\n1 run in ", proc.stdout)
        self.assertNotRegex(proc.stdout + proc.stderr, r"\b1 (units|runs|cases|schedules)\b")

    def test_the_same_master_seed_gives_the_same_run_seeds(self):
        self.tree.add_case("3.1-value-receiver-copy", body=SEED_PARITY_BODY)

        def seeds(seed):
            out = self.tree.tmp / f"r{seed}.json"
            self.tree.run("--runs", "6", "--seed", str(seed), "--json", str(out), "-j", "3")
            runs = json.loads(out.read_text())["runs"]
            return sorted((r["variant"], r["index"], r["seed"], r["outcome"]) for r in runs)

        self.assertEqual(seeds(11), seeds(11))
        self.assertNotEqual(seeds(11), seeds(12))

    def test_run_seeds_do_not_depend_on_sharding(self):
        self.tree.add_case("a")
        self.tree.add_case("b")

        def runs(*extra):
            out = self.tree.tmp / "r.json"
            self.tree.run("--runs", "3", "--seed", "21", "--json", str(out), *extra)
            return {(r["case"], r["variant"], r["index"]): r["seed"] for r in json.loads(out.read_text())["runs"]}

        whole = runs()
        first, second = runs("--shard", "1/2"), runs("--shard", "2/2")
        self.assertEqual(len(whole), 12)
        self.assertEqual({**first, **second}, whole)
        self.assertFalse(set(first) & set(second))

    def test_a_random_master_seed_is_printed(self):
        self.tree.add_case("a")
        proc = self.tree.run("--runs", "1")
        m = re.search(r"seed (\d+) \(replay with --seed \1\)", proc.stdout)
        self.assertIsNotNone(m, proc.stdout)

    def test_natural_mode_passes_when_some_runs_reproduce(self):
        self.tree.add_case("2.2-unsynchronised-goroutines", body=NATURAL_BODY)
        proc = self.tree.run("--runs", "30", "--mode", "both", "--seed", "1", "--variant", "bad")
        self.assertEqual(proc.returncode, 0, proc.stdout)
        row = re.search(r"^2\.2-\S+\s+bad\s+natural\s.*$", proc.stdout, re.M).group(0).split()
        matched, not_repro = int(row[-7]), int(row[-6])
        self.assertEqual(matched + not_repro, 30)
        self.assertTrue(matched and not_repro, row)

    def test_failfast_stops_after_the_first_failing_run(self):
        self.tree.add_case("a", body="exit 1\n")
        self.tree.add_case("b")
        proc = self.tree.run("--runs", "50", "--failfast", "-j", "1")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("stopped by --failfast", proc.stdout)
        self.assertClosingLine(proc, 0, 1)
        self.assertRegex(proc.stdout, r"(?m)^a\s+bad\s+forced\s.*\s1\s+0\s+0\s+1\s+0\s.*FAIL$")

    def test_without_failfast_every_run_is_made(self):
        self.tree.add_case("a", body="exit 1\n")
        proc = self.tree.run("--runs", "5")
        self.assertEqual(proc.returncode, 1)
        self.assertRegex(proc.stdout, r"(?m)^a\s+bad\s+forced\s.*\s5\s+0\s+0\s+5\s+0\s.*FAIL$")
        self.assertClosingLine(proc, 0, 2)

    def test_a_hung_case_is_a_timeout_and_fails(self):
        self.tree.add_case("hang", body='[ "$variant" = bad ] && exec sleep 30\necho DONE\n')
        proc = self.tree.run("--runs", "2", "--timeout", "0.3")
        self.assertEqual(proc.returncode, 1)
        self.assertRegex(proc.stdout, r"(?m)^hang\s+bad\s+forced\s.*\s2\s+0\s+0\s+0\s+2\s.*FAIL$")
        self.assertIn("no exit within 0.3s; got SIGABRT", proc.stdout)
        self.assertClosingLine(proc, 1, 1)

    def test_verbose_shows_one_runs_whole_output(self):
        self.tree.add_case("a")
        proc = self.tree.run("--runs", "3", "-v", "--variant", "bad")
        self.assertEqual(proc.returncode, 0)
        self.assertIn('--- stderr\nfatal error: concurrent map writes\n\nthread 3 "writer" [running]:\n', proc.stdout)
        self.assertEqual(proc.stdout.count("--- a bad forced run "), 1)

    def test_verbose_prefers_a_failing_run(self):
        self.tree.add_case("3.1-value-receiver-copy", body=SEED_PARITY_BODY)
        proc = self.tree.run("--runs", "8", "-v", "--variant", "bad", "--seed", "3")
        self.assertRegex(proc.stdout, r"--- 3\.1-value-receiver-copy bad forced run \d+ seed \d+: wrong-signature")

    def test_plain_progress_lines_when_not_on_a_terminal(self):
        self.tree.add_case("a")
        proc = self.tree.run("--runs", "3")
        self.assertNotIn("\r", proc.stderr)
        # Units finish in any order: each gets its own numbered line.
        self.assertRegex(proc.stderr, r"(?m)^\[[12]/2\] a bad forced: 3/3 matched, 0 not reproduced, "
                                      r"0 wrong, 0 timeout: pass$")
        self.assertRegex(proc.stderr, r"(?m)^\[[12]/2\] a fixed forced: ")
        self.assertEqual(sorted(re.findall(r"(?m)^\[(\d)/2\]", proc.stderr)), ["1", "2"])

    def test_a_live_progress_line_on_a_terminal(self):
        self.tree.add_case("a")
        master, slave = os.openpty()
        proc = subprocess.Popen(self.tree.argv("--runs", "200"), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO once the runner is gone
                break
            if not chunk:
                break
            seen += chunk
        out, _ = proc.communicate(timeout=60)
        os.close(master)
        self.assertEqual(proc.returncode, 0)
        self.assertIn(b"\r\x1b[Kruns ", seen)
        self.assertIn(b"units 2/2", seen)
        self.assertNotIn(b"[1/2] a bad forced", seen)  # passing units stay off the terminal
        self.assertTrue(out.decode().endswith("2 passed, 0 failed\n"))


class InterruptTests(fakes.TreeTestCase):
    def interrupt(self, signum):
        """Start a run whose second case hangs, send `signum` once it runs, return (proc, out, err, pids)."""
        pids = self.tree.tmp / "pids"
        self.tree.add_case("1-quick", group="family", variants="control")
        self.tree.add_case("2-sleepy", body=f'echo $$ >> "{pids}"; sleep 30 & echo $! >> "{pids}"; wait\n')
        proc = subprocess.Popen(self.tree.argv("--runs", "5", "-j", "2"), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if pids.exists() and len(pids.read_text().split()) >= 4:
                break
            time.sleep(0.02)
        started = [int(p) for p in pids.read_text().split()]
        self.assertGreaterEqual(len(started), 4)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=20)
        for pid in started:
            self.assertFalse(fakes.still_alive(pid), f"process {pid} outlived the interrupt")
        self.assertNotIn("Traceback", err)
        return proc, out

    def test_ctrl_c_kills_the_children_prints_a_partial_table_and_exits_130(self):
        proc, out = self.interrupt(signal.SIGINT)
        self.assertEqual(proc.returncode, 130, out)
        self.assertRegex(out, r"(?m)^1-quick\s+control\s+forced\s.*\s5\s+5\s+0\s+0\s+0\s.*pass$")
        self.assertNotRegex(out, r"(?m)^2-sleepy\s+bad")
        self.assertIn("interrupted by SIGINT: 2 of 3 units not finished", out)
        self.assertTrue(out.endswith("1 passed, 0 failed\n"), out)

    def test_sigterm_is_handled_like_ctrl_c_with_its_own_status(self):
        proc, out = self.interrupt(signal.SIGTERM)
        self.assertEqual(proc.returncode, 143, out)
        self.assertIn("interrupted by SIGTERM: 2 of 3 units not finished", out)
        self.assertTrue(out.endswith("1 passed, 0 failed\n"), out)

if __name__ == "__main__":
    unittest.main()
