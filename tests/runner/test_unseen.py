"""Unseen corruption: the program's own check failed and the detector stayed quiet.

A natural run of a case whose threads check what they wrote (4.4's
subtests) can end with `harness: --- FAIL: TestScores/dave` and exit 70:
racing writers lost an entry and nobody held the write flag while the other
looked. These tests pin down how such a run is classified and what each
policy makes of it, on a fake case program that ends each way on demand.
"""

import json
import re
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

import fakes
from fakes import base, expect, signature

# Shaped like 4.4's expected file: the detector's report, never a harness line.
BAD_EXPECT = fakes.BAD_EXPECT + "absent: ^harness:\n"
CHECK_FAILED = "harness: --- FAIL: TestScores/dave\n"

# Seeds divisible by 3 match; seeds 1 mod 3 lose an entry (unseen
# corruption); the rest exit 0 without a report (not reproduced). The fixed
# variant fails its own check when UNSEEN_FIXED is set.
BODY = """
if [ "$variant" = bad ]; then
  case $((seed % 3)) in
    0) printf 'fatal error: concurrent map writes\\n\\nthread 3 "w" [running]:\\n\\nwrite flag held by thread 2 "o" [map write]:\\n' >&2
       exit 2 ;;
    1) printf 'harness: --- FAIL: TestScores/dave\\n' >&2; exit 70 ;;
  esac
  echo DONE; exit 0
fi
if [ -n "$UNSEEN_FIXED" ] && [ $((seed % 2)) -eq 0 ]; then
  printf 'harness: --- FAIL: TestScores/dave\\n' >&2; exit 70
fi
echo DONE
"""


class ClassifyTests(unittest.TestCase):
    def setUp(self):
        self.bad = expect.parse_expect_text(BAD_EXPECT, Path("x.bad.expect"))
        self.fixed = expect.parse_expect_text(fakes.FIXED_EXPECT, Path("x.fixed.expect"))

    def classify(self, exp, status, stderr, mode="natural"):
        return signature.classify(exp, mode, status, None, "", stderr)[0]

    def test_a_failed_check_without_a_report_is_unseen_corruption(self):
        for exp in (self.bad, self.fixed):
            for mode in ("forced", "natural"):
                self.assertEqual(self.classify(exp, 70, CHECK_FAILED, mode), base.UNSEEN_CORRUPTION)
        outcome, reason = signature.classify(self.bad, "natural", 70, None, "", CHECK_FAILED)
        self.assertIn("TestScores/dave", reason)

    def test_it_needs_the_marker_the_exit_status_and_a_quiet_detector(self):
        # Another harness failure (its environment, not its check) stays wrong.
        self.assertEqual(self.classify(self.bad, 70, "harness: accept: Too many open files\n"), base.WRONG)
        # The marker with another status is not the harness's way out.
        self.assertEqual(self.classify(self.bad, 1, CHECK_FAILED), base.WRONG)
        # The marker anywhere but on the first line is not a failed check.
        self.assertEqual(self.classify(self.bad, 70, "noise\n" + CHECK_FAILED), base.WRONG)
        # When the detector reported too, the corruption was seen.
        self.assertEqual(self.classify(self.bad, 70, CHECK_FAILED + "fatal error: concurrent map writes\n"),
                         base.WRONG)
        # A signal is never a check.
        self.assertEqual(signature.classify(self.bad, "natural", None, 6, "", CHECK_FAILED)[0], base.WRONG)

    def test_it_is_defined_once_with_the_other_outcomes(self):
        self.assertIn(base.UNSEEN_CORRUPTION, base.OUTCOMES)
        self.assertEqual(len(set(base.OUTCOMES)), len(base.OUTCOMES))
        self.assertEqual(set(base.OUTCOME_LABELS), set(base.OUTCOMES))


class PolicyTests(fakes.TreeTestCase):
    def setUp(self):
        super().setUp()
        self.tree.add_case("4.4-x", body=BODY, expects={"bad": BAD_EXPECT, "fixed": fakes.FIXED_EXPECT})

    def row(self, stdout, variant, mode):
        line = re.search(rf"^4\.4-x\s+{variant}\s+{mode}\s.*$", stdout, re.M).group(0).split()
        # ... runs matched not-repro wrong timeout unseen median verdict
        return dict(zip(("runs", "matched", "not-repro", "wrong", "timeout", "unseen", "median", "verdict"),
                        line[-8:]))

    def test_a_natural_trigger_accepts_it_and_counts_it_apart(self):
        js, xml, page = (self.tree.tmp / n for n in ("r.json", "r.xml", "r.html"))
        proc = self.tree.run("--mode", "natural", "--variant", "bad", "--runs", "30", "--seed", "3",
                             "--json", str(js), "--junit", str(xml), "--html", str(page))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        row = self.row(proc.stdout, "bad", "natural")
        self.assertEqual(row["verdict"], "pass")
        unseen, matched, not_repro = int(row["unseen"]), int(row["matched"]), int(row["not-repro"])
        self.assertTrue(unseen and matched and not_repro, row)
        self.assertEqual(unseen + matched + not_repro, 30)
        self.assertEqual(row["wrong"], "0")
        # The progress line names it when it happened.
        self.assertIn(f"{unseen} unseen corruption", proc.stderr)
        # JSON: its own count, and each such run's outcome.
        data = json.loads(js.read_text())
        (summary,) = data["summary"]
        self.assertEqual(summary["unseen_corruption"], unseen)
        self.assertEqual(sum(r["outcome"] == "unseen-corruption" for r in data["runs"]), unseen)
        # JUnit: a passing test case that still shows the count.
        (tc,) = ET.parse(xml).getroot().iter("testcase")
        self.assertIsNone(tc.find("failure"))
        self.assertIn(f"unseen corruption {unseen}", tc.find("system-out").text)
        # HTML: its column in the table, and the observed line in the card.
        text = page.read_text()
        self.assertIn("<th>unseen</th>", text)
        self.assertIn(f"{unseen}&times; unseen corruption", text)

    def test_a_forced_trigger_fails_on_it(self):
        proc = self.tree.run("--mode", "forced", "--variant", "bad", "--runs", "12", "--seed", "3")
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        row = self.row(proc.stdout, "bad", "forced")
        self.assertEqual(row["verdict"], "FAIL")
        self.assertNotEqual(row["unseen"], "0")
        self.assertIn("4.4-x bad forced:", proc.stdout)
        self.assertRegex(proc.stdout, r"run \d+: unseen-corruption: the program's own check failed")

    def test_a_fixed_variant_fails_on_it(self):
        for mode in ("forced", "natural"):
            proc = self.tree.run("--mode", mode, "--variant", "fixed", "--runs", "6", "--seed", "3",
                                 env={"UNSEEN_FIXED": "1"})
            self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
            row = self.row(proc.stdout, "fixed", mode)
            self.assertEqual(row["verdict"], "FAIL")
            self.assertNotEqual(row["unseen"], "0")

    def test_a_control_fails_on_it(self):
        self.tree.add_case("control-x", group="control", variants="control",
                           body="printf 'harness: --- FAIL: TestX/y\\n' >&2; exit 70\n")
        proc = self.tree.run("control-x", "--runs", "2")
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertRegex(proc.stdout, r"(?m)^control-x\s+control\s+forced\s.*\s2\s+\S+\s+FAIL$")


if __name__ == "__main__":
    unittest.main()
