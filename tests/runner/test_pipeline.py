"""The one path of every command that runs something (gomaprun/pipeline.py).

A plan's steps are recorded by fakes; its units are skipped, so the run
loop starts no process and no build is needed.
"""

import io
import shutil
import tempfile
import unittest
from pathlib import Path

import fakes  # noqa: F401  (puts the repository on sys.path)
from gomaprun import cmdline
from gomaprun.base import BAD, FIXED, NATURAL, UsageError
from gomaprun.catalogue.manifest import Case
from gomaprun.pipeline import Plan, run_plan
from gomaprun.runloop.units import Unit


def skipped_unit(variant):
    case = Case("x", "article", "1", [BAD, FIXED], "title", "", "")
    return Unit(case=case, variant=variant, mode=NATURAL, expect=None, runs=3, binary=Path("/nonexistent"),
                skipped="cannot run here")


class RunPlanTests(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.steps = []

    def args(self, *extra):
        return cmdline.parse_args(["--json", str(self.tmp / "r.json"), "--seed", "7", *extra])

    def plan(self, units):
        def report(ran):
            self.steps.append(("report", [u.variant for u in ran.units], ran.selected_units,
                               ran.files.json is not None))
            ran.files.json.close()
            return 0

        return Plan(units=units, nothing="nothing to run here",
                    bring_up=lambda mine: self.steps.append(("bring_up", [u.variant for u in mine])),
                    heading=lambda mine, master: self.steps.append(("heading", master)) or "plan line\n",
                    report=report)

    def test_steps_run_in_order_on_the_shards_units_with_the_sessions_seed(self):
        args = self.args("--shard", "2/2")
        out = io.StringIO()
        status = run_plan(args, cmdline.session_of(args), self.plan([skipped_unit(BAD), skipped_unit(FIXED)]),
                          out, io.StringIO())
        self.assertEqual(status, 0)
        self.assertEqual(self.steps, [("bring_up", [FIXED]), ("heading", 7), ("report", [FIXED], 2, True)])
        self.assertEqual(out.getvalue(), "plan line\n")

    def test_a_plan_without_units_is_refused_before_any_file_is_opened(self):
        args = self.args()
        with self.assertRaises(UsageError) as cm:
            run_plan(args, cmdline.session_of(args), self.plan([]), io.StringIO(), io.StringIO())
        self.assertEqual(str(cm.exception), "nothing to run here")
        self.assertEqual(self.steps, [])
        self.assertFalse((self.tmp / "r.json").exists())


if __name__ == "__main__":
    unittest.main()
