"""The GitHub Actions workflow (.github/workflows/ci.yml) and the scripts it shares with .ci/run.

The workflow's syntax is checked by a real validator, @action-validator/cli
from npm (.ci/install-validator installs it; .ci/run does so before the
README's test command). The validator is taken from ACTION_VALIDATOR, then
PATH, then the directory .ci/install-validator installs into by default;
without one those tests are skipped, saying so. That it can fail is shown
on a broken copy of the workflow. The other tests read the files as text
(the standard library has no YAML parser): the workflow and .ci/run call
the same scripts, and the workflow runs what the README and .ci/run run.
"""

import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import fakes

WORKFLOW = fakes.REPO / ".github" / "workflows" / "ci.yml"
CI_DIR = fakes.REPO / ".ci"
SHARED_SCRIPTS = ("install-deps", "install-validator", "catalogue")


def find_validator():
    """(path, None) of the validator to use, or (None, why there is none)."""
    given = os.environ.get("ACTION_VALIDATOR")
    if given:
        return given, None  # a validator asked for by name must work: no skipping
    on_path = shutil.which("action-validator")
    if on_path:
        return on_path, None
    default = subprocess.run(["bash", str(CI_DIR / "install-validator"), "--path"], stdout=subprocess.PIPE,
                             text=True, check=True).stdout.strip()
    if os.access(default, os.X_OK):
        return default, None
    return None, ("action-validator is not installed (set ACTION_VALIDATOR, put it on PATH, or run "
                  f".ci/install-validator, which installs it as {default})")


def validate(validator, path):
    return subprocess.run([validator, str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120)


class ValidatorTests(unittest.TestCase):
    def setUp(self):
        self.validator, why = find_validator()
        if self.validator is None:
            self.skipTest(why)

    def test_the_workflow_is_valid(self):
        proc = validate(self.validator, WORKFLOW)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def test_a_broken_workflow_is_refused(self):
        text = WORKFLOW.read_text()
        for old, new, detail in (("runs-on:", "runs_on:", "runs_on"),
                                 ("needs: catalogue", "needs: {catalogue: 1}", "/jobs/merge/needs"),
                                 ("    steps:\n", "    stages:\n", "stages")):
            self.assertIn(old, text)
            with tempfile.TemporaryDirectory() as td:
                broken = Path(td) / "ci.yml"
                broken.write_text(text.replace(old, new, 1))
                proc = validate(self.validator, broken)
                self.assertEqual(proc.returncode, 1, (old, proc.stdout + proc.stderr))
                report = proc.stdout + proc.stderr  # the JSON errors come on stderr
                self.assertIn('"errors"', report, old)
                self.assertIn(detail, report, old)


def workflow_runs():
    """Every `run:` command of the workflow, in order."""
    return [m.group(1).strip() for m in re.finditer(r"^\s+(?:- )?run: (.+)$", WORKFLOW.read_text(), re.M)]


class SharedScriptTests(unittest.TestCase):
    def test_ci_run_and_the_workflow_call_the_same_scripts(self):
        ci_run = (CI_DIR / "run").read_text()
        runs = " ".join(workflow_runs())
        for script in SHARED_SCRIPTS:
            self.assertTrue(os.access(CI_DIR / script, os.X_OK), script)
            self.assertRegex(ci_run, rf"(?m)^\s*(?:\S+=\$\()?\.ci/{script}\b", script)
            self.assertIn(f".ci/{script}", runs, script)
        # Neither installs packages or runs the catalogue on its own.
        for text in (ci_run, runs):
            self.assertNotIn("apt-get", text)
            self.assertNotRegex(text, r"runner\.py --no-build")

    def test_the_workflow_runs_the_readme_command_and_four_merged_shards(self):
        readme = (fakes.REPO / "README.md").read_text()
        self.assertIn("cmake --workflow --preset default", readme)
        runs = workflow_runs()
        self.assertIn("cmake --workflow --preset default", runs)
        text = WORKFLOW.read_text()
        self.assertRegex(text, r"(?m)^\s+shard: \[1, 2, 3, 4\]$")
        for mode in ("forced", "natural"):
            self.assertIn(f".ci/catalogue {mode} ${{{{ matrix.shard }}}}/4", runs)
            self.assertIn(f".ci/catalogue --merge {mode} shards", runs)
        jobs = re.findall(r"(?m)^  ([a-z]+):$", text.split("\njobs:\n", 1)[1])
        self.assertEqual(jobs, ["test", "catalogue", "merge"])
        self.assertEqual(text.count("container: debian:bookworm"), len(jobs))
        self.assertIn("needs: catalogue", text)

    def test_the_catalogue_script_names_each_shards_reports_apart(self):
        # The merge job gathers every shard's files into one directory, and
        # .ci/catalogue --merge picks them up by name.
        script = (CI_DIR / "catalogue").read_text()
        self.assertIn("catalogue-$mode-shard*.json", script)
        self.assertIn("name=$name-shard${2%/*}of${2#*/}", script)
        proc = subprocess.run(["bash", str(CI_DIR / "catalogue"), "sideways"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=30)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("forced, natural or explore", proc.stderr)
        with tempfile.TemporaryDirectory() as td:
            proc = subprocess.run(["bash", str(CI_DIR / "catalogue"), "--merge", "forced", td],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
            self.assertEqual(proc.returncode, 2)
            self.assertIn("no catalogue-forced-shard*.json in", proc.stderr)


if __name__ == "__main__":
    unittest.main()
