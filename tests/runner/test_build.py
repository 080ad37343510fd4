"""The build step: configure a fresh tree, rebuild a stale one, report failures."""

import os
import shutil
import time
import unittest

import fakes

CMAKELISTS = """cmake_minimum_required(VERSION 3.13)
project(fake_catalogue C)
add_executable(one one.c)
set_target_properties(one PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/cases)
"""

PRESETS = """{
  "version": 3,
  "configurePresets": [{"name": "default", "binaryDir": "${sourceDir}/build"}]
}
"""

ONE_C = r"""#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--banner") == 0)
			fputs("case one variant fixed mode forced seed 1 generation bucket\n", stderr);
	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--variant") == 0 && strcmp(argv[i + 1], "bad") == 0) {
			fputs("fatal error: concurrent map writes\n\nthread 3 \"w\" [running]:\n\n"
			      "write flag held by thread 2 \"o\" [map write]:\n", stderr);
			return 2;
		}
	}
	puts("%s");
	return 0;
}
"""


@unittest.skipUnless(shutil.which("cmake") and (shutil.which("cc") or shutil.which("gcc")), "needs cmake and cc")
class BuildTests(fakes.TreeTestCase):
    def setUp(self):
        super().setUp()
        self.tree.add_case("one", body=None)
        shutil.rmtree(self.tree.root / "build")
        (self.tree.root / "CMakeLists.txt").write_text(CMAKELISTS)
        self.write_source("DONE")

    def write_source(self, success_line):
        (self.tree.root / "one.c").write_text(ONE_C.replace("%s", success_line))

    def run_built(self, *args):
        return self.tree.run(*args, "--runs", "3", "--build-dir", str(self.tree.root / "out"), build=True, timeout=120)

    def test_a_fresh_tree_is_configured_and_built_then_a_stale_one_rebuilt(self):
        proc = self.tree.run("--runs", "3", build=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("configured and built", proc.stderr)
        self.assertTrue((self.tree.root / "build" / "CMakeCache.txt").is_file())
        self.assertNotIn("Building C object", proc.stdout + proc.stderr)  # quiet when it works
        self.assertClosingLine(proc, 2, 0)
        # The source changes: the next run must rebuild and see the change.
        self.write_source("NOT DONE")
        proc = self.tree.run("--runs", "3", build=True, timeout=120)
        self.assertIn("brought up to date", proc.stderr)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("no line 'DONE' on stdout", proc.stdout)
        self.assertClosingLine(proc, 1, 1)

    def cmake_that_must_not_run(self):
        """A PATH whose cmake fails loudly, so that a run which calls it fails."""
        d = self.tree.tmp / "no-cmake"
        d.mkdir()
        fake = d / "cmake"
        fake.write_text("#!/bin/sh\necho 'cmake was called' >&2\nexit 1\n")
        fake.chmod(0o755)
        return {"PATH": f"{d}{os.pathsep}{os.environ.get('PATH', '')}"}

    def test_an_up_to_date_build_does_not_call_cmake(self):
        proc = self.tree.run("--runs", "1", build=True)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        no_cmake = self.cmake_that_must_not_run()
        t0 = time.monotonic()
        proc = self.tree.run("--runs", "1", build=True, env=no_cmake)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertNotIn("brought up to date", proc.stderr)
        # A Python or Markdown file no build step reads changes nothing.
        time.sleep(0.01)
        (self.tree.root / "notes.md").write_text("x\n")
        (self.tree.root / "tool.py").write_text("x = 1\n")
        proc = self.tree.run("--runs", "1", build=True, env=no_cmake)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        # A source saved since the last build: cmake is called (and here fails).
        time.sleep(0.01)
        self.write_source("DONE")
        proc = self.tree.run("--runs", "1", build=True, env=no_cmake)
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertIn("cmake was called", proc.stderr)

    def test_a_missing_executable_is_built_again(self):
        proc = self.tree.run("--runs", "1", build=True)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        (self.tree.root / "build" / "cases" / "one").unlink()
        proc = self.tree.run("--runs", "1", build=True)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("brought up to date", proc.stderr)

    def test_a_copied_tree_does_not_build_the_original_sources(self):
        proc = self.tree.run("--runs", "1", build=True)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        copy = self.tree.tmp / "copy"
        shutil.copytree(self.tree.root, copy, symlinks=True)
        (copy / "one.c").write_text(ONE_C.replace("%s", "COPY"))
        proc = fakes.run_in_process(["--root", str(copy), "--runs", "1"])
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertIn(f"was configured for the source tree {self.tree.root}", proc.stderr)
        self.assertIn("rm -rf", proc.stderr)
        self.assertEqual(proc.stdout, "")

    def test_the_default_preset_configures_the_default_build_dir(self):
        (self.tree.root / "CMakePresets.json").write_text(PRESETS)
        proc = self.tree.run("--runs", "2", build=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertTrue((self.tree.root / "build" / "cases" / "one").is_file())

    def test_another_build_dir_is_configured_with_source_and_binary_dirs(self):
        proc = self.run_built()
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertTrue((self.tree.root / "out" / "cases" / "one").is_file())
        self.assertFalse((self.tree.root / "build").exists())

    def test_a_failing_build_shows_the_tail_of_its_output(self):
        (self.tree.root / "one.c").write_text("int main(void) { return missing_symbol_x; }\n")
        proc = self.run_built()
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertNoTraceback(proc)
        self.assertIn("building failed", proc.stderr)
        self.assertIn("missing_symbol_x", proc.stderr)

    def test_a_failing_configure_says_what_to_install(self):
        (self.tree.root / "CMakeLists.txt").write_text(CMAKELISTS + "find_package(NoSuchPackageAnywhere REQUIRED)\n")
        proc = self.run_built()
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertNoTraceback(proc)
        self.assertIn("configuring failed", proc.stderr)
        self.assertIn("NoSuchPackageAnywhere", proc.stderr)
        self.assertIn("apt-get install cmake gcc libcriterion-dev libdw-dev pkg-config", proc.stderr)


if __name__ == "__main__":
    unittest.main()
