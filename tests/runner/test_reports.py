"""The reports: the table, --json, --junit, --keep and --explain."""

import json
import re
import unittest
import xml.etree.ElementTree as ET

import fakes
from fakes import SEED_PARITY_BODY

HEADER_RE = re.compile(r"^case\s+variant\s+mode\s+expected\s+runs\s+matched\s+not-repro\s+wrong\s+timeout\s+unseen\s+median ms\s+verdict$",
                       re.M)


class MixedTreeTestCase(fakes.TreeTestCase):
    """Three cases: one good, one failing on odd seeds, one control."""

    def setUp(self):
        super().setUp()
        self.tree.add_case("2.1-read-write-pair")
        self.tree.add_case("3.1-value-receiver-copy", body=SEED_PARITY_BODY)
        self.tree.add_case("control-len-while-writing", group="control", variants="control")


class TableTests(MixedTreeTestCase):
    def test_the_table_has_one_row_per_unit_and_counts_every_outcome(self):
        proc = self.tree.run("--runs", "10", "--seed", "4")
        self.assertEqual(proc.returncode, 1)
        self.assertRegex(proc.stdout, HEADER_RE)
        rows = {tuple(m[:3]): m for m in (line.split() for line in proc.stdout.splitlines())
                if len(m) > 3 and m[1] in ("bad", "fixed", "control") and m[2] == "forced"}
        self.assertEqual(len(rows), 5)
        good = rows[("2.1-read-write-pair", "bad", "forced")]
        self.assertEqual(good[-8:-2], ["10", "10", "0", "0", "0", "0"])
        self.assertEqual(good[-1], "pass")
        flaky = rows[("3.1-value-receiver-copy", "bad", "forced")]
        matched, wrong = int(flaky[-7]), int(flaky[-5])
        self.assertEqual(matched + wrong, 10)
        self.assertTrue(matched and wrong)
        self.assertEqual(flaky[-1], "FAIL")
        self.assertEqual(rows[("control-len-while-writing", "control", "forced")][-1], "pass")
        self.assertIn(" exit 0, DONE ", proc.stdout)
        self.assertClosingLine(proc, 4, 1)


class JsonTests(MixedTreeTestCase):
    def test_json_holds_every_run_and_the_summary(self):
        out = self.tree.tmp / "report.json"
        proc = self.tree.run("--runs", "6", "--seed", "9", "--mode", "both", "--json", str(out))
        self.assertEqual(proc.returncode, 1)
        data = json.loads(out.read_text())
        self.assertEqual(set(data), {"seed", "interrupted", "runs", "summary", "passed", "failed", "skipped", "run"})
        self.assertEqual(data["skipped"], 0)
        self.assertEqual((data["seed"], data["interrupted"]), (9, False))
        self.assertEqual(len(data["runs"]), 10 * 6)
        self.assertEqual(len(data["summary"]), 10)
        self.assertEqual((data["passed"], data["failed"]), (8, 2))
        for r in data["runs"]:
            self.assertTrue({"case", "variant", "mode", "seed", "outcome", "exit", "signal", "first_line", "ms"} <= set(r))
            self.assertIn(r["outcome"], ("matched", "not-reproduced", "wrong-signature", "timeout"))
            self.assertIsInstance(r["seed"], int)
            self.assertIsInstance(r["ms"], float)
        wrong = [r for r in data["runs"] if r["outcome"] == "wrong-signature"]
        self.assertTrue(wrong)
        for r in wrong:
            self.assertEqual(r["case"], "3.1-value-receiver-copy")
            self.assertEqual(r["seed"] % 2, 1)
            self.assertEqual(r["exit"], 2)
            self.assertIsNone(r["signal"])
            self.assertTrue(r["first_line"].startswith("fatal error: concurrent map read and map write (seed"))
            self.assertIn("first line", r["reason"])
        for s in data["summary"]:
            self.assertEqual(s["completed"], 6)
            self.assertEqual(s["matched"] + s["not_reproduced"] + s["wrong_signature"] + s["timeout"], 6)
            self.assertIn(s["verdict"], ("pass", "FAIL"))
            runs = [r for r in data["runs"] if (r["case"], r["variant"], r["mode"]) == (s["case"], s["variant"], s["mode"])]
            self.assertEqual(sum(r["outcome"] == "matched" for r in runs), s["matched"])
        failing = [s for s in data["summary"] if s["verdict"] == "FAIL"]
        self.assertEqual({(s["case"], s["variant"]) for s in failing}, {("3.1-value-receiver-copy", "bad")})


class JunitTests(MixedTreeTestCase):
    def test_junit_has_one_test_case_per_unit_and_failures_carry_the_signatures(self):
        out = self.tree.tmp / "report.xml"
        proc = self.tree.run("--runs", "6", "--seed", "9", "--junit", str(out))
        self.assertEqual(proc.returncode, 1)
        root = ET.parse(out).getroot()
        self.assertEqual(root.tag, "testsuites")
        (suite,) = root.findall("testsuite")
        self.assertEqual(suite.get("name"), "gomap-catalogue")
        self.assertEqual((suite.get("tests"), suite.get("failures")), ("5", "1"))
        cases = suite.findall("testcase")
        self.assertEqual([(c.get("classname"), c.get("name")) for c in cases], [
            ("article.2.1-read-write-pair", "bad.forced"), ("article.2.1-read-write-pair", "fixed.forced"),
            ("article.3.1-value-receiver-copy", "bad.forced"), ("article.3.1-value-receiver-copy", "fixed.forced"),
            ("control.control-len-while-writing", "control.forced")])
        for c in cases:
            float(c.get("time"))
        failures = [(c, c.find("failure")) for c in cases if c.find("failure") is not None]
        self.assertEqual(len(failures), 1)
        case, failure = failures[0]
        self.assertEqual(case.get("classname"), "article.3.1-value-receiver-copy")
        msg = failure.get("message")
        self.assertIn("expected: fatal error: concurrent map writes", msg)
        self.assertIn("actual: fatal error: concurrent map read and map write (seed", msg)
        self.assertIn("replay: GOMAP_TIMELINE=1 ", msg)
        self.assertIn("--variant bad --mode forced --seed", failure.text)
        self.assertEqual(failure.get("type"), "wrong-signature")

    def test_junit_output_is_valid_xml_even_with_control_characters(self):
        self.tree.add_case("x", body='printf "fatal error: \\033[1mbold\\001\\n" >&2; exit 2\n')
        out = self.tree.tmp / "r.xml"
        self.tree.run("--runs", "1", "x", "--junit", str(out))
        failure = ET.parse(out).getroot().find("testsuite/testcase/failure")
        self.assertIn("fatal error: ?[1mbold?", failure.get("message"))


class KeepTests(MixedTreeTestCase):
    def test_keep_saves_the_stderr_of_every_run_that_did_not_match(self):
        keep = self.tree.tmp / "kept"
        out = self.tree.tmp / "r.json"
        self.tree.run("--runs", "8", "--seed", "2", "--keep", str(keep), "--json", str(out))
        runs = json.loads(out.read_text())["runs"]
        unmatched = [r for r in runs if r["outcome"] != "matched"]
        self.assertTrue(unmatched)
        saved = sorted(p.name for p in keep.glob("*.stderr"))
        self.assertEqual(saved, sorted(f"{r['case']}.{r['variant']}.{r['mode']}.{r['index']}.stderr" for r in unmatched))
        one = unmatched[0]
        text = (keep / f"{one['case']}.{one['variant']}.{one['mode']}.{one['index']}.stderr").read_text()
        self.assertEqual(text, f"fatal error: concurrent map read and map write (seed {one['seed']})\n")
        index = (keep / "index.tsv").read_text().splitlines()
        self.assertEqual(len(index), len(unmatched))


class ExplainTests(fakes.TreeTestCase):
    def test_explain_shows_write_up_header_expected_files_and_fix(self):
        self.tree.add_case("4.2-cancelled-worker", title="a worker keeps writing after cancel", section="4.2")
        (self.tree.root / "docs" / "cases").mkdir(parents=True)
        (self.tree.root / "docs" / "cases" / "4.2-cancelled-worker.md").write_text("# The cancelled worker\n\nWhy it fails.\n")
        (self.tree.cases_dir / "4.2-cancelled-worker.c").write_text(
            "/*\n * 4.2 cancelled worker: the worker ignores cancellation.\n *\n"
            " * Expected: fatal error: concurrent map read and map write\n *\n"
            " * Fix:     wait for the worker to finish before reading;\n *          cancellation alone is not a barrier.\n"
            " * Real Go: 93/100\n */\n#include <stdio.h>\nint main(void) { return 0; }\n")
        proc = self.tree.run("--explain", "4.2-cancelled-worker")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = proc.stdout
        self.assertIn("4.2-cancelled-worker (article, section 4.2): a worker keeps writing after cancel", out)
        self.assertIn("# The cancelled worker\n\nWhy it fails.\n", out)
        self.assertIn("4.2 cancelled worker: the worker ignores cancellation.\n\nExpected:", out)
        self.assertNotIn("#include", out)
        self.assertIn("first-line: fatal error: concurrent map writes", out)
        self.assertIn("stdout: DONE", out)
        self.assertIn("== fix ==\nwait for the worker to finish before reading; cancellation alone is not a barrier.\n", out)

    def test_the_fix_is_found_in_a_reflowed_header_too(self):
        header = fakes.sources.source_header(
            "/*\n * 3.2 boxed: two writers.\n *\n * Go:      go work(v); go work(v) Expect:  fatal error: x Fix:     box a\n"
            " * value that carries its own lock.\n *\n * Real Go: 17/100.\n */\nint x;\n")
        self.assertEqual(fakes.sources.fix_from_header(header), "box a value that carries its own lock.")
        self.assertIsNone(fakes.sources.fix_from_header("Go: nothing here\nExpect: x"))

    def test_explain_copes_with_missing_pieces(self):
        self.tree.add_case("nil-map-assign", group="family")
        (self.tree.expected_dir / "nil-map-assign.fixed.expect").unlink()
        proc = self.tree.run("--explain", "nil-map-*")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNoTraceback(proc)
        self.assertIn("no write-up yet", proc.stdout)
        self.assertIn("no source yet", proc.stdout)
        self.assertIn("nil-map-assign.fixed.expect\n(missing)", proc.stdout)
        self.assertIn("see the fixed variant", proc.stdout)

    def test_explain_of_a_control_has_nothing_to_fix(self):
        self.tree.add_case("control-gc-only", group="control", variants="control")
        proc = self.tree.run("--explain", "control-gc-only")
        self.assertIn("nothing to fix", proc.stdout)

    def test_explain_needs_a_single_case(self):
        self.tree.add_case("a1")
        self.tree.add_case("a2")
        proc = self.tree.run("--explain", "a*")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("exactly one case", proc.stderr)
        self.assertNoTraceback(proc)


if __name__ == "__main__":
    unittest.main()
