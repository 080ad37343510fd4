"""The Go twins: the judge, the build constraints, --go and --against-go.

On fake trees with a fake Go toolchain (fakes.FAKE_GO) and fake twins
(shell scripts), so no Go is needed; one end-to-end test at the bottom uses
the real toolchain and the real twins, and is skipped, saying why, when
either is missing.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path
from unittest import mock

import fakes
from fakes import base, expect

from gomaprun import gobuild
from gomaprun.judges import gotwin
from gomaprun.runloop import pairs as pairs_mod

GO_BAD_EXPECT = """exit: 2
first-line: fatal error: concurrent map writes
natural-also: fatal error: concurrent map read and map write
natural-also-match: fatal error: .+ \\(concurrent map writes\\?\\)
contains: ^thread N .*\\[running\\]:$
go-contains: ^goroutine \\d+ \\[running\\]:$
"""

TRACEBACK = "fatal error: concurrent map writes\n\ngoroutine 7 [running]:\nmain.writer()\n"


def exp_of(text):
    return expect.parse_expect_text(textwrap.dedent(text), Path("x.expect"))


class ClassifyTests(unittest.TestCase):
    bad = exp_of(GO_BAD_EXPECT)
    fixed = exp_of(fakes.FIXED_EXPECT)

    def go(self, exp, status, stderr="", stdout="", signum=None, timed_out=False):
        return gotwin.classify_go(exp, status, signum, stdout, stderr, timed_out)

    def test_exit_status_and_first_line_match(self):
        self.assertEqual(self.go(self.bad, 2, TRACEBACK), (base.MATCHED, ""))
        # natural-also and natural-also-match lines are Go's too.
        other = TRACEBACK.replace("concurrent map writes", "concurrent map read and map write")
        self.assertEqual(self.go(self.bad, 2, other)[0], base.MATCHED)
        self.assertEqual(self.go(self.bad, 2, "fatal error: bucket chain loops (concurrent map writes?)\n"
                                              "goroutine 1 [running]:\n")[0], base.MATCHED)

    def test_the_c_reports_body_lines_do_not_apply(self):
        # `contains: ^thread N ...` describes the C report; Go's traceback has
        # no such line and still matches.
        self.assertIn("thread N", self.bad.contains[0].text)
        self.assertEqual(self.go(self.bad, 2, TRACEBACK)[0], base.MATCHED)

    def test_another_first_line_or_status_is_wrong(self):
        out, reason = self.go(self.bad, 2, "panic: something else\n")
        self.assertEqual(out, base.WRONG)
        self.assertIn("first line", reason)
        out, reason = self.go(self.bad, 1, TRACEBACK)
        self.assertEqual(out, base.WRONG)
        self.assertIn("exit status 1", reason)
        self.assertEqual(self.go(self.bad, None, "", signum=11)[0], base.WRONG)
        self.assertEqual(self.go(self.bad, None, "", timed_out=True)[0], base.TIMEOUT)

    def test_go_contains_is_checked(self):
        out, reason = self.go(self.bad, 2, "fatal error: concurrent map writes\n\nmain.writer()\n")
        self.assertEqual(out, base.WRONG)
        self.assertIn("go-contains", reason)

    def test_a_go_map_fault_counts_only_where_go_natural_also_match_allows(self):
        fault = ("panic: runtime error: invalid memory address or nil pointer dereference\n"
                 "[signal SIGSEGV: segmentation violation code=0x1 addr=0xd8 pc=0x0]\n\n"
                 "goroutine 20 [running]:\nplugin/unnamed.Put({0xc0000ac096?, 0x7?}, 0xc)\n")
        out, reason = self.go(self.bad, 2, fault)
        self.assertEqual(out, base.WRONG)
        self.assertIn("first line", reason)
        allowed = exp_of(GO_BAD_EXPECT + "go-natural-also-match: panic: runtime error: invalid memory address "
                         "or nil pointer dereference\n")
        self.assertEqual(self.go(allowed, 2, fault), (base.MATCHED, ""))
        # go-contains still applies to such a run.
        self.assertEqual(self.go(allowed, 2, fault.replace("goroutine 20 [running]:", "goroutine 20"))[0],
                         base.WRONG)
        # A C run never takes it: the signature judge ignores the directive.
        from gomaprun.judges import signature
        self.assertEqual(signature.classify(allowed, "natural", 2, None, "", fault)[0], base.WRONG)

    def test_a_clean_exit_of_a_trigger_is_not_reproduced(self):
        self.assertEqual(self.go(self.bad, 0, "", "DONE\n")[0], base.NOT_REPRODUCED)

    def test_a_failed_go_test_check_is_unseen_corruption(self):
        out, _ = self.go(self.bad, 1, "", "=== RUN   TestScores\n--- FAIL: TestScores/dave (0.00s)\nFAIL\n")
        self.assertEqual(out, base.UNSEEN_CORRUPTION)

    def test_clean_variants_need_exit_0_done_and_no_report(self):
        self.assertEqual(self.go(self.fixed, 0, "", "DONE\n"), (base.MATCHED, ""))
        self.assertEqual(self.go(self.fixed, 0, "", "")[0], base.WRONG)
        self.assertEqual(self.go(self.fixed, 0, TRACEBACK, "DONE\n")[0], base.WRONG)
        self.assertEqual(self.go(self.fixed, 2, TRACEBACK)[0], base.WRONG)

    def test_the_judge_runs_natural_only(self):
        self.assertEqual(gotwin.GO_TWIN.modes(None, "bad", self.bad, ["forced", "natural"]), ["natural"])


class ExpectTests(unittest.TestCase):
    def test_go_contains_is_parsed_and_goes_with_exit_2_only(self):
        exp = exp_of(GO_BAD_EXPECT)
        self.assertEqual([p.text for p in exp.go_contains], [r"^goroutine \d+ \[running\]:$"])
        with self.assertRaises(base.UsageError) as cm:
            exp_of("exit: 0\nstdout: DONE\ngo-contains: ^goroutine\n")
        self.assertIn("go-contains", str(cm.exception))
        with self.assertRaises(base.UsageError):
            exp_of("exit: 2\nfirst-line: x\ngo-contains: (\n")
        with self.assertRaises(base.UsageError) as cm:
            exp_of("exit: 0\nstdout: DONE\ngo-natural-also-match: panic: x\n")
        self.assertIn("go-natural-also-match", str(cm.exception))


def tc(minor):
    return gobuild.Toolchain("go", f"go1.{minor}.1", minor, "linux", "amd64", True, False)


class ConstraintTests(unittest.TestCase):
    def test_a_newer_go_is_needed(self):
        self.assertEqual(gobuild.skip_reason("go1.21", tc(19)), "needs Go 1.21")
        self.assertIsNone(gobuild.skip_reason("go1.21", tc(21)))
        self.assertIsNone(gobuild.skip_reason("go1.18", tc(19)))

    def test_expressions(self):
        self.assertTrue(gobuild.constraint_holds("linux && (amd64 || arm64) && !windows", tc(19)))
        self.assertFalse(gobuild.constraint_holds("linux && !cgo", tc(19)))
        self.assertEqual(gobuild.skip_reason("go1.21 && linux", tc(19)), "needs Go 1.21")
        self.assertIn("does not hold", gobuild.skip_reason("windows", tc(19)))
        with self.assertRaises(base.UsageError):
            gobuild.constraint_holds("linux &&", tc(19))

    def test_the_constraint_line_is_read_before_the_package_clause(self):
        d = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, d)
        (d / "a.go").write_text("//go:build go1.21\n\n// comment\npackage main\n")
        (d / "b.go").write_text("// no constraint\npackage main\n//go:build go1.99\n")
        self.assertEqual(gobuild.build_constraint(d / "a.go"), "go1.21")
        self.assertIsNone(gobuild.build_constraint(d / "b.go"))


class GoTreeTestCase(fakes.TreeTestCase):
    """A fake tree with C cases, their twins and a fake toolchain in self.go."""

    def setUp(self):
        super().setUp()
        self.go = self.tree.fake_go()
        self.tree.add_case("2.1-read-write-pair", section="2.1")
        self.tree.add_twin("2.1-read-write-pair")
        self.tree.add_case("clone-while-writing", group="family")
        self.tree.add_twin("clone-while-writing", constraint="go1.21")
        self.tree.add_case("control-gc-only", group="control", variants="control")
        self.tree.add_twin("control-gc-only")

    def run_go(self, *args, **kw):
        """The runner on the fake tree with the fake toolchain (--no-build unless asked)."""
        return self.tree.run(*args, env={"GO": str(self.go)}, **kw)

    def builds(self):
        """How many `go build` commands the fake toolchain has run."""
        return sum(1 for line in self.go_log().split("\n") if line.startswith("build "))

    def go_log(self):
        p = self.go.parent / "go.log"
        return p.read_text() if p.exists() else ""


class GoModeTests(GoTreeTestCase):
    def build_then_run(self, *args):
        # The fake tree has no CMake project: --go builds only the twins, so
        # the build step runs without --no-build.
        full = [sys.executable, str(fakes.RUNNER), "--root", str(self.tree.root), *args]
        env = dict(os.environ, GO=str(self.go))
        return subprocess.run(full, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=120, env=env)

    def test_twins_are_built_once_and_judged(self):
        js, xml = self.tree.tmp / "go.json", self.tree.tmp / "go.xml"
        proc = self.build_then_run("--go", "--runs", "3", "--seed", "1", "--json", str(js), "--junit", str(xml))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertNoTraceback(proc)
        log = self.go_log()
        self.assertIn("build -trimpath -o", log)
        self.assertNotIn("clone-while-writing", log, "a twin needing Go 1.21 was built")
        self.assertTrue((self.tree.root / "build" / "go" / "cases" / "2.1-read-write-pair").is_file())
        self.assertRegex(proc.stdout, r"2\.1-read-write-pair\s+bad\s+natural \(Go\)\s.*\s3\s+3\s+0\s+0\s+0\s+0\s.*pass")
        self.assertRegex(proc.stdout, r"clone-while-writing\s+bad\s+natural \(Go\)\s.*skipped")
        self.assertIn("skipped: clone-while-writing bad natural (Go): needs Go 1.21", proc.stdout)
        self.assertClosingLine(proc, 3, 0, 2)
        report = json.loads(js.read_text())
        self.assertEqual(report["skipped"], 2)
        self.assertEqual(report["go_version"], "go1.19.8")
        clone = [u for u in report["summary"] if u["case"] == "clone-while-writing"]
        self.assertEqual({u["verdict"] for u in clone}, {"skipped"})
        self.assertEqual({u["skipped"] for u in clone}, {"needs Go 1.21"})
        skipped = ET.parse(xml).getroot().findall(".//testcase/skipped")
        self.assertEqual([s.get("message") for s in skipped], ["needs Go 1.21"] * 2)
        # Up to date: a second run builds nothing; a touched source rebuilds its twin.
        before = self.builds()
        proc = self.build_then_run("--go", "--runs", "1", "2.1-read-write-pair")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(self.builds(), before)
        src = self.tree.cases_dir / "2.1-read-write-pair.go"
        os.utime(src, (src.stat().st_atime, src.stat().st_mtime + 10))
        proc = self.build_then_run("--go", "--runs", "1", "2.1-read-write-pair")
        self.assertEqual(self.builds(), before + 1)

    def test_another_toolchain_version_rebuilds_every_twin(self):
        proc = self.build_then_run("--go", "--runs", "1", "--variant", "fixed,control")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        before = self.builds()
        self.assertEqual(before, 2)  # 2.1 and the control; the clone twin needs Go 1.21
        self.go = self.tree.fake_go("go1.20.3")
        proc = self.build_then_run("--go", "--runs", "1", "--variant", "fixed,control")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(self.builds(), before + 2)
        self.assertIn("built 2 Go twins with go1.20.3", proc.stderr)

    def test_a_newer_toolchain_builds_the_twin(self):
        self.go = self.tree.fake_go("go1.21.0")
        proc = self.build_then_run("--go", "--runs", "2", "clone-while-writing")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertClosingLine(proc, 2, 0)

    def test_a_twin_with_another_message_fails(self):
        self.tree.add_twin("2.1-read-write-pair", body=fakes.GOOD_TWIN_BODY.replace(
            "concurrent map writes", "concurrent map iteration and map write"))
        proc = self.build_then_run("--go", "--runs", "2", "2.1-read-write-pair")
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("first line 'fatal error: concurrent map iteration and map write'", proc.stdout)
        self.assertClosingLine(proc, 1, 1)

    def test_no_toolchain_says_what_to_install(self):
        empty = self.tree.tmp / "empty-path"
        empty.mkdir()
        # No Go anywhere: on PATH, named, or at the generation's usual place
        # (this machine may have one there, so that place is emptied here).
        with mock.patch.dict(gobuild.GO_FOR_GENERATION, {"bucket": ("GO119", (str(empty / "go"),))}):
            environ = {"PATH": str(empty)}
            self.assertIsNone(gobuild.find_go(environ))
            message = gobuild.missing_toolchain_message(environ)
            self.assertIn("no `go` on PATH (and neither GO119 nor GO is set)", message)
            self.assertIn("apt-get install golang-1.19-go", message)
        for env in ({"GO119": str(self.tree.tmp / "no-such-go")}, {"GO": str(self.tree.tmp / "no-such-go")}):
            for option in ("--go", "--against-go"):
                full = [sys.executable, str(fakes.RUNNER), "--root", str(self.tree.root), "--no-build", option]
                proc = subprocess.run(full, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True, timeout=60, env=dict(os.environ, **env))
                self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
                self.assertNoTraceback(proc)
                self.assertIn("apt-get install golang-1.19-go", proc.stderr)
                self.assertIn(f"{next(iter(env))}={env[next(iter(env))]} is not an executable", proc.stderr)
                self.assertIn("Go toolchain", proc.stderr)

    def test_the_default_run_needs_no_go(self):
        empty = self.tree.tmp / "empty-path"
        empty.mkdir()
        proc = self.tree.run("--runs", "1", env={"PATH": os.pathsep.join([str(empty), "/usr/bin", "/bin"]),
                                                  "GO": str(self.tree.tmp / "no-such-go")})
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertNotIn("Go", proc.stdout.split("\n")[0])

    def test_options_that_cannot_be_combined(self):
        for args, message in ((["--against-go", "--mode", "forced"], "--against-go cannot be combined with --mode"),
                              (["--against-go", "--mode", "both"], "--against-go cannot be combined with --mode"),
                              (["--go", "--mode", "forced"], "--go cannot be combined with --mode forced"),
                              (["--against-go", "--sanitizer", "thread"], "cannot be combined with --sanitizer"),
                              (["--against-go", "--matrix"], "cannot be combined with --matrix"),
                              (["--go", "--matrix"], "cannot be combined with --matrix"),
                              (["--against-go", "--shard", "1/2"], "--against-go cannot be combined with --shard"),
                              (["--go", "--against-go"], "--go cannot be combined with --against-go"),
                              (["--list", "--against-go"], "--list cannot be combined with --against-go")):
            proc = self.run_go(*args)
            self.assertEqual(proc.returncode, 2, args)
            self.assertIn(message, proc.stderr, args)
            self.assertEqual(self.go_log(), "", "refused while parsing, before the toolchain is asked")


class AgainstGoTests(GoTreeTestCase):
    def against(self, *args):
        # The fake tree has no CMake project, so the C side cannot be built:
        # the twins are built by a --go run first, then --against-go runs
        # with --no-build.
        build = subprocess.run([sys.executable, str(fakes.RUNNER), "--root", str(self.tree.root), "--go",
                                "--runs", "1", "--variant", "fixed,control"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=120, env=dict(os.environ, GO=str(self.go)))
        self.assertEqual(build.returncode, 0, build.stdout + build.stderr)
        return self.run_go("--no-build", "--against-go", *args)

    def test_agreement_passes_and_json_carries_both_sides(self):
        js, xml, page = self.tree.tmp / "a.json", self.tree.tmp / "a.xml", self.tree.tmp / "a.html"
        proc = self.against("--runs", "4", "--seed", "2", "--json", str(js), "--junit", str(xml),
                            "--html", str(page))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertNoTraceback(proc)
        self.assertRegex(proc.stdout, r"2\.1-read-write-pair\s+bad\s+4\s+4/4\s+4/4\s+yes\s+pass\s+"
                                      r"fatal error: concurrent map writes")
        self.assertRegex(proc.stdout, r"clone-while-writing\s+bad\s+4\s+4/4\s+skipped\s+-\s+skipped\s+"
                                      r".*needs Go 1\.21")
        self.assertClosingLine(proc, 3, 0, 2)
        report = json.loads(js.read_text())
        self.assertEqual((report["passed"], report["failed"], report["skipped"]), (3, 0, 2))
        bad = next(p for p in report["pairs"] if p["case"] == "2.1-read-write-pair" and p["variant"] == "bad")
        self.assertTrue(bad["agree"])
        for side in ("c", "go"):
            self.assertEqual((bad[side]["runs"], bad[side]["matched"], bad[side]["exit"], bad[side]["first_line"]),
                             (4, 4, 2, "fatal error: concurrent map writes"))
        clone = next(p for p in report["pairs"] if p["case"] == "clone-while-writing" and p["variant"] == "bad")
        self.assertEqual((clone["verdict"], clone["go"]["skipped"], clone["c"]["matched"]),
                         ("skipped", "needs Go 1.21", 4))
        suite = ET.parse(xml).getroot().find("testsuite")
        self.assertEqual((suite.get("tests"), suite.get("failures"), suite.get("skipped")), ("5", "0", "2"))
        text = page.read_text()
        self.assertIn("real Go, same program", text)
        self.assertIn('<span class="agree">agree</span>', text)
        self.assertIn("skipped, needs Go 1.21", text)

    def test_a_disagreement_in_first_line_fails(self):
        # The planted difference: the twin prints another message.
        self.tree.add_twin("2.1-read-write-pair", body=fakes.GOOD_TWIN_BODY.replace(
            "concurrent map writes", "concurrent map read and map write"))
        js, page = self.tree.tmp / "a.json", self.tree.tmp / "a.html"
        proc = self.against("--runs", "3", "2.1-read-write-pair", "--json", str(js), "--html", str(page))
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        # The twin's runs break its own policy too (another first line: 0/3 matched).
        self.assertRegex(proc.stdout, r"2\.1-read-write-pair\s+bad\s+3\s+3/3\s+0/3\s+NO\s+FAIL\s+"
                                      r"fatal error: concurrent map writes \| fatal error: concurrent map read")
        self.assertIn("C case and Go twin disagree: first line", proc.stdout)
        self.assertClosingLine(proc, 1, 1)
        bad = json.loads(js.read_text())["pairs"][0]
        self.assertEqual((bad["verdict"], bad["agree"]), ("FAIL", False))
        self.assertIn('class="card fail"', page.read_text())
        self.assertIn("DISAGREE", page.read_text())
        self.assertIn("cases and variants 1 passed, 1 failed", page.read_text())

    def test_a_disagreement_in_exit_status_fails(self):
        self.tree.add_twin("2.1-read-write-pair", body=fakes.GOOD_TWIN_BODY.replace("exit 2", "exit 3"))
        proc = self.against("--runs", "2", "2.1-read-write-pair", "--variant", "bad")
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("exit status 2 (C) against 3 (Go)", proc.stdout)
        self.assertClosingLine(proc, 0, 1)

    def test_a_rate_difference_is_not_a_failure(self):
        # The twin reproduces on even seeds only; the C case always.
        self.tree.add_twin("2.1-read-write-pair", body="""
            if [ "$variant" = bad ] && [ $((seed % 2)) -eq 0 ]; then
              printf 'fatal error: concurrent map writes\\n\\ngoroutine 7 [running]:\\n' >&2
              exit 2
            fi
            echo DONE
            """)
        js = self.tree.tmp / "a.json"
        proc = self.against("--runs", "20", "--seed", "5", "2.1-read-write-pair", "--variant", "bad",
                            "--json", str(js))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        go = json.loads(js.read_text())["pairs"][0]["go"]
        self.assertGreater(go["not_reproduced"], 0)
        self.assertGreater(go["matched"], 0)
        self.assertClosingLine(proc, 1, 0)


class PairTests(unittest.TestCase):
    def unit(self, variant, records):
        case = fakes.manifest.Case("x", "article", "-", ["bad", "fixed"], "t", "-", "-")
        u = fakes.units.Unit(case=case, variant=variant, mode="natural", expect=None, runs=len(records),
                             binary=Path("/nonexistent"))
        for i, (outcome, status, line) in enumerate(records):
            u.records.append(fakes.units.RunRecord(i, i, outcome, "", status, None, line, 1.0))
            u.counts[outcome] += 1
            u.times.append(1.0)
        return u

    def test_the_most_common_reported_signature_is_compared(self):
        w, rw = "fatal error: concurrent map writes", "fatal error: concurrent map read and map write"
        c = self.unit("bad", [(base.MATCHED, 2, w)] * 3 + [(base.MATCHED, 2, rw)] + [(base.NOT_REPRODUCED, 0, "")] * 9)
        go = self.unit("bad", [(base.MATCHED, 2, rw), (base.MATCHED, 2, w), (base.MATCHED, 2, w)])
        self.assertEqual(pairs_mod.side_signature(c), (2, w))
        self.assertTrue(pairs_mod.Pair(c, go).agree())
        go = self.unit("bad", [(base.MATCHED, 2, rw)] * 2 + [(base.MATCHED, 2, w)])
        self.assertFalse(pairs_mod.Pair(c, go).agree())

    def test_a_side_without_reports_cannot_be_compared(self):
        c = self.unit("bad", [(base.MATCHED, 2, "fatal error: x")])
        go = self.unit("bad", [(base.NOT_REPRODUCED, 0, "")] * 2)
        self.assertIsNone(pairs_mod.Pair(c, go).agree())
        self.assertEqual(pairs_mod.Pair(c, go).verdict(), base.FAIL)  # the twin's own policy: never reproduced


def real_build_dir():
    d = Path(os.environ.get("RUNNER_BUILD_DIR") or fakes.REPO / "build").absolute()
    return d if (d / "cases" / "nil-map-assign").is_file() else None


@unittest.skipIf(gobuild.find_go() is None, "no Go toolchain (GO119=, GO=, Debian's Go 1.19 or go on PATH): "
                                            "the real twins are not run (apt-get install golang-1.19-go)")
@unittest.skipIf(real_build_dir() is None, "no build of the real cases (build/cases): the real twins are not "
                                           "compared with them")
class RealGoTests(unittest.TestCase):
    def test_real_twins_beside_real_cases(self):
        # Deterministic units only (a nil-map panic, a control), plus a twin
        # that needs a newer Go than Debian's 1.19 when that is the toolchain.
        work = Path(tempfile.mkdtemp(prefix="runner-go-"))
        self.addCleanup(shutil.rmtree, work, True)
        (work / "cases").symlink_to(real_build_dir() / "cases")
        js = work / "against.json"
        argv = [sys.executable, str(fakes.RUNNER), "--build-dir", str(work), "--against-go", "--runs", "2",
                "--timeout", "60", "--seed", "1", "nil-map-assign", "control-gc-only", "--json", str(js)]
        # The twins are built (into the temporary build directory's go/); the C cases are not rebuilt.
        gojs = work / "go.json"
        proc = subprocess.run([*argv[:2], "--go", "--runs", "1", "--build-dir", str(work), "nil-map-assign",
                               "control-gc-only", "clone-while-writing", "--json", str(gojs)],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=1200)
        if "building a Go twin failed" in proc.stderr:
            self.skipTest("the Go twins do not build here: " + proc.stderr[-300:])
        m = re.match(r"go1\.(\d+)\S* \((bucket|swiss) map\)", proc.stdout)
        self.assertIsNotNone(m, "the plan line names the Go and its map: " + proc.stdout[:200])
        minor = int(m.group(1))
        self.assertEqual(m.group(2), "bucket" if minor < 24 else "swiss")
        units = {(u["case"], u["variant"]): u for u in json.loads(gojs.read_text())["summary"]}
        if minor < 21:
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            self.assertIn("skipped: clone-while-writing bad natural (Go): needs Go 1.21", proc.stdout)
        else:
            # Built and run: one natural run of a trigger may miss, but never
            # ends in another signature; the race-free variant must pass.
            bad, fixed = units[("clone-while-writing", "bad")], units[("clone-while-writing", "fixed")]
            self.assertEqual((bad["runs"], bad["wrong_signature"], bad["timeout"]), (1, 0, 0), bad)
            self.assertEqual(fixed["verdict"], "pass", fixed)
        for key in (("nil-map-assign", "bad"), ("nil-map-assign", "fixed"), ("control-gc-only", "control")):
            self.assertEqual(units[key]["verdict"], "pass", units[key])
        proc = subprocess.run([*argv[:2], "--no-build", *argv[2:]], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=600)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        report = json.loads(js.read_text())
        nil = next(p for p in report["pairs"] if p["case"] == "nil-map-assign" and p["variant"] == "bad")
        self.assertEqual((nil["agree"], nil["go"]["exit"], nil["go"]["first_line"], nil["go"]["matched"]),
                         (True, 2, "panic: assignment to entry in nil map", 2))
        self.assertEqual((report["passed"], report["failed"]), (3, 0))


if __name__ == "__main__":
    unittest.main()
