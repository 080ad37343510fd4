"""The catalogue's registry agrees with the tree and the build.

cases/manifest.tsv is the registry: every case id, its group and its
variants. Five things must agree with it:

  sources     cases/<id>.c for every id, and no cases/*.c that it lacks
  Go twins    cases/<id>.go (a test twin: cases/<id>_test.go) for every id,
              and no twin it lacks (cases/twin_main.go is shared); a twin
              built by the runner (<build>/go/cases/<id>) lists the same
              variants
  expected/   exactly one <id>.<variant>.expect per id and variant, no others
  build       <build>/cases/<id> exists for every id, and names itself <id>
              (an executable left over from an older build is not looked at:
              the sources decide what CMake builds)
  variants    `<build>/cases/<id> --list-variants` prints its variants

The build directory comes from RUNNER_BUILD_DIR (ctest sets it for the
catalogue_registry test); without it the tree's build/ is used when it has
been built, and the test is skipped otherwise. The checker is also run on
fake trees broken in each of the five ways, so that it is known to notice.
"""

import os
import re
import shutil
import subprocess
import tempfile
import textwrap
import unittest
from pathlib import Path
from typing import List

import fakes
from fakes import base, expect, manifest
from gomaprun import gobuild

# What a case executable prints for --help: a line "<id>: <title>".
HELP_ID_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*): ", re.M)


def check_registry(root: Path, build_dir: Path) -> List[str]:
    """Every disagreement between the registry and the tree or build, as a sentence."""
    problems: List[str] = []
    try:
        cases = manifest.load_manifest(root / "cases" / "manifest.tsv")
    except base.UsageError as e:
        return [f"registry: {e}"]
    ids = [c.id for c in cases]

    sources = {p.stem for p in (root / "cases").glob("*.c")}
    for cid in ids:
        if cid not in sources:
            problems.append(f"sources: cases/{cid}.c is missing (listed in cases/manifest.tsv)")
    for stem in sorted(sources - set(ids)):
        problems.append(f"sources: cases/{stem}.c is not listed in cases/manifest.tsv")

    twins = {p.name[:-len("_test.go")] if p.name.endswith("_test.go") else p.stem
             for p in (root / "cases").glob("*.go") if p.name != gobuild.TWIN_MAIN}
    for cid in ids:
        if gobuild.find_twin(root, cid) is None:
            problems.append(f"Go twins: cases/{cid}.go is missing (listed in cases/manifest.tsv)")
    for stem in sorted(twins - set(ids)):
        problems.append(f"Go twins: cases/{stem}.go is not listed in cases/manifest.tsv")

    expected_dir = root / "expected"
    wanted = {expect.expect_path(expected_dir, c.id, v).name for c in cases for v in c.variants}
    present = {p.name for p in expected_dir.iterdir() if p.name != "FORMAT.md"}
    for name in sorted(wanted - present):
        problems.append(f"expected: expected/{name} is missing")
    for name in sorted(present - wanted):
        problems.append(f"expected: expected/{name} belongs to no case and variant of cases/manifest.tsv")
    # An expected file that opens by naming its case repeats the registry's title.
    for c in cases:
        for v in c.variants:
            path = expect.expect_path(expected_dir, c.id, v)
            first = path.read_text().split("\n", 1)[0] if path.is_file() else ""
            if first.startswith(f"# {c.id}: ") and first != f"# {c.id}: {c.title}":
                problems.append(f"titles: expected/{path.name} names {c.id} with another title than "
                                "cases/manifest.tsv")

    for c in cases:
        exe = build_dir / "cases" / c.id
        if not os.access(exe, os.X_OK):
            problems.append(f"build: {exe} is missing (listed in cases/manifest.tsv)")
            continue
        listed = _run(exe, "--list-variants")
        if listed is None or listed.split() != c.variants:
            problems.append(f"variants: {exe} --list-variants prints {listed.split() if listed else listed}, "
                            f"cases/manifest.tsv says {c.variants}")
        for twin in sorted(build_dir.glob(f"{gobuild.GO_DIR_PREFIX}*/cases/{c.id}")):
            if not os.access(twin, os.X_OK):
                continue
            listed = _run(twin, "--list-variants")
            if listed is None or listed.split() != c.variants:
                problems.append(f"variants: {twin} --list-variants prints {listed.split() if listed else listed}, "
                                f"cases/manifest.tsv says {c.variants}")
        help_text = _run(exe, "--help") or ""
        names = HELP_ID_RE.findall(help_text)
        if c.id not in names:
            problems.append(f"build: {exe} --help does not name the case {c.id} (it names {names or 'nothing'})")
        elif f"{c.id}: {c.title}" not in help_text.splitlines():
            problems.append(f"titles: {exe} --help does not give the title cases/manifest.tsv gives {c.id}")
    return problems


def _run(exe: Path, arg: str):
    try:
        proc = subprocess.run([str(exe), arg], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None


def real_build_dir():
    given = os.environ.get("RUNNER_BUILD_DIR")
    if given:
        return Path(given)
    d = fakes.REPO / "build"
    return d if (d / "cases").is_dir() else None


class RealTreeTests(unittest.TestCase):
    def test_registry_sources_expected_and_executables_agree(self):
        build_dir = real_build_dir()
        if build_dir is None:
            self.skipTest("no build: set RUNNER_BUILD_DIR or build into build/ (ctest sets it)")
        problems = check_registry(fakes.REPO, build_dir)
        self.assertEqual(problems, [], "\n" + "\n".join(problems))


# A fake case executable: answers --list-variants and --help like the harness.
FAKE_EXE = """#!/bin/sh
case "$1" in
  --list-variants) printf '%s\\n' {variants} ;;
  --help) printf 'usage: x\\n\\n%s: %s\\n' '{cid}' '{title}' ;;
  *) echo DONE ;;
esac
"""


class CheckerTests(unittest.TestCase):
    """The checker on a small consistent tree, then broken in each of the four ways."""

    def setUp(self):
        self.root = Path(tempfile.mkdtemp(prefix="registry-"))
        self.addCleanup(shutil.rmtree, self.root, True)
        self.build = self.root / "build"
        for d in ("cases", "expected", "build/cases"):
            (self.root / d).mkdir(parents=True)
        (self.root / "cases" / "manifest.tsv").write_text(
            fakes.MANIFEST_HEADER + "2.1-a\tarticle\t2.1\tbad,fixed\tt\t-\t-\t-\n"
            "control-b\tcontrol\t-\tcontrol\tt\t-\t-\t-\n")
        (self.root / "expected" / "FORMAT.md").write_text("# the format\n")
        for cid, variants in (("2.1-a", ("bad", "fixed")), ("control-b", ("control",))):
            (self.root / "cases" / f"{cid}.c").write_text("int main(void) { return 0; }\n")
            (self.root / "cases" / f"{cid}.go").write_text("package main\n")
            for v in variants:
                (self.root / "expected" / f"{cid}.{v}.expect").write_text(
                    fakes.BAD_EXPECT if v == "bad" else fakes.FIXED_EXPECT)
            self.write_exe(cid, variants)

    def write_exe(self, cid, variants, name=None, title="t"):
        exe = self.build / "cases" / (name or cid)
        exe.write_text(textwrap.dedent(FAKE_EXE.format(variants=" ".join(variants), cid=cid, title=title)))
        exe.chmod(0o755)

    def problems(self):
        return check_registry(self.root, self.build)

    def assertOneProblem(self, *fragments):
        found = self.problems()
        self.assertEqual(len(found), 1, found)
        for f in fragments:
            self.assertIn(f, found[0])

    def test_a_consistent_tree_has_no_problem(self):
        self.assertEqual(self.problems(), [])

    def test_a_case_missing_from_the_registry(self):
        (self.root / "cases" / "manifest.tsv").write_text(
            fakes.MANIFEST_HEADER + "2.1-a\tarticle\t2.1\tbad,fixed\tt\t-\t-\t-\n")
        found = self.problems()
        self.assertTrue(any("cases/control-b.c is not listed" in p for p in found), found)
        self.assertTrue(any("control-b.control.expect belongs to no case" in p for p in found), found)
        self.assertTrue(any("cases/control-b.go is not listed" in p for p in found), found)
        self.assertEqual(len(found), 3, found)

    def test_a_source_missing_or_extra(self):
        (self.root / "cases" / "control-b.c").unlink()
        self.assertOneProblem("sources: cases/control-b.c is missing")
        (self.root / "cases" / "control-b.c").write_text("int main(void) { return 0; }\n")
        (self.root / "cases" / "stray.c").write_text("int main(void) { return 0; }\n")
        self.assertOneProblem("sources: cases/stray.c is not listed")

    def test_an_expected_file_missing_or_orphaned(self):
        (self.root / "expected" / "2.1-a.fixed.expect").unlink()
        self.assertOneProblem("expected/2.1-a.fixed.expect is missing")
        (self.root / "expected" / "2.1-a.fixed.expect").write_text(fakes.FIXED_EXPECT)
        (self.root / "expected" / "2.1-a.control.expect").write_text(fakes.FIXED_EXPECT)
        self.assertOneProblem("expected/2.1-a.control.expect belongs to no case")

    def test_an_executable_missing_or_naming_another_case(self):
        (self.build / "cases" / "control-b").unlink()
        self.assertOneProblem("build:", "control-b is missing")
        self.write_exe("control-c", ("control",), name="control-b")
        self.assertOneProblem("--help does not name the case control-b")

    def test_an_executable_with_another_title(self):
        self.write_exe("control-b", ("control",), title="a title of its own")
        self.assertOneProblem("titles:", "control-b")

    def test_an_expected_file_with_another_title(self):
        (self.root / "expected" / "2.1-a.bad.expect").write_text("# 2.1-a: an old title\n" + fakes.BAD_EXPECT)
        self.assertOneProblem("titles: expected/2.1-a.bad.expect")

    def test_a_go_twin_missing_or_extra(self):
        (self.root / "cases" / "control-b.go").unlink()
        self.assertOneProblem("Go twins: cases/control-b.go is missing")
        (self.root / "cases" / "control-b_test.go").write_text("package main\n")
        self.assertEqual(self.problems(), [])
        (self.root / "cases" / "stray_test.go").write_text("package main\n")
        self.assertOneProblem("Go twins: cases/stray.go is not listed")

    def test_a_built_twin_with_other_variants(self):
        (self.build / "go-go1.26.0" / "cases").mkdir(parents=True)
        self.write_exe("2.1-a", ("bad",), name="../go-go1.26.0/cases/2.1-a")
        self.assertOneProblem("variants:", "go-go1.26.0/cases/2.1-a --list-variants prints ['bad']")

    def test_variants_that_differ_from_the_registry(self):
        self.write_exe("2.1-a", ("bad",))
        self.assertOneProblem("variants:", "2.1-a --list-variants prints ['bad']", "['bad', 'fixed']")


if __name__ == "__main__":
    unittest.main()
