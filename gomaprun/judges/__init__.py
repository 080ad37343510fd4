"""Layer 3: judges, the only thing that differs between ways of checking a run.

A judge says, for one case variant in one mode: what is expected of a run
(`expectation`, whose `summary()` the reports print), in which modes the
variant runs, what environment a run gets and how its replay command is
shown, which build it needs, how a finished run is classified into one of
the outcomes of gomaprun.base, and which outcomes break the unit's policy.
The run loop (gomaprun.runloop) and the table, JSON, JUnit and HTML
reports take any judge and never ask which one they have (only the
detection matrix, which compares two tools, tells them apart).

    signature.SignatureJudge   expected/<id>.<variant>.expect, the built-in
                               detector's report (the default)
    tsan.TsanJudge             ThreadSanitizer's reports (--sanitizer thread)
    explore.ExploreJudge       one exploration of every ordering up to a
                               preemption bound per unit (--mode explore)

recorder.py reads the core's flight-recorder block out of a run's stderr;
the run loop uses it to keep a sample run, the reports to draw it.

To add a way of judging (a Go twin judged by exit status and first line,
a schedule explorer's verdicts), write a subclass of Judge in a module of
its own and let main choose it; nothing above this layer changes.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ..base import DEFAULT_GENERATION, MATCHED
from ..build import DEFAULT, Preset
from ..catalogue.command import case_argv


# How the reports lay out a judge's units (Judge.table).
TABLE_RUNS = "runs"  # one row of outcome counts per unit
TABLE_EXPLORE = "explore"  # one row of an exploration's numbers per unit (reports/explore.py)


class Judge:
    """The interface every judge implements (the defaults suit most)."""

    # Short name, shown in JSON as the report's judge.
    name = "judge"
    # The build the judge's runs use.
    preset: Preset = DEFAULT
    # The JUnit test suite's name.
    suite = "gomap-catalogue"
    # A heading for the run's first line ("" for none) and a note printed
    # under it.
    title = ""
    note = ""
    # The program a unit runs, when it is not the C case ("Go" for its Go
    # twin); reports add it to the unit's mode.
    program = ""

    def argv(self, binary, variant: str, mode: str, seed: int, schedule: Optional[str] = None) -> List[str]:
        """The argument vector of one run of a unit (catalogue/command.py
        builds it); `schedule`: the replay of one ordering, for the judges
        whose runs explore."""
        return case_argv(binary, variant, mode, seed)

    def facts(self) -> Dict[str, object]:
        """What a report must record to make this judge again (the explore
        bound); make_judge takes it back."""
        return {}

    def header_facts(self) -> Dict[str, object]:
        """The facts the HTML page's header shows, by label (the explore
        bound as "preemption bound")."""
        return {}

    # How the reports lay out this judge's units (TABLE_RUNS, TABLE_EXPLORE);
    # every unit of a run has one judge.
    table = TABLE_RUNS

    def expectation(self, case, variant: str, expected_dir, generation: str = DEFAULT_GENERATION):
        """What a run of this variant must do for a map generation (its
        expected file's lines for that generation); has summary() for reports."""
        raise NotImplementedError

    def modes(self, case, variant: str, expect, modes: Sequence[str]) -> List[str]:
        """The modes this variant runs in, given the ones asked for."""
        return list(modes)

    def default_runs(self, mode: str) -> int:
        raise NotImplementedError

    def classify(self, expect, mode: str, status: Optional[int], signum: Optional[int], stdout: str,
                 stderr: str, timed_out: bool = False) -> Tuple[str, str]:
        """One finished run's (outcome, reason); the reason is empty for a match. Pure."""
        raise NotImplementedError

    def policy(self, variant: str, mode: str, expect) -> str:
        raise NotImplementedError

    def breaks_policy(self, variant: str, mode: str, expect, outcome: str) -> bool:
        """Whether one run with this outcome already fails the unit."""
        return outcome != MATCHED

    def needs_a_match(self, variant: str, mode: str, expect) -> bool:
        """Whether a finished unit without any matched run fails."""
        return False

    def environment(self, environ: Mapping[str, str]) -> Dict[str, str]:
        """The environment of every run."""
        raise NotImplementedError

    def replay_assignments(self, environ: Mapping[str, str]) -> Dict[str, str]:
        """The environment settings a replay command must show."""
        raise NotImplementedError

    def report_fields(self) -> Dict[str, object]:
        """Extra top-level fields of the JSON report (and the HTML header)."""
        return {}

    def unit_fields(self, expect) -> Dict[str, object]:
        """Extra fields of a unit's JSON summary."""
        return {}

    def run_details(self, stdout: str) -> Optional[dict]:
        """What a run printed that the unit keeps whole (an exploration's summary), or None."""
        return None

    def examples(self, expect, details) -> List[Tuple[str, str]]:
        """(kind, schedule) of the orderings the run loop replays for their lane
        charts, given a run's details; [] for none."""
        return []

    def check_example(self, expect, kind: str, status, signum, stderr: str,
                      timed_out: bool = False) -> Tuple[bool, str]:
        """Whether a replayed example ended as its kind says: (ok, why not)."""
        return True, ""

    def example_assignments(self) -> Dict[str, str]:
        """The environment settings of a replayed example."""
        return {}


# --------------------------------------------------------------------------
# The judges by name
# --------------------------------------------------------------------------
#
# A judge module registers its judge's name with a factory taking the
# facts a report recorded (Judge.facts); the command line and a merge of
# shard reports make their judge through make_judge.

_FACTORIES: Dict[str, Callable[..., Judge]] = {}


def register(name: str, factory: Callable[..., Judge]) -> None:
    _FACTORIES[name] = factory


def make_judge(name: str, **facts) -> Optional[Judge]:
    """The judge registered as `name`, made with `facts` (None for an unknown name)."""
    factory = _FACTORIES.get(name)
    return None if factory is None else factory(**facts)


def judge_names() -> List[str]:
    return sorted(_FACTORIES)
