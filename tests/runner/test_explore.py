"""runner.py --mode explore: the explore judge, its policies, the replayed
orderings, the reports and the merge of explore shards (fake case programs
that print an exploration's summary line; one end-to-end test on the real
build)."""

import json
import os
import re
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

import fakes
from fakes import add_explore_case, explore_summary
from gomaprun.base import MATCHED, NOT_REPRODUCED, TIMEOUT, WRONG
from gomaprun.catalogue.expect import parse_expect_text
from gomaprun.judges import explore

TRIGGER = parse_expect_text("exit: 2\nfirst-line: fatal error: concurrent map writes\n"
                            "natural-also: fatal error: concurrent map read and map write\n"
                            "natural-also-match: fatal error: .* \\(concurrent map writes\\?\\)\n", Path("t"))
CLEAN = parse_expect_text("exit: 0\nstdout: DONE\n", Path("f"))


def judge(summary, case="2.2-x", exp=TRIGGER, variant="bad", status=0, signum=None, stderr="", timed_out=False):
    e = explore.ExploreExpectation(case, variant, exp)
    return explore.classify_exploration(e, status, signum, summary + "\n", stderr, timed_out)


class PolicyTests(unittest.TestCase):
    """classify_exploration, the judge's pure decision."""

    def test_a_trigger_with_its_signature_and_clean_schedules_passes(self):
        self.assertEqual(judge(explore_summary()), (MATCHED, ""))

    def test_natural_also_and_natural_also_match_lines_are_signatures(self):
        ends = {"clean": 3, "fatal error: concurrent map read and map write": 2,
                "fatal error: a loop in an overflow chain (concurrent map writes?)": 1}
        self.assertEqual(judge(explore_summary(schedules=6, ends=ends)), (MATCHED, ""))
        e = explore.ExploreExpectation("2.2-x", "bad", TRIGGER)
        self.assertEqual(explore.detected(e, {"ends": ends}), 3)

    def test_a_trigger_that_never_detects_is_not_reproduced(self):
        outcome, reason = judge(explore_summary(ends={"clean": 10}))
        self.assertEqual(outcome, NOT_REPRODUCED)
        self.assertIn("none of 10 schedules", reason)

    def test_any_other_end_fails_a_trigger_and_is_named_with_its_example(self):
        ends = {"clean": 5, "fatal error: concurrent map writes": 4, "explore: hang: no thread can run": 1}
        outcome, reason = judge(explore_summary(ends=ends, other_ends=[
            {"end": "explore: hang: no thread can run", "count": 1, "example": "3:1"}]))
        self.assertEqual(outcome, WRONG)
        self.assertIn("1 of 10 schedules ended otherwise", reason)
        self.assertIn("explore: hang", reason)
        self.assertIn("--schedule 3:1", reason)

    def test_a_report_not_in_the_expected_file_fails_a_trigger(self):
        ends = {"clean": 6, "fatal error: concurrent map iteration and map write": 4}
        self.assertEqual(judge(explore_summary(ends=ends))[0], WRONG)

    def test_a_fixed_variant_passes_only_without_report_and_overlap(self):
        fixed = dict(exp=CLEAN, variant="fixed")
        self.assertEqual(judge(explore_summary("fixed", overlapping=0, blind_spots=0), **fixed), (MATCHED, ""))
        outcome, reason = judge(explore_summary("fixed", overlapping=3, blind_spots=3), **fixed)
        self.assertEqual(outcome, WRONG)
        self.assertIn("3 of 10 schedules overlap", reason)
        self.assertIn("--schedule 8:1", reason)
        ends = {"clean": 9, "fatal error: concurrent map writes": 1}
        outcome, reason = judge(explore_summary("fixed", ends=ends, overlapping=1, blind_spots=0), **fixed)
        self.assertEqual(outcome, WRONG)
        self.assertIn("reported or ended otherwise", reason)

    def test_the_len_control_may_overlap_but_never_report(self):
        ctl = dict(case="control-len-while-writing", exp=CLEAN, variant="control")
        self.assertEqual(judge(explore_summary("control", overlapping=5, blind_spots=5), **ctl), (MATCHED, ""))
        ends = {"clean": 9, "fatal error: concurrent map read and map write": 1}
        self.assertEqual(judge(explore_summary("control", ends=ends), **ctl)[0], WRONG)
        # Another control gets no such allowance.
        other = dict(case="control-gc-only", exp=CLEAN, variant="control")
        self.assertEqual(judge(explore_summary("control", overlapping=5, blind_spots=5), **other)[0], WRONG)
        # And the policies say so.
        j = explore.ExploreJudge()
        len_policy = j.policy("control", "explore", explore.ExploreExpectation("control-len-while-writing",
                                                                                "control", CLEAN))
        self.assertIn("len overlaps writes and is never reported", len_policy)

    def test_an_unexhausted_space_fails_with_the_cap_named(self):
        outcome, reason = judge(explore_summary(exhausted=False, max_schedules=10))
        self.assertEqual(outcome, WRONG)
        self.assertIn("not exhausted: the cap of 10 schedules", reason)

    def test_schedules_cut_short_fail_with_the_limit_named_not_the_cap(self):
        outcome, reason = judge(explore_summary(exhausted=False, max_schedules=10, cut_short=3))
        self.assertEqual(outcome, WRONG)
        self.assertIn("cut 3 of", reason)
        self.assertNotIn("the cap of", reason)

    def test_an_explorer_error_fails(self):
        outcome, reason = judge("", status=70, stderr="harness: explore: the prefix did not fit\n")
        self.assertEqual(outcome, WRONG)
        self.assertIn("exit status 70", reason)
        self.assertIn("prefix did not fit", reason)
        self.assertEqual(judge("", signum=9)[0], WRONG)
        self.assertEqual(judge("", timed_out=True)[0], TIMEOUT)
        outcome, reason = judge("not json")
        self.assertEqual((outcome, reason), (WRONG, "the explorer printed no summary line"))

    def test_replayed_examples_are_checked_against_their_kind(self):
        e = explore.ExploreExpectation("2.2-x", "bad", TRIGGER)
        ok = explore.check_example(e, explore.DETECTING, 2, None, "fatal error: concurrent map writes\n")
        self.assertEqual(ok, (True, ""))
        self.assertFalse(explore.check_example(e, explore.DETECTING, 0, None, "")[0])
        self.assertTrue(explore.check_example(e, explore.BLIND_SPOT, 0, None, "explore: an unprotected...\n")[0])
        self.assertFalse(explore.check_example(e, explore.BLIND_SPOT, 2, None, "fatal error: concurrent map writes")[0])


class ExploreRunTests(fakes.TreeTestCase):
    """The runner on fake case programs."""

    def add(self, cid="2.1-x", bad=None, fixed=None, **kw):
        summaries = {"bad": bad or explore_summary(),
                     "fixed": fixed or explore_summary("fixed", overlapping=0, blind_spots=0)}
        add_explore_case(self.tree, cid, summaries, **kw)

    def test_a_good_case_passes_and_every_report_carries_the_exploration(self):
        log = self.tree.tmp / "calls.log"
        self.add(log=log)
        out = self.tree.tmp / "r"
        p = self.tree.run("--mode", "explore", "--bound", "3", "--json", f"{out}.json", "--junit", f"{out}.xml",
                          "--html", f"{out}.html")
        self.assertNoTraceback(p)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("2 passed, 0 failed", p.stdout)
        self.assertRegex(p.stdout, r"2\.1-x\s+bad\s+explore\s+fatal error: concurrent map writes\s+10\s+yes\s+4\s+4"
                                   r"\s+2\s+6\s+0\s+0\.2\s+pass")
        # One exploration per unit at the bound given, then the trigger's two
        # orderings replayed with their timelines.
        calls = log.read_text().split("\n")
        self.assertIn("bad explore 3  ", calls)
        self.assertIn("fixed explore 3  ", calls)
        self.assertIn("bad explore  5:2 1", calls)
        self.assertIn("bad explore  8:1 1", calls)
        self.assertEqual(len([c for c in calls if c]), 4)
        report = json.loads(Path(f"{out}.json").read_text())
        self.assertEqual(report["bound"], 3)
        self.assertEqual(report["run"]["bound"], 3)
        bad = report["summary"][0]
        self.assertEqual(bad["explore"], json.loads(explore_summary()))
        self.assertEqual([(e["kind"], e["schedule"], e["ok"]) for e in bad["examples"]],
                         [("detecting", "5:2", True), ("blind spot", "8:1", True)])
        self.assertIn("map timeline", bad["examples"][1]["stderr"])
        self.assertIn("--schedule 8:1", bad["examples"][1]["replay"])
        suite = ET.parse(f"{out}.xml").getroot().find("testsuite")
        self.assertEqual(suite.get("name"), "gomap-catalogue-explore")
        cases = suite.findall("testcase")
        self.assertEqual([c.get("name") for c in cases], ["bad.explore", "fixed.explore"])
        self.assertIn("10 schedules at bound 3: caught in 4, blind spot in 2", cases[0].find("system-out").text)
        page = Path(f"{out}.html").read_text()
        self.assertIn("an ordering Go catches: bad detecting schedule 5:2", page)
        self.assertIn("an ordering Go misses: bad blind spot schedule 8:1", page)
        self.assertEqual(page.count('<svg class="timeline"'), 2)

    def test_verbose_draws_both_orderings(self):
        self.add()
        p = self.tree.run("--mode", "explore", "-v")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("--- detecting schedule 5:2 (exit 2, fatal error: concurrent map writes)", p.stdout)
        self.assertIn("--- blind spot schedule 8:1 (exit 0", p.stdout)
        self.assertEqual(p.stdout.count("map timeline, 3 events"), 2)

    def test_failing_explorations_fail_their_units_with_the_reason(self):
        self.add("2.1-x", bad=explore_summary(exhausted=False, max_schedules=10))
        self.add("2.2-x", fixed=explore_summary("fixed", overlapping=2, blind_spots=2))
        self.add("2.3-x", status=70)
        p = self.tree.run("--mode", "explore", "--json", str(self.tree.tmp / "r.json"))
        self.assertNoTraceback(p)
        self.assertEqual(p.returncode, 1)
        self.assertIn("2.1-x bad explore: 1 of 1 runs broke the policy", p.stdout)
        self.assertIn("not exhausted: the cap of 10 schedules", p.stdout)
        self.assertIn("2 of 10 schedules overlap", p.stdout)
        self.assertIn("the explorer failed: exit status 70", p.stdout)
        verdicts = {(s["case"], s["variant"]): s["verdict"]
                    for s in json.loads((self.tree.tmp / "r.json").read_text())["summary"]}
        self.assertEqual(verdicts, {("2.1-x", "bad"): "FAIL", ("2.1-x", "fixed"): "pass",
                                    ("2.2-x", "bad"): "pass", ("2.2-x", "fixed"): "FAIL",
                                    ("2.3-x", "bad"): "FAIL", ("2.3-x", "fixed"): "FAIL"})

    def test_a_replay_that_disagrees_with_the_exploration_fails_the_unit(self):
        self.add(detect_status=0)
        p = self.tree.run("--mode", "explore")
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("the detecting schedule 5:2, replayed: the replay ended with exit status 0", p.stdout)

    def test_natural_also_lines_are_accepted_signatures(self):
        ends = {"clean": 6, "fatal error: concurrent map read and map write": 4}
        exp = {"bad": fakes.BAD_EXPECT.replace("absent: ^panic:", "natural-also: fatal error: concurrent map "
                                                                   "read and map write"),
               "fixed": fakes.FIXED_EXPECT}
        self.add(bad=explore_summary(ends=ends), expects=exp,
                 detect_line="fatal error: concurrent map read and map write")
        p = self.tree.run("--mode", "explore")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # Without the natural-also line the same exploration fails.
        (self.tree.expected_dir / "2.1-x.bad.expect").write_text(fakes.BAD_EXPECT)
        p = self.tree.run("--mode", "explore")
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("4 of 10 schedules ended otherwise", p.stdout)

    def test_explore_shards_merge_into_what_one_run_reports(self):
        for cid in ("2.1-x", "2.2-x", "2.3-x"):
            self.add(cid)
        t = self.tree.tmp
        whole = self.tree.run("--mode", "explore", "--seed", "5", "--json", str(t / "whole.json"))
        self.assertEqual(whole.returncode, 0, whole.stdout + whole.stderr)
        for i in (1, 2):
            p = self.tree.run("--mode", "explore", "--seed", "5", "--shard", f"{i}/2", "--json", str(t / f"s{i}.json"))
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        m = self.tree.run("--merge", str(t / "s1.json"), str(t / "s2.json"), "--json", str(t / "m.json"),
                          "--junit", str(t / "m.xml"))
        self.assertNoTraceback(m)
        self.assertEqual(m.returncode, 0, m.stdout + m.stderr)
        a = json.loads((t / "whole.json").read_text())
        b = json.loads((t / "m.json").read_text())
        strip = lambda d: [{k: v for k, v in s.items() if k != "median_ms"} for s in d["summary"]]
        self.assertEqual(strip(a), strip(b))
        self.assertEqual(b["bound"], 2)
        self.assertIn("schedules  exhausted  detected", m.stdout)
        self.assertIn("6 passed, 0 failed", m.stdout)
        # Shards at different bounds are not one run.
        self.tree.run("--mode", "explore", "--seed", "5", "--bound", "1", "--shard", "2/2", "--json",
                      str(t / "s2.json"))
        m = self.tree.run("--merge", str(t / "s1.json"), str(t / "s2.json"))
        self.assertEqual(m.returncode, 2)
        self.assertIn("--bound 2 in one, 1 in the other", m.stderr)

    def test_options_explore_cannot_take_are_refused_while_parsing(self):
        self.add()
        for args, words in ((["--bound", "2"], "--bound goes with --mode explore"),
                            (["--mode", "both", "--bound", "1"], "--bound goes with --mode explore"),
                            (["--mode", "explore", "--runs", "3"], "cannot be combined with --runs"),
                            (["--mode", "explore", "--sanitizer", "thread"], "cannot be combined with --sanitizer"),
                            (["--mode", "explore", "--against-go"], "--against-go"),
                            (["--mode", "explore", "--go"], "--go"),
                            (["--matrix", "--mode", "explore"], "--matrix"),
                            (["--mode", "explore", "--bound", "-1"], "must be at least 0")):
            p = self.tree.run(*args)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn(words, p.stderr, args)

    def test_both_stays_forced_and_natural(self):
        self.tree.add_case("2.1-y")
        p = self.tree.run("--mode", "both", "--runs", "2", "-j", "1")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("(forced+natural)", p.stdout)
        self.assertNotIn("explore", p.stdout)


REAL_BUILD = Path(os.environ.get("RUNNER_BUILD_DIR", fakes.REPO / "build"))


@unittest.skipUnless((REAL_BUILD / "cases" / "2.1-read-write-pair").exists(),
                     f"the real build is missing ({REAL_BUILD}/cases/2.1-read-write-pair)")
class RealBuildTests(unittest.TestCase):
    def test_2_1_explored_end_to_end(self):
        import subprocess
        import sys
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "r.json"
            p = subprocess.run([sys.executable, str(fakes.RUNNER), "--no-build", "--build-dir", str(REAL_BUILD),
                                "--mode", "explore", "2.1-read-write-pair", "--json", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=240)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            bad, fixed = json.loads(out.read_text())["summary"]
            self.assertTrue(bad["explore"]["exhausted"])
            self.assertGreater(bad["explore"]["reported"], 0)
            self.assertGreater(bad["explore"]["blind_spots"], 0)
            self.assertEqual([(e["kind"], e["ok"]) for e in bad["examples"]],
                             [("detecting", True), ("blind spot", True)])
            self.assertTrue(all("map timeline" in e["stderr"] for e in bad["examples"]))
            self.assertEqual(fixed["explore"]["reported"], 0)
            self.assertEqual(fixed["explore"]["overlapping"], 0)
            self.assertEqual(fixed["verdict"], "pass")


if __name__ == "__main__":
    unittest.main()
