"""Parsing of expected files (expected/FORMAT.md) and of the case manifest."""

import unittest
from pathlib import Path

import fakes
from fakes import base, expect, manifest

P = Path("expected/x.bad.expect")


def parse(text):
    return expect.parse_expect_text(text, P)


class ExpectedFileTests(unittest.TestCase):
    def assertRejected(self, text, *fragments):
        with self.assertRaises(base.UsageError) as cm:
            parse(text)
        for f in fragments:
            self.assertIn(f, str(cm.exception))

    def test_the_format_example_parses_into_every_field(self):
        exp = parse(fakes.BAD_EXPECT + "natural-also: fatal error: concurrent map read and map write\n")
        self.assertEqual(exp.exit, 2)
        self.assertEqual(exp.first_line, "fatal error: concurrent map writes")
        self.assertEqual([p.text for p in exp.contains], [r"^thread N .*\[running\]:$", "held by thread N .*map write"])
        self.assertEqual([p.text for p in exp.absent], ["^panic:"])
        self.assertEqual(exp.natural_also, ["fatal error: concurrent map read and map write"])
        self.assertIsNone(exp.stdout)
        self.assertEqual(exp.contains[0].lineno, 4)

    def test_a_clean_expectation_keeps_its_stdout_line(self):
        exp = parse(fakes.FIXED_EXPECT)
        self.assertEqual((exp.exit, exp.stdout, exp.first_line), (0, "DONE", None))
        self.assertEqual(exp.summary(), "exit 0, DONE")

    def test_comments_blank_lines_and_key_order_do_not_matter(self):
        exp = parse("\n  # a comment\nfirst-line: panic: assignment to entry in nil map\n\n   \nexit: 2\n")
        self.assertEqual(exp.first_line, "panic: assignment to entry in nil map")

    def test_the_value_keeps_inner_colons_and_loses_surrounding_blanks(self):
        exp = parse("exit: 2\nfirst-line:   fatal error: a: b  \r\n")
        self.assertEqual(exp.first_line, "fatal error: a: b")

    def test_an_unknown_key_names_file_and_line(self):
        self.assertRejected("exit: 2\nfirst-line: x\nfirstline: y\n", "expected/x.bad.expect:3", "unknown key 'firstline'")

    def test_a_line_without_a_colon_names_file_and_line(self):
        self.assertRejected("# c\nexit 2\n", "expected/x.bad.expect:2", "key: value")

    def test_a_bad_regex_names_file_and_line(self):
        self.assertRejected("exit: 2\nfirst-line: x\ncontains: ([a-\n", "expected/x.bad.expect:3", "bad regular expression")

    def test_a_bad_absent_regex_is_rejected_too(self):
        self.assertRejected("exit: 0\nabsent: *oops\n", "expected/x.bad.expect:2")

    def test_exit_must_be_0_or_2(self):
        self.assertRejected("exit: 1\n", "expected/x.bad.expect:1", "exit must be 0 or 2")
        self.assertRejected("exit: two\nfirst-line: x\n", "expected/x.bad.expect:1")

    def test_exit_is_required(self):
        self.assertRejected("first-line: x\n", "expected/x.bad.expect", "no 'exit:'")

    def test_an_empty_file_is_rejected(self):
        self.assertRejected("", "no 'exit:'")

    def test_a_single_key_given_twice_names_both_lines(self):
        self.assertRejected("exit: 2\nfirst-line: a\nfirst-line: b\n", "expected/x.bad.expect:3", "line 2")

    def test_exit_2_needs_a_first_line(self):
        self.assertRejected("exit: 2\ncontains: x\n", "needs a 'first-line:'")

    def test_first_line_goes_only_with_exit_2(self):
        self.assertRejected("exit: 0\nfirst-line: fatal error: x\n", "expected/x.bad.expect:2", "only with 'exit: 2'")

    def test_stdout_goes_only_with_exit_0(self):
        self.assertRejected("exit: 2\nfirst-line: x\nstdout: DONE\n", "expected/x.bad.expect:3", "only with 'exit: 0'")

    def test_natural_also_match_is_a_regex_checked_on_load(self):
        exp = parse(fakes.BAD_EXPECT + "natural-also-match: fatal error: .* \\(concurrent map writes\\?\\)\n")
        self.assertEqual(len(exp.natural_also_match), 1)
        with self.assertRaises(base.UsageError) as cm:
            parse(fakes.BAD_EXPECT + "natural-also-match: fatal error: (\n")
        self.assertIn("bad regular expression", str(cm.exception))

    def test_natural_also_goes_only_with_exit_2(self):
        self.assertRejected("exit: 0\nnatural-also: x\n", "only with 'exit: 2'")

    def test_a_line_limited_to_one_generation_holds_for_that_generation_only(self):
        text = ("exit: 2\nfirst-line: fatal error: concurrent map writes\n"
                "natural-also[swiss]: fatal error: small map with no empty slot (concurrent map writes?)\n"
                "natural-also-match[bucket]: fatal error: bad map state\n"
                "absent[swiss]: ^harness:\n")
        bucket = expect.parse_expect_text(text, P, "bucket")
        swiss = expect.parse_expect_text(text, P, "swiss")
        self.assertEqual(bucket.natural_also, [])
        self.assertEqual([p.text for p in bucket.natural_also_match], ["fatal error: bad map state"])
        self.assertEqual(bucket.absent, [])
        self.assertEqual(swiss.natural_also, ["fatal error: small map with no empty slot (concurrent map writes?)"])
        self.assertEqual(swiss.natural_also_match, [])
        self.assertEqual([p.text for p in swiss.absent], ["^harness:"])
        self.assertEqual((bucket.generation, swiss.generation), ("bucket", "swiss"))
        # Without a generation, the file is read for the default one.
        self.assertEqual(parse(text).natural_also, [])

    def test_a_generation_limit_is_checked(self):
        self.assertRejected("exit: 2\nfirst-line: x\nnatural-also[hash]: y\n", "expected/x.bad.expect:3",
                            "unknown map generation 'hash'", "bucket, swiss")
        self.assertRejected("exit: 2\nfirst-line[swiss]: x\n", "expected/x.bad.expect:2",
                            "limited to one generation, not 'first-line'")
        # A line for the other generation is still checked.
        self.assertRejected("exit: 2\nfirst-line: x\nnatural-also-match[swiss]: (\n", "bad regular expression")

    def test_the_swiss_line_is_a_natural_alternative_of_the_racing_writers_cases(self):
        swiss_line = "fatal error: small map with no empty slot (concurrent map writes?)"
        files = sorted((fakes.REPO / "expected").glob("*.expect"))
        racing = [f for f in files if "natural-also-match: fatal error: .+" in f.read_text()]
        self.assertGreaterEqual(len(racing), 8)
        named = r"fatal error: small map with no empty slot \(concurrent map writes\?\)"
        for f in racing:
            swiss = [p.text for p in expect.load_expectation(f, "swiss").natural_also_match]
            bucket = [p.text for p in expect.load_expectation(f, "bucket").natural_also_match]
            self.assertIn(named, swiss, f.name)
            self.assertNotIn(named, bucket, f.name)
            self.assertTrue(any(p.regex.fullmatch(swiss_line)
                                for p in expect.load_expectation(f, "swiss").natural_also_match), f.name)

    def test_a_missing_file_is_a_usage_error(self):
        with self.assertRaises(base.UsageError) as cm:
            expect.load_expectation(Path("/nonexistent/dir/a.bad.expect"))
        self.assertIn("/nonexistent/dir/a.bad.expect", str(cm.exception))


class FormatDocumentTests(unittest.TestCase):
    """expected/FORMAT.md shows a real expected file; the copy must not drift."""

    def test_the_example_in_format_md_is_the_real_file(self):
        doc = (fakes.REPO / "expected" / "FORMAT.md").read_text()
        name = "expected/2.1-read-write-pair.bad.expect"
        self.assertIn(f"Example, `{name}`", doc)
        example = doc.split(f"Example, `{name}`", 1)[1].split("```\n", 2)[1]
        self.assertEqual(example, (fakes.REPO / name).read_text())
        # ... and the documented example is itself a valid file.
        self.assertEqual(parse(example).first_line, "fatal error: concurrent map read and map write")


class ManifestTests(fakes.TreeTestCase):
    def load(self, text):
        path = self.tree.cases_dir / "manifest.tsv"
        path.write_text(text)
        return manifest.load_manifest(path)

    def assertRejected(self, text, *fragments):
        with self.assertRaises(base.UsageError) as cm:
            self.load(text)
        for f in fragments:
            self.assertIn(f, str(cm.exception))

    def test_rows_come_back_in_file_order_with_comments_skipped(self):
        cases = self.load(
            "# the catalogue\n" + fakes.MANIFEST_HEADER
            + "2.1-read-write-pair\tarticle\t2.1\tbad,fixed\tone reads, one writes\t0/100\t-\t-\n"
            + "# a comment between rows\n\n"
            + "control-gc-only\tcontrol\t-\tcontrol\tgc never trips it\t-\t-\tunchecked-race\n")
        self.assertEqual([c.id for c in cases], ["2.1-read-write-pair", "control-gc-only"])
        self.assertEqual((cases[0].traits, cases[0].unchecked_race), ([], False))
        self.assertEqual((cases[1].traits, cases[1].unchecked_race), (["unchecked-race"], True))
        self.assertEqual(cases[0].variants, ["bad", "fixed"])
        self.assertEqual((cases[0].section, cases[0].go_article), ("2.1", "0/100"))
        self.assertEqual(cases[1].group, "control")

    def test_an_unknown_trait_is_rejected_with_its_line(self):
        self.assertRejected(fakes.MANIFEST_HEADER + "a\tarticle\t-\tbad,fixed\tt\t-\t-\tfast\n", "manifest.tsv:2",
                            "traits must be '-' or a comma-separated list of unchecked-race, not 'fast'")

    def test_a_wrong_header_is_rejected_with_its_line(self):
        self.assertRejected("# c\nid\tgroup\n", "manifest.tsv:2", "header")

    def test_a_short_row_names_its_line(self):
        self.assertRejected(fakes.MANIFEST_HEADER + "a\tarticle\t-\n", "manifest.tsv:2", "8 tab-separated columns, found 3")

    def test_an_unknown_group_names_its_line(self):
        self.assertRejected(fakes.MANIFEST_HEADER + "a\tnope\t-\tbad,fixed\tt\t-\t-\t-\n", "manifest.tsv:2", "group")

    def test_unknown_variants_are_rejected(self):
        self.assertRejected(fakes.MANIFEST_HEADER + "a\tfamily\t-\tbad,good\tt\t-\t-\t-\n", "manifest.tsv:2", "variants")

    def test_a_duplicate_id_names_both_lines(self):
        row = "a\tfamily\t-\tbad,fixed\tt\t-\t-\t-\n"
        self.assertRejected(fakes.MANIFEST_HEADER + row + row, "manifest.tsv:3", "line 2")

    def test_an_id_that_is_not_a_plain_name_is_rejected(self):
        self.assertRejected(fakes.MANIFEST_HEADER + "../x\tfamily\t-\tbad,fixed\tt\t-\t-\t-\n", "manifest.tsv:2", "bad case id")

    def test_an_empty_manifest_is_rejected(self):
        self.assertRejected("# nothing\n", "no header")

    def test_a_missing_manifest_is_a_usage_error(self):
        with self.assertRaises(base.UsageError) as cm:
            manifest.load_manifest(self.tree.root / "nope.tsv")
        self.assertIn("manifest not found", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
