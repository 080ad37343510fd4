"""runner.py --merge: the JSON reports of a run's shards read back as that one run.

A fake tree with every kind of unit (passing, failing on odd seeds, unseen
corruption, a timeline to draw, a control) runs once whole and once as four
shards; the merge of the shards must report what the whole run reported:
verdicts, counts, runs and seeds, the closing line and exit status, JSON,
JUnit and the HTML page. Then every way a set of reports can fail to be one
run is refused with exit status 2, a message naming the problem, and no
report file written.
"""

import json
import re
import unittest
import xml.etree.ElementTree as ET

import fakes
from fakes import SEED_PARITY_BODY
import test_html
import test_tsan
from test_unseen import BAD_EXPECT as UNSEEN_BAD_EXPECT
from test_unseen import BODY as UNSEEN_BODY

RUN = ("--runs", "6", "--seed", "1", "--mode", "both")
SHARDS = 4


def table_rows(stdout):
    """The table's rows without the median column (times differ from run to run)."""
    rows = {}
    for line in stdout.splitlines():
        cells = line.split()
        if len(cells) > 3 and cells[1] in ("bad", "fixed", "control") and cells[2] in ("forced", "natural"):
            rows[tuple(cells[:3])] = cells[3:-2] + cells[-1:]
    return rows


def without_times(entry):
    """A JSON entry without what depends on timing: times, and which run
    became a unit's sample (the first suitable one to finish)."""
    out = {k: v for k, v in entry.items() if k not in ("median_ms", "ms")}
    if out.get("sample"):
        out["sample"] = {"index": "any", "stderr": out["sample"]["stderr"]}
    return out


def populate(tree):
    tree.add_case("2.1-read-write-pair")
    tree.add_case("2.2-timeline", body=test_html.RunnerHtmlOptionTests.BODY)
    tree.add_case("3.1-value-receiver-copy", body=SEED_PARITY_BODY)
    tree.add_case("4.4-subtests", body=UNSEEN_BODY, expects={"bad": UNSEEN_BAD_EXPECT, "fixed": fakes.FIXED_EXPECT})
    tree.add_case("control-len-while-writing", group="control", variants="control")


class MergeTestCase(fakes.TreeTestCase):
    def setUp(self):
        super().setUp()
        populate(self.tree)

    def path(self, name):
        return self.tree.tmp / name

    def run_shards(self, *extra, n=SHARDS, run=RUN, prefix="shard"):
        paths = []
        for i in range(1, n + 1):
            out = self.path(f"{prefix}{i}.json")
            proc = self.tree.run(*run, "--shard", f"{i}/{n}", "--json", str(out), *extra)
            self.assertIn(proc.returncode, (0, 1), proc.stdout + proc.stderr)
            paths.append(out)
        return paths

    def merge(self, *paths, outputs=True):
        args = ["--merge", *map(str, paths)]
        if outputs:
            args += ["--json", str(self.path("merged.json")), "--junit", str(self.path("merged.xml")),
                     "--html", str(self.path("merged.html"))]
        return self.tree.run(*args)


class MergeMatchesOneRunTests(MergeTestCase):
    def test_four_shards_merge_into_what_one_run_reports(self):
        whole = self.tree.run(*RUN, "--json", str(self.path("whole.json")), "--junit", str(self.path("whole.xml")),
                              "--html", str(self.path("whole.html")))
        self.assertEqual(whole.returncode, 1, whole.stdout + whole.stderr)
        shards = self.run_shards()
        merged = self.merge(*shards)
        self.assertNoTraceback(merged)
        # Exit status, closing line, and the table row by row.
        self.assertEqual(merged.returncode, whole.returncode, merged.stdout + merged.stderr)
        self.assertEqual(merged.stdout.splitlines()[-1], whole.stdout.splitlines()[-1])
        self.assertEqual(merged.stdout.splitlines()[-1], "15 passed, 3 failed")
        self.assertEqual(table_rows(merged.stdout), table_rows(whole.stdout))
        self.assertEqual(len(table_rows(whole.stdout)), 18)
        self.assertIn(f"{SHARDS} shard reports merged", merged.stdout.splitlines()[0])
        self.assertRegex(merged.stdout, r"\n108 runs in [0-9.]+s wall")
        # The failures, their reasons and replay commands, line for line: a
        # unit names its failing runs with the lowest indexes, whatever
        # order they finished in, in one run and in a merge alike.
        def failures(out):
            return out.split("\nfailures:\n", 1)[1].split("\n\n", 1)[0].splitlines()
        self.assertEqual(failures(merged.stdout), failures(whole.stdout))

        # JSON: the same summary per unit (times aside), the same runs with
        # the same seeds, the same totals.
        w = json.loads(self.path("whole.json").read_text())
        m = json.loads(self.path("merged.json").read_text())
        self.assertEqual([without_times(e) for e in m["summary"]], [without_times(e) for e in w["summary"]])
        key = lambda r: (r["case"], r["variant"], r["mode"], r["index"])  # noqa: E731
        self.assertEqual(sorted((without_times(r) for r in m["runs"]), key=key),
                         sorted((without_times(r) for r in w["runs"]), key=key))
        self.assertEqual(len(m["runs"]), 108)
        for field in ("seed", "interrupted", "passed", "failed"):
            self.assertEqual(m[field], w[field], field)
        for field in ("judge", "cases", "variants", "modes", "runs_per_unit", "selected_units", "shard"):
            self.assertEqual(m["run"][field], w["run"][field], field)
        # The shards ran side by side: the merged run took its longest shard's time.
        shard_walls = [json.loads(p.read_text())["run"]["wall_s"] for p in shards]
        self.assertAlmostEqual(m["run"]["wall_s"], max(shard_walls), places=2)
        # Unseen corruption and a drawn sample came through the shards.
        unseen = next(e for e in m["summary"] if e["case"] == "4.4-subtests" and e["variant"] == "bad"
                      and e["mode"] == "natural")
        self.assertGreater(unseen["unseen_corruption"], 0)
        self.assertEqual(unseen["verdict"], "pass")

        # JUnit: the same test cases with the same verdicts and tallies.
        def cases(path):
            root = ET.parse(path).getroot()
            suite = root.find("testsuite")
            out = {}
            for tc in suite.findall("testcase"):
                kind = "failure" if tc.find("failure") is not None else \
                    "skipped" if tc.find("skipped") is not None else "pass"
                text = (tc.find("failure").text if kind == "failure" else tc.find("system-out").text)
                # Failing runs in any order, as in the text report.
                out[(tc.get("classname"), tc.get("name"))] = (kind, sorted(
                    re.sub(r"; first: .*", "", line) for line in text.splitlines()))
            attrs = {k: suite.get(k) for k in ("name", "tests", "failures", "skipped")}
            return attrs, out
        self.assertEqual(cases(self.path("merged.xml")), cases(self.path("whole.xml")))

        # HTML: the same table, totals and cards, with the timeline drawn.
        def page(path):
            text = path.read_text()
            text = re.sub(r'<td class="num">[0-9.]+</td><td class="verdict">', "<td>MEDIAN</td>", text)
            text = re.sub(r"run \d+ \(seed \d+, ", "run N (seed S, ", text)  # which run is the sample
            return re.sub(r'<p class="meta">.*?</p>', "", text)
        merged_page, whole_page = page(self.path("merged.html")), page(self.path("whole.html"))
        self.assertEqual(merged_page, whole_page)
        self.assertIn("<svg", merged_page)
        self.assertIn("15 passed</span>, <span class=\"fail\">3 failed", merged_page)

    def test_a_merge_is_independent_of_the_order_of_its_reports(self):
        shards = self.run_shards()
        first = self.merge(*shards, outputs=False)
        second = self.merge(*reversed(shards), outputs=False)
        self.assertEqual(first.returncode, 1)
        self.assertEqual(table_rows(first.stdout), table_rows(second.stdout))

    def test_one_unsharded_report_merges_into_itself(self):
        self.tree.run(*RUN, "--json", str(self.path("whole.json")))
        proc = self.merge(self.path("whole.json"), outputs=False)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(len(table_rows(proc.stdout)), 18)
        self.assertClosingLine(proc, 15, 3)

    def test_a_passing_merge_exits_0(self):
        shards = self.run_shards("--variant", "fixed,control")
        proc = self.merge(*shards, outputs=False)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertClosingLine(proc, 10, 0)

    def test_empty_shards_merge(self):
        # More shards than units: the extra shards hold nothing.
        shards = self.run_shards("--variant", "control", n=3)
        proc = self.merge(*shards, outputs=False)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertClosingLine(proc, 2, 0)

    def test_a_shard_stopped_by_a_signal_stops_the_merged_run(self):
        shards = self.run_shards("--variant", "control", n=2)
        data = json.loads(shards[1].read_text())
        data["interrupted"] = True
        data["run"]["interrupted_by"] = "SIGTERM"
        shards[1].write_text(json.dumps(data))
        proc = self.merge(*shards)
        self.assertEqual(proc.returncode, 128 + 15, proc.stdout + proc.stderr)
        self.assertIn("interrupted by SIGTERM", proc.stdout)
        merged = json.loads(self.path("merged.json").read_text())
        self.assertEqual((merged["interrupted"], merged["run"]["interrupted_by"]), (True, "SIGTERM"))
        self.assertIn("interrupted by SIGTERM", self.path("merged.html").read_text())

    def test_the_merge_runs_nothing(self):
        shards = self.run_shards()
        for exe in self.tree.bin_dir.iterdir():
            exe.unlink()
        proc = self.merge(*shards, outputs=False)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertClosingLine(proc, 15, 3)


class MergeUnderThreadSanitizerTests(fakes.TreeTestCase):
    def test_shards_judged_by_thread_sanitizer_merge_with_their_judge(self):
        root = self.tree.root
        tsan_bin = root / "build-tsan" / "cases"
        tsan_bin.mkdir(parents=True)
        race = test_tsan.RACE_21.split("fatal error")[0].replace("'", "")
        expects = {"bad": "exit: 2\nfirst-line: fatal error: concurrent map writes\n", "fixed": fakes.FIXED_EXPECT}
        self.tree.add_case("2.1-a", body=None, expects=expects)
        self.tree.add_case("2.2-b", body=None, expects=expects)
        for cid in ("2.1-a", "2.2-b"):
            exe = tsan_bin / cid
            # Odd seeds of the bad variant show no race (not reproduced).
            exe.write_text(fakes.SCRIPT_PROLOGUE + f"""
if [ "$variant" = bad ] && [ $((seed % 2)) -eq 0 ]; then printf '%s' '{race}' >&2; exit 66; fi
echo DONE
""")
            exe.chmod(0o755)
        run = ("--sanitizer", "thread", "--runs", "4", "--seed", "3", "--mode", "both")
        whole = self.tree.run(*run, "--json", str(self.tree.tmp / "whole.json"))
        shards = []
        for i in (1, 2):
            shards.append(self.tree.tmp / f"t{i}.json")
            self.tree.run(*run, "--shard", f"{i}/2", "--json", str(shards[-1]))
        merged = self.tree.run("--merge", *map(str, shards), "--json", str(self.tree.tmp / "m.json"),
                               "--junit", str(self.tree.tmp / "m.xml"))
        self.assertNoTraceback(merged)
        self.assertEqual(merged.returncode, whole.returncode, merged.stdout + merged.stderr)
        self.assertTrue(merged.stdout.startswith("ThreadSanitizer: 2 shard reports merged"), merged.stdout)
        self.assertEqual(merged.stdout.splitlines()[-1], whole.stdout.splitlines()[-1])
        self.assertEqual(table_rows(merged.stdout), table_rows(whole.stdout))
        w = json.loads((self.tree.tmp / "whole.json").read_text())
        m = json.loads((self.tree.tmp / "m.json").read_text())
        self.assertEqual((m["sanitizer"], m["tsan_options"], m["run"]["judge"]),
                         (w["sanitizer"], w["tsan_options"], "thread"))
        self.assertEqual([without_times(e) for e in m["summary"]], [without_times(e) for e in w["summary"]])
        self.assertEqual({e["tsan_expectation"] for e in m["summary"]}, {"trigger", "race-free"})
        self.assertEqual(ET.parse(self.tree.tmp / "m.xml").getroot().find("testsuite").get("name"),
                         "gomap-catalogue-tsan")


class MergeErrorTests(MergeTestCase):
    @classmethod
    def setUpClass(cls):
        # The four shard reports of RUN, made once: each test gets fresh
        # copies (the reports name no path of the tree they were made in).
        tree = fakes.FakeTree()
        try:
            populate(tree)
            cls.pristine = []
            for i in range(1, SHARDS + 1):
                out = tree.tmp / f"shard{i}.json"
                proc = tree.run(*RUN, "--shard", f"{i}/{SHARDS}", "--json", str(out))
                assert proc.returncode in (0, 1), proc.stdout + proc.stderr
                cls.pristine.append(out.read_bytes())
        finally:
            tree.cleanup()

    def run_shards(self, *extra, n=SHARDS, run=RUN, prefix="shard"):
        if extra or n != SHARDS or run != RUN or prefix != "shard":
            return super().run_shards(*extra, n=n, run=run, prefix=prefix)
        paths = []
        for i, data in enumerate(self.pristine, 1):
            paths.append(self.path(f"{prefix}{i}.json"))
            paths[-1].write_bytes(data)
        return paths

    def assertRefused(self, proc, *messages):
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertNoTraceback(proc)
        for m in messages:
            self.assertIn(m, proc.stderr)
        for name in ("merged.json", "merged.xml", "merged.html"):
            self.assertFalse(self.path(name).exists(), name)

    def edit(self, path, change):
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))

    def test_unreadable_and_invalid_reports(self):
        self.assertRefused(self.merge(self.path("nowhere.json")), "cannot read the shard report", "nowhere.json")
        bad = self.path("bad.json")
        bad.write_text("{ not json")
        self.assertRefused(self.merge(bad), "bad.json: not valid JSON (line 1, column 3)")
        bad.write_text("[1, 2]")
        self.assertRefused(self.merge(bad), "not a report of runner.py --json")
        bad.write_text(json.dumps({"seed": 1, "runs": [], "summary": []}))
        self.assertRefused(self.merge(bad), "the report's 'run' field is missing")
        bad.write_text(json.dumps({"seed": 1, "runs": [], "summary": [], "run": {"judge": "signature"}}))
        self.assertRefused(self.merge(bad), "the report's 'run' field has no")

    def test_malformed_numbers_are_named_in_the_runners_words(self):
        for change, message in ((lambda d: d["run"].update(runs_per_unit="x"), "runs_per_unit is not a whole number"),
                                (lambda d: d["run"].update(wall_s="soon"), "wall_s is not a number"),
                                (lambda d: d["runs"][0].update(index="first"), "index is not a whole number"),
                                (lambda d: d["run"].update(cases=5), "a field holds a value of the wrong kind")):
            shards = self.run_shards()
            self.edit(shards[0], change)
            proc = self.merge(*shards)
            self.assertRefused(proc, message)
            self.assertNotIn("invalid literal", proc.stderr)
            self.assertNotIn("could not convert", proc.stderr)
            self.assertNotIn("object is not", proc.stderr)

    def test_shards_of_different_runs(self):
        shards = self.run_shards()
        other = self.path("other.json")
        for args, message in ((("--runs", "6", "--seed", "12", "--mode", "both"), "master seed 1 in one, 12 in"),
                              (("--runs", "6", "--seed", "1", "--mode", "forced"),
                               "modes forced+natural in one, forced in the other"),
                              (("--runs", "5", "--seed", "1", "--mode", "both"), "--runs 6 in one, 5 in the other"),
                              (RUN + ("--timeout", "3"), "--timeout 10.0 in one, 3.0 in the other"),
                              (RUN + ("--variant", "bad"), "--variant all in one, bad in the other"),
                              (RUN + ("2.1-read-write-pair",), "case selection all in one, 2.1-read-write-pair in")):
            proc = self.tree.run(*args, "--shard", "4/4", "--json", str(other))
            self.assertIn(proc.returncode, (0, 1), proc.stderr)
            self.assertRefused(self.merge(*shards[:3], other), "are not shards of one run", message)

    def test_different_shard_counts(self):
        shards = self.run_shards()
        two = self.run_shards(n=2, prefix="half")
        self.assertRefused(self.merge(shards[0], two[1]), "different numbers of shards", "shard1.json is 1/4",
                           "half2.json is 2/2")

    def test_missing_shards_are_named(self):
        shards = self.run_shards()
        self.assertRefused(self.merge(shards[0], shards[2]), "missing shards 2/4, 4/4 (given: 1/4, 3/4)")
        self.assertRefused(self.merge(*shards[:3]), "missing shard 4/4 (given: 1/4, 2/4, 3/4)")

    def test_a_shard_given_twice(self):
        shards = self.run_shards()
        self.assertRefused(self.merge(*shards, shards[1]), "shard 2/4 given twice")

    def test_the_same_unit_in_two_shards(self):
        shards = self.run_shards()

        def steal(data):
            first = json.loads(shards[0].read_text())
            unit = first["summary"][0]
            data["summary"].append(unit)
            data["runs"] += [r for r in first["runs"] if (r["case"], r["variant"], r["mode"])
                             == (unit["case"], unit["variant"], unit["mode"])]
        self.edit(shards[1], steal)
        self.assertRefused(self.merge(*shards), "unit 2.1-read-write-pair bad forced is in two shard reports",
                           "shard1.json and /", "/shard2.json\n")

    def test_a_unit_dropped_or_a_run_counted_twice(self):
        shards = self.run_shards()
        saved = shards[2].read_text()
        self.edit(shards[2], lambda d: d["summary"].pop())
        self.assertRefused(self.merge(*shards), "shard3.json (shard 3/4) lacks units of its slice")
        shards[2].write_text(saved)
        self.edit(shards[2], lambda d: d["runs"].append(d["runs"][0]))
        self.assertRefused(self.merge(*shards), "is listed twice")
        shards[2].write_text(saved)

        def more(d):
            d["summary"][0]["matched"] += 1
        self.edit(shards[2], more)
        self.assertRefused(self.merge(*shards), "the summary says matched")
        shards[2].write_text(saved)
        self.edit(shards[2], lambda d: d["runs"].pop())
        self.assertRefused(self.merge(*shards), "its runs add up to")
        shards[2].write_text(saved)
        self.edit(shards[2], lambda d: d["runs"][0].update(seed=d["runs"][0]["seed"] + 1))
        self.assertRefused(self.merge(*shards), "not the one master seed 1 gives it")
        shards[2].write_text(saved)
        self.assertEqual(self.merge(*shards).returncode, 1)

    def test_reports_of_another_tree(self):
        shards = self.run_shards()
        (self.tree.expected_dir / "2.1-read-write-pair.bad.expect").write_text(
            fakes.BAD_EXPECT.replace("concurrent map writes", "concurrent map read and map write"))
        self.assertRefused(self.merge(*shards), "merge in the source tree the shards ran from")
        self.tree.add_case("5.1-new-case")
        self.assertRefused(self.merge(*shards), "this tree selects 22")

    def test_options_a_merge_cannot_take_are_refused_while_parsing(self):
        report = str(self.path("never-read.json"))
        for args, flag in ((["2.1-read-write-pair"], "case selection"), (["--runs", "3"], "--runs"),
                           (["--mode", "natural"], "--mode"), (["--sanitizer", "thread"], "--sanitizer"),
                           (["--list"], "--list"), (["--explain", "2.1-read-write-pair"], "--explain"),
                           (["--seed", "1"], "--seed"), (["--shard", "1/2"], "--shard"),
                           (["--variant", "bad"], "--variant"), (["-v"], "-v"), (["--failfast"], "--failfast"),
                           (["--keep", str(self.path("k"))], "--keep"), (["--matrix"], "--matrix")):
            proc = self.tree.run(*args, "--merge", report, "--json", str(self.path("merged.json")))
            self.assertRefused(proc, f"--merge cannot be combined with {flag}", "usage:")
            self.assertEqual(proc.stdout, "")


if __name__ == "__main__":
    unittest.main()
