"""runner.py --sanitizer thread and --matrix: ThreadSanitizer's reports read
from synthetic stderr (shaped like real reports of the catalogue's cases),
the classification of one run, the unit policies, and the matrix tables.
No ThreadSanitizer build is needed."""

import io
import unittest
from pathlib import Path

import fakes
from fakes import base, entry, manifest, matrix, tsan, units
from fakes import html as html_report
from fakes import json_report, junit, text


# 2.1 bad, natural mode: TSan's report, then the core's own report (the
# detector fired too), then TSan's closing line.
RACE_21 = """==================
WARNING: ThreadSanitizer: data race (pid=22235)
  Read of size 8 at 0x7b7400000738 by thread T4:
    #0 gomap_i64_get /work/main/core/map_fast64.c:13:13 (2.1-read-write-pair+0xda805)
    #1 reader /work/main/cases/2.1-read-write-pair.c:41:10 (2.1-read-write-pair+0xd1501)
    #2 trampoline /work/main/harness/harness.c:113:2 (2.1-read-write-pair+0xd1c41)

  Previous write of size 8 at 0x7b7400000738 by thread T3:
    #0 memcpy <null> (2.1-read-write-pair+0x5c72e)
    #1 map_assign /work/main/core/map_impl.h:190:4 (2.1-read-write-pair+0xdb537)
    #2 gomap_i64_set /work/main/core/map_fast64.c:26:2 (2.1-read-write-pair+0xdb537)
    #3 writer /work/main/cases/2.1-read-write-pair.c:28:3 (2.1-read-write-pair+0xd142e)

  Location is heap block of size 2496 at 0x7b7400000000 allocated by main thread:
    #0 calloc <null> (2.1-read-write-pair+0x50f07)
    #1 xcalloc /work/main/core/map.c:100:12 (2.1-read-write-pair+0xd49cb)

  Thread T4 'reader' (tid=22242, running) created by main thread at:
    #0 pthread_create <null> (2.1-read-write-pair+0x524bd)
    #1 hz_go /work/main/harness/harness.c:140:12 (2.1-read-write-pair+0xd1a9a)

SUMMARY: ThreadSanitizer: data race /work/main/core/map_fast64.c:13:13 in gomap_i64_get
==================
fatal error: concurrent map read and map write

thread 7 "reader" [running]:
gomap_i64_get(...)
\t?:0 +0x35c

write flag held by thread 6 "writer" [map write]:
gomap_i64_set(...)
ThreadSanitizer: reported 1 warnings
"""

# control-len-while-writing: the writer's relaxed-atomic count update races
# with len's plain read; the built-in detector says nothing.
RACE_LEN = """==================
WARNING: ThreadSanitizer: data race (pid=13750)
  Atomic write of size 8 at 0x7b3400000000 by thread T1:
    #0 map_assign /work/main/core/map_impl.h:217:2 (control-len-while-writing+0xdb56e)
    #1 gomap_i64_set /work/main/core/map_fast64.c:26:2 (control-len-while-writing+0xdb56e)
    #2 writer /work/main/cases/control-len-while-writing.c:22:3 (control-len-while-writing+0xd13d9)

  Previous read of size 8 at 0x7b3400000000 by thread T2:
    #0 gomap_len /work/main/core/map.c:273:16 (control-len-while-writing+0xd4b3e)
    #1 poller /work/main/cases/control-len-while-writing.c:32:14 (control-len-while-writing+0xd1457)

  Location is heap block of size 200 at 0x7b3400000000 allocated by main thread:
    #0 calloc <null> (control-len-while-writing+0x50f97)

SUMMARY: ThreadSanitizer: data race /work/main/core/map_impl.h:217:2 in map_assign
==================
ThreadSanitizer: reported 1 warnings
"""

# The same race with the previous access's stack lost (too little history).
RACE_ONE_ACCESS = """==================
WARNING: ThreadSanitizer: data race (pid=4242)
  Read of size 8 at 0x7b7400000738 by thread T4:
    #0 gomap_i64_get /work/main/core/map_fast64.c:13:13 (2.1-read-write-pair+0xda805)
    #1 reader /work/main/cases/2.1-read-write-pair.c:41:10 (2.1-read-write-pair+0xd1501)

  Previous write of size 8 at 0x7b7400000738 by thread T3:
    [failed to restore the stack]

SUMMARY: ThreadSanitizer: data race /work/main/core/map_fast64.c:13:13 in gomap_i64_get
==================
"""

# A race with only the current access (no "Previous" section at all).
RACE_NO_PREVIOUS = """==================
WARNING: ThreadSanitizer: data race (pid=4243)
  Write of size 8 at 0x7b7400000738 by thread T3:
    #0 map_assign /work/main/core/map_impl.h:190:4 (x+0xdb537)

SUMMARY: ThreadSanitizer: data race /work/main/core/map_impl.h:190:4 in map_assign
==================
"""

# Both accesses named, but on a variable of the case, not the map.
RACE_OUTSIDE_CORE = """==================
WARNING: ThreadSanitizer: data race (pid=4244)
  Write of size 4 at 0x55d4 by thread T2:
    #0 worker /work/main/cases/4.2-cancelled-worker.c:30:9 (x+0x1)

  Previous read of size 4 at 0x55d4 by main thread:
    #0 run /work/main/cases/4.2-cancelled-worker.c:50:5 (x+0x2)

SUMMARY: ThreadSanitizer: data race /work/main/cases/4.2-cancelled-worker.c:30:9 in worker
==================
"""

# A report of another kind (a fixed variant that destroyed a held lock).
MUTEX_REPORT = """==================
WARNING: ThreadSanitizer: destroy of a locked mutex (pid=5150)
    #0 pthread_mutex_destroy <null> (x+0x1)
    #1 hz_mutex_destroy /work/main/harness/harness.c:300:2 (x+0x2)

SUMMARY: ThreadSanitizer: destroy of a locked mutex /work/main/harness/harness.c:300:2
==================
ThreadSanitizer: reported 1 warnings
"""

# The core's report written by another thread in the middle of TSan's.
INTERLEAVED = """==================
WARNING: ThreadSanitizer: data race (pid=7)
  Write of size 8 at 0x7b10 by thread T2:
fatal error: concurrent map writes
    #0 map_assign /work/main/core/map_impl.h:190:4 (x+0x1)

thread 3 "writer" [running]:
  Previous write of size 8 at 0x7b10 by thread T3:
    #0 map_assign /work/main/core/map_impl.h:190:4 (x+0x1)
    #1 writer /work/main/cases/delete-while-writing.c:20:3 (x+0x2)

SUMMARY: ThreadSanitizer: data race /work/main/core/map_impl.h:190:4 in map_assign
==================
"""

CORE_REPORT = """fatal error: concurrent map writes

thread 3 "writer" [running]:
gomap_i64_set(...)
"""

NIL_PANIC = """panic: assignment to entry in nil map

thread 1 "main" [running]:
label(...)
"""


class ParseTest(unittest.TestCase):
    def test_both_accesses_in_the_core(self):
        f = tsan.parse_tsan(RACE_21)
        self.assertEqual(f.warnings, ["data race"])
        self.assertEqual(len(f.races), 1)
        race = f.races[0]
        self.assertTrue(race.current.line.startswith("Read of size 8"))
        self.assertTrue(race.previous.line.startswith("Previous write of size 8"))
        self.assertEqual((race.current.frames, race.previous.frames), (3, 4))
        self.assertTrue(race.current.in_core and race.previous.in_core)
        self.assertTrue(f.race_both and f.map_race and f.reported)

    def test_atomic_current_access(self):
        f = tsan.parse_tsan(RACE_LEN)
        self.assertTrue(f.races[0].current.line.startswith("Atomic write of size 8"))
        self.assertTrue(f.map_race)

    def test_previous_stack_lost_is_not_enough(self):
        f = tsan.parse_tsan(RACE_ONE_ACCESS)
        self.assertEqual(len(f.races), 1)
        self.assertIsNotNone(f.races[0].previous)
        self.assertEqual(f.races[0].previous.frames, 0)
        self.assertFalse(f.race_both)
        self.assertFalse(f.map_race)

    def test_no_previous_access_is_not_enough(self):
        f = tsan.parse_tsan(RACE_NO_PREVIOUS)
        self.assertIsNone(f.races[0].previous)
        self.assertFalse(f.race_both)

    def test_race_outside_the_core(self):
        f = tsan.parse_tsan(RACE_OUTSIDE_CORE)
        self.assertTrue(f.race_both)
        self.assertFalse(f.map_race)

    def test_no_report(self):
        f = tsan.parse_tsan(CORE_REPORT)
        self.assertEqual((f.warnings, f.races, f.reported), ([], [], False))

    def test_other_kind_of_report(self):
        f = tsan.parse_tsan(MUTEX_REPORT)
        self.assertEqual(f.warnings, ["destroy of a locked mutex"])
        self.assertEqual(f.races, [])
        self.assertTrue(f.reported)

    def test_closing_line_alone_counts_as_output(self):
        self.assertTrue(tsan.parse_tsan("ThreadSanitizer:DEADLYSIGNAL\n").reported)

    def test_interleaved_core_report(self):
        f = tsan.parse_tsan(INTERLEAVED)
        self.assertTrue(f.map_race)
        self.assertEqual(f.races[0].current.frames, 1)

    def test_two_reports(self):
        f = tsan.parse_tsan(RACE_ONE_ACCESS + RACE_21)
        self.assertEqual(len(f.races), 2)
        self.assertFalse(f.races[0].both)
        self.assertTrue(f.races[1].both)
        self.assertTrue(f.map_race)


class ClassifyTest(unittest.TestCase):
    def trig(self, status, stderr, stdout="", signum=None, timed_out=False):
        return tsan.classify_tsan(tsan.TRIGGER, status, signum, stdout, stderr, timed_out)

    def test_trigger_reported_detector_fired_too(self):
        self.assertEqual(self.trig(2, RACE_21), (base.MATCHED, ""))

    def test_trigger_reported_detector_silent(self):
        self.assertEqual(self.trig(66, RACE_21.split("fatal error")[0], "DONE\n"), (base.MATCHED, ""))

    def test_trigger_one_access_is_not_enough(self):
        outcome, reason = self.trig(66, RACE_ONE_ACCESS)
        self.assertEqual(outcome, base.WRONG)
        self.assertIn("both accesses", reason)
        self.assertEqual(self.trig(66, RACE_NO_PREVIOUS)[0], base.WRONG)

    def test_trigger_race_outside_the_map(self):
        outcome, reason = self.trig(66, RACE_OUTSIDE_CORE)
        self.assertEqual(outcome, base.WRONG)
        self.assertIn("core/", reason)

    def test_trigger_without_tsan_report(self):
        self.assertEqual(self.trig(2, CORE_REPORT)[0], base.NOT_REPRODUCED)
        self.assertEqual(self.trig(0, "", "DONE\n")[0], base.NOT_REPRODUCED)
        outcome, reason = self.trig(66, MUTEX_REPORT)
        self.assertEqual(outcome, base.NOT_REPRODUCED)
        self.assertIn("destroy of a locked mutex", reason)

    def test_trigger_odd_exit_or_signal_or_timeout(self):
        self.assertEqual(self.trig(1, RACE_21)[0], base.WRONG)
        self.assertEqual(self.trig(None, RACE_21, signum=6)[0], base.WRONG)
        self.assertEqual(self.trig(None, RACE_21, signum=6, timed_out=True)[0], base.TIMEOUT)

    def race_free(self, status, stderr, stdout="DONE\n"):
        return tsan.classify_tsan(tsan.RACE_FREE, status, None, stdout, stderr)

    def test_race_free_clean(self):
        self.assertEqual(self.race_free(0, ""), (base.MATCHED, ""))

    def test_race_free_any_tsan_report_fails(self):
        self.assertEqual(self.race_free(66, RACE_21.split("fatal error")[0])[0], base.WRONG)
        self.assertEqual(self.race_free(66, MUTEX_REPORT)[0], base.WRONG)
        # Even an incomplete report is a report.
        self.assertEqual(self.race_free(66, RACE_ONE_ACCESS)[0], base.WRONG)
        # Exit 0 does not excuse a report (exitcode=0 in inherited options).
        self.assertEqual(self.race_free(0, RACE_LEN)[0], base.WRONG)

    def test_race_free_reason_names_the_place(self):
        outcome, reason = self.race_free(66, RACE_21.split("fatal error")[0])
        self.assertIn("data race (data race /work/main/core/map_fast64.c:13:13 in gomap_i64_get)", reason)

    def test_race_free_needs_clean_exit_and_done(self):
        self.assertEqual(self.race_free(2, CORE_REPORT)[0], base.WRONG)
        self.assertEqual(self.race_free(0, CORE_REPORT)[0], base.WRONG)
        self.assertEqual(self.race_free(0, "", "")[0], base.WRONG)
        self.assertEqual(self.race_free(1, "")[0], base.WRONG)

    def len_control(self, status, stderr, stdout="DONE\n"):
        return tsan.classify_tsan(tsan.LEN, status, None, stdout, stderr)

    def test_len_control_reported_detector_silent(self):
        self.assertEqual(self.len_control(66, RACE_LEN), (base.MATCHED, ""))

    def test_len_control_without_report(self):
        self.assertEqual(self.len_control(0, "")[0], base.NOT_REPRODUCED)

    def test_len_control_detector_must_stay_silent(self):
        outcome, reason = self.len_control(2, RACE_LEN + CORE_REPORT)
        self.assertEqual(outcome, base.WRONG)
        self.assertIn("built-in detector", reason)

    def test_len_control_needs_both_accesses_exit_66_and_done(self):
        self.assertEqual(self.len_control(66, RACE_ONE_ACCESS)[0], base.WRONG)
        self.assertEqual(self.len_control(0, RACE_LEN)[0], base.WRONG)
        self.assertEqual(self.len_control(66, RACE_LEN, "")[0], base.WRONG)

    def test_nil_panic(self):
        kind = tsan.NIL_PANIC
        line = "panic: assignment to entry in nil map"
        self.assertEqual(tsan.classify_tsan(kind, 2, None, "", NIL_PANIC, panic_line=line), (base.MATCHED, ""))
        self.assertEqual(tsan.classify_tsan(kind, 2, None, "", RACE_21 + NIL_PANIC, panic_line=line)[0], base.WRONG)
        self.assertEqual(tsan.classify_tsan(kind, 0, None, "DONE\n", "", panic_line=line)[0], base.WRONG)
        self.assertEqual(tsan.classify_tsan(kind, 2, None, "", CORE_REPORT, panic_line=line)[0], base.WRONG)

    def test_expectation_kind(self):
        self.assertEqual(tsan.expectation_kind(_case("2.1-read-write-pair", ["bad", "fixed"]), "bad", "fatal error: x"),
                         tsan.TRIGGER)
        self.assertEqual(tsan.expectation_kind(_case("2.1-read-write-pair", ["bad", "fixed"]), "fixed",
                                               "fatal error: x"), tsan.RACE_FREE)
        self.assertEqual(tsan.expectation_kind(_case("nil-map-assign", ["bad", "fixed"]), "bad",
                                               "panic: assignment to entry in nil map"),
                         tsan.NIL_PANIC)
        self.assertEqual(tsan.expectation_kind(_case("control-gc-only", ["control"]), "control"), tsan.RACE_FREE)
        # The len control is known by its trait in the registry, not by its id.
        self.assertEqual(tsan.expectation_kind(_case(fakes.LEN_CONTROL, ["control"]), "control"), tsan.LEN)
        other = manifest.Case("another-len", "control", "-", ["control"], "t", "-", "-", [manifest.UNCHECKED_RACE])
        self.assertEqual(tsan.expectation_kind(other, "control"), tsan.LEN)


def _case(cid, variants, group="article"):
    """A case of the registry; the len control's id carries its trait, as in cases/manifest.tsv."""
    traits = [manifest.UNCHECKED_RACE] if cid == fakes.LEN_CONTROL else []
    return manifest.Case(cid, group, "-", variants, "title", "-", "-", traits)


class UnitPolicyTest(unittest.TestCase):
    def setUp(self):
        import tempfile
        self._td = tempfile.TemporaryDirectory()
        self.exp = Path(self._td.name)
        (self.exp / "a.bad.expect").write_text("exit: 2\nfirst-line: fatal error: concurrent map writes\n")
        (self.exp / "nil.bad.expect").write_text("exit: 2\nfirst-line: panic: assignment to entry in nil map\n")
        self.cases = [_case("a", ["bad", "fixed"]), _case("nil", ["bad", "fixed"], "family"),
                      _case(fakes.LEN_CONTROL, ["control"], "control"),
                      _case("control-gc-only", ["control"], "control")]

    def tearDown(self):
        self._td.cleanup()

    def units(self, modes=("forced", "natural")):
        return units.make_units(self.cases, None, list(modes), 4, self.exp, Path("/b"), tsan.THREAD)

    def test_triggers_and_len_control_run_natural_only(self):
        names = [u.name for u in self.units()]
        self.assertEqual(names, [
            "a bad natural", "a fixed forced", "a fixed natural",
            "nil bad forced", "nil bad natural", "nil fixed forced", "nil fixed natural",
            f"{fakes.LEN_CONTROL} control natural",
            "control-gc-only control forced", "control-gc-only control natural"])
        kinds = {u.name: u.expect.kind for u in self.units()}
        self.assertEqual(kinds["a bad natural"], tsan.TRIGGER)
        self.assertEqual(kinds["nil bad forced"], tsan.NIL_PANIC)
        self.assertEqual(kinds[f"{fakes.LEN_CONTROL} control natural"], tsan.LEN)
        self.assertEqual(kinds["control-gc-only control natural"], tsan.RACE_FREE)
        self.assertEqual(self.units(["forced"])[0].mode, "natural")

    def feed(self, unit, outcomes):
        for i, o in enumerate(outcomes):
            unit.records.append(units.RunRecord(i, i, o, "", 0, None, "", 1.0))
            unit.counts[o] += 1
            unit.times.append(1.0)
            if unit.breaks_policy(o):
                unit.failing_total += 1
                unit.failing.append(unit.records[-1])

    def test_every_trigger_run_must_be_reported(self):
        u = self.units()[0]
        self.feed(u, [base.MATCHED] * 4)
        self.assertEqual(u.verdict(), "pass")
        u = self.units()[0]
        # Unlike a normal natural trigger, one unreported run fails the unit.
        self.feed(u, [base.MATCHED] * 3 + [base.NOT_REPRODUCED])
        self.assertEqual(u.verdict(), "FAIL")
        self.assertIn("every run reported by TSan", u.failure_reason())

    def test_one_report_on_a_fixed_variant_fails(self):
        u = self.units()[1]
        self.feed(u, [base.MATCHED] * 3 + [base.WRONG])
        self.assertEqual(u.verdict(), "FAIL")
        u = self.units()[1]
        self.feed(u, [base.MATCHED] * 2)
        self.assertEqual(u.verdict(), "incomplete")

    def test_unit_classifies_with_its_kind(self):
        by_name = {u.name: u for u in self.units()}
        self.assertEqual(by_name["a bad natural"].classify(2, None, "", RACE_21)[0], base.MATCHED)
        self.assertEqual(by_name["a fixed forced"].classify(66, None, "DONE\n", RACE_21)[0], base.WRONG)
        self.assertEqual(by_name["nil bad natural"].classify(2, None, "", NIL_PANIC)[0], base.MATCHED)

    def test_table_and_json_take_tsan_units(self):
        us = self.units()
        for u in us:
            self.feed(u, [base.MATCHED] * 4)
        table = text.format_table(us)
        self.assertIn("TSan data race, both accesses", table)
        report = json_report.json_report(1, us, len(us), 0, False)
        self.assertEqual(report["summary"][0]["verdict"], "pass")
        self.assertEqual(report["summary"][0]["policy"], "every run reported by TSan (both accesses)")
        self.assertIn(b"<testsuite", junit.junit_report(1, us))

    def test_env_sets_tsan_options_last(self):
        import os
        from unittest import mock
        with mock.patch.dict(os.environ, {"TSAN_OPTIONS": "exitcode=0"}):
            os.environ.pop("GOMAP_TIMELINE", None)
            env = tsan.tsan_env()
        self.assertTrue(env["TSAN_OPTIONS"].startswith("exitcode=0 "))
        self.assertTrue(env["TSAN_OPTIONS"].endswith(tsan.TSAN_OPTIONS))
        # The flight recorder is off under TSan unless asked for.
        self.assertNotIn("GOMAP_TIMELINE", env)
        with mock.patch.dict(os.environ, {"GOMAP_TIMELINE": "1"}):
            self.assertEqual(tsan.tsan_env()["GOMAP_TIMELINE"], "1")


class MatrixTest(unittest.TestCase):
    def rows(self):
        return [matrix.MatrixRow("2.2-unsynchronised-goroutines", "article", "39/100", 37, 200, 200, 200),
                matrix.MatrixRow(fakes.LEN_CONTROL, "control", "-", 0, 200, 199, 200),
                matrix.MatrixRow("nil-map-assign", "family", "-", 200, 200, 0, 200),
                matrix.MatrixRow("unmeasured", "family", "-")]

    def test_fired(self):
        self.assertTrue(tsan.builtin_fired(tsan.TRIGGER, base.MATCHED, CORE_REPORT))
        self.assertFalse(tsan.builtin_fired(tsan.TRIGGER, base.NOT_REPRODUCED, ""))
        self.assertFalse(tsan.builtin_fired(tsan.LEN, base.MATCHED, ""))
        self.assertTrue(tsan.builtin_fired(tsan.LEN, base.WRONG, CORE_REPORT))
        self.assertTrue(tsan.tsan_fired(RACE_21))
        self.assertFalse(tsan.tsan_fired(RACE_ONE_ACCESS))
        self.assertFalse(tsan.tsan_fired(NIL_PANIC))

    def test_rates_and_tables(self):
        rows = self.rows()
        self.assertEqual(matrix._cell(199, 200), "99.5% (199/200)")
        self.assertEqual(matrix._cell(1, 1000), "0.1% (1/1000)")
        self.assertEqual(matrix._cell(200, 200), "100% (200/200)")
        self.assertAlmostEqual(rows[0].builtin_rate, 0.185)
        self.assertEqual(rows[1].tsan_rate, 199 / 200)
        self.assertIsNone(rows[3].tsan_rate)
        text = matrix.format_matrix_text(rows)
        self.assertIn("18% (37/200)", text)
        self.assertIn("not measured", text)
        md = matrix.format_matrix_markdown(rows)
        lines = md.split("\n")
        self.assertEqual(lines[0], "| case | built-in detector | ThreadSanitizer | real Go (article) |")
        self.assertEqual(len(lines), 2 + len(rows))
        self.assertIn("| `nil-map-assign` | 100% (200/200) | 0% (0/200) | - |", md)
        page = matrix.matrix_markdown_page(rows, 200, 7, "2026-11-26 05:50 UTC", tsan.TSAN_OPTIONS)
        self.assertIn("--runs 200 --seed 7", page)
        self.assertIn(md, page)

    def test_matrix_md_keeps_the_notes_below_the_marker(self):
        import tempfile
        with tempfile.TemporaryDirectory() as td:
            path = Path(td) / "m.md"
            matrix.write_matrix_md(path, "# first\n| a |\n")
            self.assertEqual(path.read_text(), "# first\n| a |\n\n" + matrix.MD_KEEP_MARKER + "\n")
            path.write_text(path.read_text() + "\n## notes\nkept\n")
            matrix.write_matrix_md(path, "# second\n")
            text = path.read_text()
            self.assertTrue(text.startswith("# second\n\n" + matrix.MD_KEEP_MARKER))
            self.assertNotIn("first", text)
            self.assertTrue(text.endswith("## notes\nkept\n"))

    def test_matrix_in_the_html_page(self):
        m = matrix.matrix_for_html(self.rows())
        html = html_report.detection_matrix([r.case_id for r in self.rows()], m)
        self.assertIn("<td>18% (37/200)</td>", html)
        self.assertIn("<td>0% (0/200)</td>", html)
        self.assertIn("<td>99.5% (199/200)</td>", html)
        self.assertIn("not measured", html)

    def test_matrix_cases(self):
        cases = [_case("a", ["bad", "fixed"]), _case(fakes.LEN_CONTROL, ["control"], "control"),
                 _case("control-gc-only", ["control"], "control")]
        self.assertEqual([c.id for c in matrix.matrix_cases(cases)], ["a", fakes.LEN_CONTROL])


class CommandLineTest(unittest.TestCase):
    """--sanitizer thread end to end on a fake tree whose cases print TSan-like reports."""

    def test_options_that_do_not_combine(self):
        import contextlib
        for argv, msg in ((["--matrix-md", "x.md"], "--matrix-md goes with --matrix"),
                          (["--sanitizer", "thread", "--list"], "--list cannot be combined with --sanitizer"),
                          (["--matrix", "--sanitizer", "thread"], "--matrix cannot be combined with --sanitizer"),
                          (["--matrix", "--variant", "bad"], "--matrix cannot be combined with --variant")):
            err = io.StringIO()
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                rc = entry.main(argv + ["--no-build"])
            self.assertEqual(rc, base.EXIT_USAGE, argv)
            self.assertIn(msg, err.getvalue())

    def test_fake_tree_end_to_end(self):
        import tempfile
        import contextlib
        with tempfile.TemporaryDirectory() as td:
            root = Path(td)
            (root / "cases").mkdir()
            (root / "expected").mkdir()
            (root / "build-tsan" / "cases").mkdir(parents=True)
            (root / "cases" / "manifest.tsv").write_text(
                fakes.MANIFEST_HEADER + "a\tarticle\t2.1\tbad,fixed\tt\t-\t-\t-\n"
                f"{fakes.LEN_CONTROL}\tcontrol\t-\tcontrol\tt\t-\t-\tunchecked-race\n")
            (root / "expected" / "a.bad.expect").write_text(
                "exit: 2\nfirst-line: fatal error: concurrent map writes\n")
            race = RACE_21.split("fatal error")[0].replace("'", "")
            lrace = RACE_LEN.replace("'", "")
            scripts = {
                "a": fakes.SCRIPT_PROLOGUE + f"""
if [ "$variant" = bad ]; then printf '%s' '{race}' >&2; exit 66; fi
[ "$mode" = natural ] && [ "$seed" = FAILSEED ] && printf '%s' '{race}' >&2 && exit 66
echo DONE
""",
                fakes.LEN_CONTROL: fakes.SCRIPT_PROLOGUE + f"""printf '%s' '{lrace}' >&2; echo DONE; exit 66
""",
            }
            for name, body in scripts.items():
                p = root / "build-tsan" / "cases" / name
                p.write_text(body)
                p.chmod(0o755)
            out = io.StringIO()
            err = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                rc = entry.main(["--root", str(root), "--sanitizer", "thread", "--no-build", "--runs", "3",
                                  "--mode", "both", "--seed", "5", "-j", "2", "--json", str(root / "r.json")])
            text = out.getvalue()
            self.assertEqual(rc, 0, text + err.getvalue())
            self.assertIn("4 passed, 0 failed", text)
            import json
            report = json.loads((root / "r.json").read_text())
            self.assertEqual(report["sanitizer"], "thread")
            self.assertEqual({(s["case"], s["mode"], s["tsan_expectation"]) for s in report["summary"]},
                             {("a", "natural", tsan.TRIGGER), ("a", "forced", tsan.RACE_FREE),
                              ("a", "natural", tsan.RACE_FREE), (fakes.LEN_CONTROL, "natural", tsan.LEN)})

            # A fixed run with a report fails its unit, and its replay names TSAN_OPTIONS.
            seed = units.derive_seed(5, "a", "fixed", "natural", 1)
            p = root / "build-tsan" / "cases" / "a"
            p.write_text(p.read_text().replace("FAILSEED", str(seed)))
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                rc = entry.main(["--root", str(root), "--sanitizer", "thread", "--no-build", "--runs", "3",
                                  "--mode", "both", "--seed", "5", "-j", "2"])
            text = out.getvalue()
            self.assertEqual(rc, 1, text)
            self.assertIn("3 passed, 1 failed", text)
            self.assertIn("a fixed natural: 1 of 3 runs broke the policy", text)
            self.assertIn("replay: TSAN_OPTIONS=", text)
            self.assertIn(f"--seed {seed}", text)


if __name__ == "__main__":
    unittest.main()
