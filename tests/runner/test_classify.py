"""Normalisation of stderr, classification of one run, and the per-unit policies."""

import signal
import unittest
from pathlib import Path

import fakes
from fakes import base, expect, manifest, signature, units

REPORT = (
    "fatal error: concurrent map writes\n"
    "\n"
    'thread 3 "writer" [running]:\n'
    "gomap_i64_set(...)\n"
    "\t/abs/path/core/map_fast64.c:88 +0x5a\n"
    "writer_body(...)\n"
    "\t/abs/path/cases/3.1-value-receiver-copy.c:40 +0x1e\n"
    "\n"
    'write flag held by thread 2 "other" [map write]:\n'
    "gomap_i64_set(...)\n"
)

BAD = expect.parse_expect_text(fakes.BAD_EXPECT + "natural-also: fatal error: concurrent map read and map write\n",
                               Path("x.bad.expect"))
FIXED = expect.parse_expect_text(fakes.FIXED_EXPECT, Path("x.fixed.expect"))


def classify(exp, status=2, stderr=REPORT, stdout="", mode="forced", signum=None, timed_out=False):
    return signature.classify(exp, mode, status, signum, stdout, stderr, timed_out)


class NormaliseTests(unittest.TestCase):
    def test_addresses_become_0xADDR(self):
        self.assertEqual(signature.normalise("map at 0x7ffd1234abcd, bucket 0XFF 0x0"),
                         "map at 0xADDR, bucket 0XFF 0xADDR")

    def test_thread_numbers_become_N(self):
        self.assertEqual(signature.normalise('thread 12 "w" [running]: held by thread 3'),
                         'thread N "w" [running]: held by thread N')

    def test_a_trailing_file_line_loses_its_number(self):
        self.assertEqual(signature.normalise("\t/abs/core/map.c:88 +0x5a"), "\t/abs/core/map.c:LINE +0xADDR")
        self.assertEqual(signature.normalise("\t/abs/cases/2.1-read-write-pair.c:40"),
                         "\t/abs/cases/2.1-read-write-pair.c:LINE")

    def test_numbers_that_are_not_a_trailing_file_line_stay(self):
        self.assertEqual(signature.normalise("elapsed 12:30 ms, map.c:88 then more"), "elapsed 12:30 ms, map.c:88 then more")
        self.assertEqual(signature.normalise("count: 88"), "count: 88")

    def test_the_first_line_is_never_normalised(self):
        # A first line with an address must be compared byte for byte.
        exp = expect.parse_expect_text("exit: 2\nfirst-line: fatal error: bad bucket 0xADDR\n", Path("e"))
        outcome, _ = classify(exp, stderr="fatal error: bad bucket 0x1234\n")
        self.assertEqual(outcome, base.WRONG)


class ClassifyTriggerTests(unittest.TestCase):
    def test_the_expected_report_matches(self):
        self.assertEqual(classify(BAD), (base.MATCHED, ""))

    def test_contains_is_checked_after_normalisation(self):
        exp = expect.parse_expect_text(
            "exit: 2\nfirst-line: fatal error: concurrent map writes\n"
            "contains: ^\\t/abs/path/core/map_fast64\\.c:LINE \\+0xADDR$\n", Path("e"))
        self.assertEqual(classify(exp)[0], base.MATCHED)

    def test_a_missing_contains_is_a_wrong_signature(self):
        outcome, reason = classify(BAD, stderr=REPORT.replace("held by", "owned by"))
        self.assertEqual(outcome, base.WRONG)
        self.assertIn("held by thread N", reason)

    def test_a_matching_absent_is_a_wrong_signature(self):
        outcome, reason = classify(BAD, stderr=REPORT + "panic: something else\n")
        self.assertEqual(outcome, base.WRONG)
        self.assertIn("absent", reason)

    def test_another_first_line_is_a_wrong_signature(self):
        outcome, reason = classify(BAD, stderr=REPORT.replace("map writes", "map read and map write", 1))
        self.assertEqual(outcome, base.WRONG)
        self.assertIn("first line 'fatal error: concurrent map read and map write'", reason)

    def test_natural_also_is_accepted_in_natural_mode_only(self):
        other = REPORT.replace("map writes", "map read and map write", 1)
        self.assertEqual(classify(BAD, stderr=other, mode="natural")[0], base.MATCHED)
        self.assertEqual(classify(BAD, stderr=other, mode="forced")[0], base.WRONG)

    def test_natural_also_match_accepts_a_damage_report_in_natural_mode_only(self):
        exp = expect.parse_expect_text(
            fakes.BAD_EXPECT + "contains: never printed\n"
            "natural-also-match: fatal error: .* \\(concurrent map writes\\?\\)\n",
            Path("x.bad.expect"))
        damaged = "fatal error: bad map state (concurrent map writes?)\n\nthread 3 [running]:\n"
        self.assertEqual(classify(exp, stderr=damaged, mode="natural")[0], base.MATCHED)
        self.assertEqual(classify(exp, stderr=damaged, mode="forced")[0], base.WRONG)
        # The whole line must match: a prefix is not enough.
        trailing = "fatal error: bad map state (concurrent map writes?) and more\n"
        self.assertEqual(classify(exp, stderr=trailing, mode="natural")[0], base.WRONG)

    def test_natural_also_match_still_checks_absent(self):
        exp = expect.parse_expect_text(
            fakes.BAD_EXPECT + "natural-also-match: fatal error: .* \\(concurrent map writes\\?\\)\n",
            Path("x.bad.expect"))
        damaged = "fatal error: bad map state (concurrent map writes?)\npanic: later\n"
        self.assertEqual(classify(exp, stderr=damaged, mode="natural")[0], base.WRONG)

    def test_exit_0_without_a_report_is_not_reproduced(self):
        self.assertEqual(classify(BAD, status=0, stderr="", stdout="DONE\n")[0], base.NOT_REPRODUCED)

    def test_exit_0_after_a_report_is_a_wrong_signature(self):
        self.assertEqual(classify(BAD, status=0, stderr=REPORT)[0], base.WRONG)

    def test_not_reproduced_still_checks_absent(self):
        outcome, _ = classify(BAD, status=0, stderr="warning: panic: no\n")
        self.assertEqual(outcome, base.WRONG)

    def test_another_exit_status_is_a_wrong_signature(self):
        outcome, reason = classify(BAD, status=1)
        self.assertEqual(outcome, base.WRONG)
        self.assertIn("exit status 1", reason)

    def test_a_signal_is_a_wrong_signature(self):
        outcome, reason = classify(BAD, status=None, signum=signal.SIGSEGV)
        self.assertEqual(outcome, base.WRONG)
        self.assertIn("SIGSEGV", reason)

    def test_a_timeout_is_a_timeout_whatever_the_output(self):
        self.assertEqual(classify(BAD, status=None, signum=signal.SIGABRT, timed_out=True)[0], base.TIMEOUT)
        self.assertEqual(classify(FIXED, status=0, stdout="DONE\n", stderr="", timed_out=True)[0], base.TIMEOUT)

    def test_empty_stderr_with_exit_2_is_a_wrong_signature(self):
        outcome, reason = classify(BAD, stderr="")
        self.assertEqual(outcome, base.WRONG)
        self.assertIn("first line ''", reason)


class ClassifyCleanTests(unittest.TestCase):
    def test_done_on_stdout_and_quiet_stderr_matches(self):
        self.assertEqual(classify(FIXED, status=0, stdout="setup\nDONE\n", stderr=""), (base.MATCHED, ""))

    def test_missing_success_line_is_a_wrong_signature(self):
        outcome, reason = classify(FIXED, status=0, stdout="DONE?\n", stderr="")
        self.assertEqual(outcome, base.WRONG)
        self.assertIn("'DONE'", reason)

    def test_a_report_on_stderr_is_a_wrong_signature_even_with_exit_0(self):
        for text in ("fatal error: concurrent map writes\n", "panic: assignment to entry in nil map\n"):
            exp = expect.parse_expect_text("exit: 0\nstdout: DONE\n", Path("e"))  # no absent line at all
            outcome, _ = classify(exp, status=0, stdout="DONE\n", stderr=text)
            self.assertEqual(outcome, base.WRONG, text)

    def test_exit_2_is_a_wrong_signature_never_not_reproduced(self):
        self.assertEqual(classify(FIXED, status=2, stdout="", stderr=REPORT)[0], base.WRONG)

    def test_a_signal_is_a_wrong_signature(self):
        self.assertEqual(classify(FIXED, status=None, signum=signal.SIGABRT, stdout="DONE\n", stderr="")[0],
                         base.WRONG)

    def test_contains_applies_to_clean_runs(self):
        exp = expect.parse_expect_text("exit: 0\nstdout: DONE\ncontains: ^checked \\d+ keys$\n", Path("e"))
        self.assertEqual(classify(exp, status=0, stdout="DONE\n", stderr="checked 12 keys\n")[0], base.MATCHED)
        self.assertEqual(classify(exp, status=0, stdout="DONE\n", stderr="")[0], base.WRONG)


def unit(variant, mode, runs=10):
    case = manifest.Case("c", "article", "-", ["bad", "fixed"], "t", "-", "-", [])
    exp = BAD if variant == "bad" else FIXED
    return units.Unit(case=case, variant=variant, mode=mode, expect=exp, runs=runs, binary=Path("/x/c"))


def feed(u, outcomes):
    for i, o in enumerate(outcomes):
        u.counts[o] += 1
        u.times.append(1.0)
        if u.breaks_policy(o):
            u.failing_total += 1
            u.failing.append(units.RunRecord(i, i, o, "r", 2, None, "", 1.0))
    return u.verdict()


class PolicyTests(unittest.TestCase):
    M, N, W, T = base.MATCHED, base.NOT_REPRODUCED, base.WRONG, base.TIMEOUT

    def test_forced_trigger_needs_every_run_to_match(self):
        self.assertEqual(feed(unit("bad", "forced", 3), [self.M] * 3), "pass")
        for other in (self.N, self.W, self.T):
            self.assertEqual(feed(unit("bad", "forced", 3), [self.M, other, self.M]), "FAIL", other)

    def test_natural_trigger_needs_one_match_and_no_wrong_signature(self):
        self.assertEqual(feed(unit("bad", "natural", 3), [self.N, self.M, self.N]), "pass")
        self.assertEqual(feed(unit("bad", "natural", 3), [self.N, self.N, self.N]), "FAIL")
        self.assertEqual(feed(unit("bad", "natural", 3), [self.M, self.W, self.M]), "FAIL")
        self.assertEqual(feed(unit("bad", "natural", 3), [self.M, self.T, self.M]), "FAIL")

    def test_fixed_and_controls_need_every_run_clean_in_either_mode(self):
        for mode in ("forced", "natural"):
            self.assertEqual(feed(unit("fixed", mode, 2), [self.M, self.M]), "pass")
            self.assertEqual(feed(unit("fixed", mode, 2), [self.M, self.W]), "FAIL")
            self.assertEqual(feed(unit("fixed", mode, 2), [self.T, self.M]), "FAIL")

    def test_an_unfinished_unit_is_not_a_pass(self):
        self.assertEqual(feed(unit("bad", "forced", 5), [self.M] * 2), "incomplete")
        self.assertEqual(feed(unit("bad", "forced", 5), []), "not run")
        self.assertEqual(feed(unit("bad", "forced", 5), [self.W]), "FAIL")

    def test_the_failure_reason_names_the_first_failing_run(self):
        u = unit("bad", "forced", 2)
        feed(u, [self.M, self.W])
        self.assertIn("1 of 2 runs", u.failure_reason())
        u = unit("bad", "natural", 2)
        feed(u, [self.N, self.N])
        self.assertIn("never reproduced", u.failure_reason())


class FailingRunOrderTests(unittest.TestCase):
    def test_the_lowest_failing_indexes_are_kept_whatever_order_runs_finish_in(self):
        # Runs finish in any order; the unit keeps (and its reason names) the
        # failing runs with the lowest indexes, so that its reports are a
        # function of the seed, in one run and in a merge of its shards.
        u = unit("bad", "forced", 10)
        for index in (7, 3, 9, 1, 5, 2, 8, 6):
            rec = units.RunRecord(index, 100 + index, base.WRONG, f"why {index}", 2, None, "x", 1.0)
            self.assertTrue(u.add_record(rec, 5))
        self.assertEqual([r.index for r in u.failing], [1, 2, 3, 5, 6])
        self.assertEqual(u.failing_total, 8)
        self.assertIn("first: wrong-signature: why 1", u.failure_reason())


class SeedTests(unittest.TestCase):
    def test_run_seeds_are_a_fixed_function_of_the_master_seed_and_place(self):
        a = units.derive_seed(7, "c", "bad", "forced", 3)
        self.assertEqual(a, units.derive_seed(7, "c", "bad", "forced", 3))
        others = {units.derive_seed(8, "c", "bad", "forced", 3), units.derive_seed(7, "d", "bad", "forced", 3),
                  units.derive_seed(7, "c", "fixed", "forced", 3), units.derive_seed(7, "c", "bad", "natural", 3),
                  units.derive_seed(7, "c", "bad", "forced", 4)}
        self.assertNotIn(a, others)
        self.assertEqual(len(others), 5)
        self.assertTrue(0 <= a < 2 ** 63)


if __name__ == "__main__":
    unittest.main()
