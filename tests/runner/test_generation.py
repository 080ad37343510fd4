"""--generation: the core's map generations (bucket, swiss) in every report,
each from its own build directory, and a build that holds another generation
refused (fake trees whose programs name their generation in --banner)."""

import json
import re
import xml.etree.ElementTree as ET

import fakes

SWISS_LINE = "fatal error: small map with no empty slot (concurrent map writes?)"

# Natural mode ends with the Swiss-table line, forced with the usual report.
SWISS_NATURAL_BODY = """
if [ "$variant" = bad ]; then
  if [ "$mode" = natural ]; then
    printf 'fatal error: small map with no empty slot (concurrent map writes?)\\n' >&2
  else
    printf 'fatal error: concurrent map writes\\n\\nthread 3 "w" [running]:\\n\\nwrite flag held by thread 2 "o" [map write]:\\n' >&2
  fi
  exit 2
fi
echo DONE
"""


class GenerationTests(fakes.TreeTestCase):
    def setUp(self):
        super().setUp()
        self.tree.add_case("2.1-a")
        self.tree.add_case("control-b", group="control", variants="control")

    def test_the_default_is_the_bucket_build(self):
        out = self.tree.tmp / "r.json"
        proc = self.tree.run("--runs", "1", "--json", str(out))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("3 units (forced), 3 runs", proc.stdout)
        report = json.loads(out.read_text())
        self.assertEqual(report["run"]["generations"], ["bucket"])
        self.assertEqual({e["generation"] for e in report["summary"] + report["runs"]}, {"bucket"})

    def test_swiss_runs_the_swiss_build_and_every_report_says_so(self):
        self.tree.add_build("swiss")
        out, xml = self.tree.tmp / "r.json", self.tree.tmp / "r.xml"
        proc = self.tree.run("--runs", "2", "--generation", "swiss", "--json", str(out), "--junit", str(xml))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("3 units (forced; swiss map: ", proc.stdout)
        self.assertIn("build-swiss", proc.stdout.splitlines()[0])
        report = json.loads(out.read_text())
        self.assertEqual(report["run"]["generations"], ["swiss"])
        self.assertEqual({e["generation"] for e in report["summary"] + report["runs"]}, {"swiss"})
        self.assertTrue(all("build-swiss" in (r["replay"] or "build-swiss") for r in report["runs"]))
        names = [tc.get("name") for tc in ET.parse(xml).getroot().iter("testcase")]
        self.assertEqual(names, ["bad.forced.swiss", "fixed.forced.swiss", "control.forced.swiss"])

    def test_both_generations_share_one_table_with_a_generation_column(self):
        self.tree.add_build("swiss")
        out = self.tree.tmp / "r.json"
        proc = self.tree.run("--runs", "1", "--generation", "both", "--json", str(out))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        rows = re.findall(r"^(\S+)\s+(bad|fixed|control)\s+forced\s+(bucket|swiss)\s", proc.stdout, re.M)
        self.assertEqual(len(rows), 6)
        self.assertEqual([g for _, _, g in rows], ["bucket"] * 3 + ["swiss"] * 3)
        self.assertRegex(proc.stdout, re.compile(r"^case\s+variant\s+mode\s+generation\s+expected", re.M))
        report = json.loads(out.read_text())
        self.assertEqual(report["run"]["generations"], ["bucket", "swiss"])
        # The generations' runs have seeds of their own.
        seeds = {(r["case"], r["variant"], r["generation"]): r["seed"] for r in report["runs"]}
        self.assertNotEqual(seeds[("2.1-a", "bad", "bucket")], seeds[("2.1-a", "bad", "swiss")])

    def test_a_build_of_another_generation_is_refused(self):
        # build-swiss configured where the core has no swiss map: its programs
        # still run the bucket map.
        self.tree.add_build("bucket", name="build-swiss")
        (self.tree.root / "build-swiss" / "CMakeCache.txt").write_text("GOMAP_GENERATION:UNINITIALIZED=swiss\n")
        proc = self.tree.run("--runs", "1", "--generation", "swiss")
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertNoTraceback(proc)
        self.assertIn("build-swiss holds the bucket map, not the swiss map asked for", proc.stderr)
        self.assertIn("GOMAP_GENERATION=swiss, which this tree's CMake does not act on", proc.stderr)
        self.assertEqual(proc.stdout, "")
        # ... and a bucket build that holds the swiss map, the other way round.
        self.tree.add_build("swiss", name="build")
        proc = self.tree.run("--runs", "1")
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertIn("holds the swiss map, not the bucket map asked for", proc.stderr)

    def test_the_matrix_measures_one_generations_builds(self):
        self.tree.add_build("swiss")
        self.tree.add_build("swiss", name="build-tsan-swiss")
        out = self.tree.tmp / "m.json"
        proc = self.tree.run("--matrix", "--generation", "swiss", "--runs", "1", "--json", str(out))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertTrue(proc.stdout.startswith("detection matrix (swiss map): 1 case, 1 natural run per case"),
                        proc.stdout)
        self.assertIn("build-swiss and ", proc.stdout.splitlines()[0])
        self.assertIn("build-tsan-swiss", proc.stdout.splitlines()[0])
        self.assertEqual(json.loads(out.read_text())["generation"], "swiss")
        # A ThreadSanitizer build of the other map is refused.
        self.tree.add_build("bucket", name="build-tsan-swiss")
        proc = self.tree.run("--matrix", "--generation", "swiss", "--runs", "1")
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertIn("build-tsan-swiss holds the bucket map, not the swiss map asked for", proc.stderr)
        proc = self.tree.run("--matrix", "--generation", "both")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--matrix cannot be combined with --generation both", proc.stderr)

    def test_threadsanitizer_runs_the_swiss_tsan_build(self):
        self.tree.add_build("swiss", name="build-tsan-swiss")
        proc = self.tree.run("--sanitizer", "thread", "--generation", "swiss", "--runs", "1", "--variant", "fixed")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("ThreadSanitizer (", proc.stdout)
        self.assertIn("build-tsan-swiss: swiss map): 1 unit", proc.stdout.splitlines()[0])

    def test_a_program_without_a_banner_is_named(self):
        exe = self.tree.bin_dir / "control-b"
        exe.write_text(exe.read_text().replace('[ -n "$banner" ] && echo', '[ -n "$banner" ] && true'))
        proc = self.tree.run("--runs", "1", "control-b")
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertIn("--banner printed", proc.stderr)

    def test_generation_options_that_cannot_work_are_refused(self):
        for args, message in ((["--generation", "both", "--build-dir", str(self.tree.tmp)],
                               "--generation both cannot be combined with --build-dir"),
                              (["--generation", "hash"], "invalid choice: 'hash'"),
                              (["--list", "--generation", "swiss"], "--list cannot be combined with --generation")):
            proc = self.tree.run(*args)
            self.assertEqual(proc.returncode, 2, args)
            self.assertIn(message, proc.stderr)


class SwissSignatureTests(fakes.TreeTestCase):
    def test_the_swiss_line_is_accepted_for_the_swiss_generation_only(self):
        expects = {"bad": fakes.BAD_EXPECT + f"natural-also-match[swiss]: {re.escape(SWISS_LINE)}\n",
                   "fixed": fakes.FIXED_EXPECT}
        self.tree.add_case("2.2-w", body=SWISS_NATURAL_BODY, expects=expects)
        self.tree.add_build("swiss")
        swiss = self.tree.run("--runs", "2", "--mode", "natural", "--variant", "bad", "--generation", "swiss")
        self.assertEqual(swiss.returncode, 0, swiss.stdout + swiss.stderr)
        bucket = self.tree.run("--runs", "2", "--mode", "natural", "--variant", "bad")
        self.assertEqual(bucket.returncode, 1, bucket.stdout + bucket.stderr)
        self.assertIn(f"first line '{SWISS_LINE}', expected 'fatal error: concurrent map writes'", bucket.stdout)


class GenerationMergeTests(fakes.TreeTestCase):
    def setUp(self):
        super().setUp()
        self.tree.add_case("2.1-a")
        self.tree.add_case("2.2-b")
        self.tree.add_build("swiss")

    def shard(self, i, *extra):
        out = self.tree.tmp / f"s{i}-{'-'.join(extra) or 'bucket'}.json"
        proc = self.tree.run("--runs", "2", "--seed", "3", "--shard", f"{i}/2", "--json", str(out), *extra)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        return out

    def test_shards_of_both_generations_merge(self):
        whole = self.tree.tmp / "whole.json"
        self.tree.run("--runs", "2", "--seed", "3", "--generation", "both", "--json", str(whole))
        merged = self.tree.tmp / "merged.json"
        proc = self.tree.run("--merge", str(self.shard(1, "--generation", "both")),
                             str(self.shard(2, "--generation", "both")), "--json", str(merged))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        strip = lambda r: sorted((e["case"], e["variant"], e["generation"], e["verdict"])  # noqa: E731
                                 for e in r["summary"])
        self.assertEqual(strip(json.loads(merged.read_text())), strip(json.loads(whole.read_text())))
        self.assertEqual(json.loads(merged.read_text())["run"]["generations"], ["bucket", "swiss"])

    def test_shards_of_different_generations_are_not_merged(self):
        proc = self.tree.run("--merge", str(self.shard(1)), str(self.shard(2, "--generation", "swiss")))
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertIn("map generations bucket in one, swiss in the other", proc.stderr)


if __name__ == "__main__":
    import unittest
    unittest.main()
