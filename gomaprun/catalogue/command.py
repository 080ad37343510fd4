"""The only place that builds a case's command line.

A run of a case is

    <build>/cases/<id> --variant V --mode M --seed S

or, exploring every ordering up to a preemption bound (docs/explore.md),

    <build>/cases/<id> --variant V --mode explore --bound N [--schedule S]

(no seed: an exploration's own fixed seed keeps its counts reproducible;
--schedule replays one of its orderings)
with stdin from /dev/null and an environment the judge chooses. Runs,
replay commands (printed for every failing run), --explain's captured run
and the ctest smoke tests all use this shape; cases/CMakeLists.txt runs the
runner itself for its smoke tests, so it does not build one of its own.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import List, Mapping, Optional

from ..base import EXPLORE, display_path


def case_binary(build_dir: Path, case_id: str) -> Path:
    """Where a build directory keeps a case's executable."""
    return build_dir / "cases" / case_id




def case_argv(binary: Path, variant: str, mode: str, seed: int) -> List[str]:
    """The argument vector of one seeded run (forced or natural)."""
    return [str(binary), "--variant", variant, "--mode", mode, "--seed", str(seed)]


def explore_argv(binary: Path, variant: str, bound: Optional[int] = None,
                 schedule: Optional[str] = None) -> List[str]:
    """The argument vector of one exploration at `bound`, or of the replay
    of one `schedule` of it."""
    argv = [str(binary), "--variant", variant, "--mode", EXPLORE]
    if bound is not None:
        argv += ["--bound", str(bound)]
    if schedule is not None:
        argv += ["--schedule", schedule]
    return argv


def command_text(argv: List[str], assignments: Mapping[str, str]) -> str:
    """A run as a shell command line a reader can paste: the environment
    assignments that matter, then the argument vector (the executable shown
    relative to the working directory when it lies below it)."""
    shown = [display_path(Path(argv[0]))] + list(argv[1:])
    env = "".join(f"{k}={shlex.quote(v)} " for k, v in assignments.items())
    return env + " ".join(shlex.quote(a) for a in shown)


def run_environment(environ: Mapping[str, str], assignments: Mapping[str, str]) -> dict:
    """The environment of a run: the runner's own, without GOTRACEBACK (the
    expected files describe the default report; an inherited none, all or
    crash would change every signature), plus `assignments`."""
    env = dict(environ)
    env.pop("GOTRACEBACK", None)
    env.update(assignments)
    return env
