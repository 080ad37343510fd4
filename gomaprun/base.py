"""Layer 0: the words every other layer uses.

Exit statuses, the one error type for bad usage or input, the names of the
outcomes a run can have, and two small helpers for messages. Imports nothing
from the package.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Optional

# --------------------------------------------------------------------------
# Exit statuses
# --------------------------------------------------------------------------

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

PROG = "runner.py"

# --------------------------------------------------------------------------
# Modes, variants and default run counts
# --------------------------------------------------------------------------

# How a case program runs (its --mode): the overlap made certain through
# the core's instrumentation points, left to chance, or every ordering up to
# a preemption bound, explored in one process.
FORCED = "forced"
NATURAL = "natural"
EXPLORE = "explore"
MODES = (FORCED, NATURAL)  # the seeded modes; --mode both is these two

# A case's variants (its --variant): the trigger, its race-free fix, and a
# control's one variant.
BAD = "bad"
FIXED = "fixed"
CONTROL = "control"
VARIANTS = (BAD, FIXED, CONTROL)

# Runs per unit when --runs is not given, per way of running: forced runs
# always reproduce; natural ones only sometimes, so they get more tries;
# an exploration is one run; ThreadSanitizer runs are slow; the matrix
# measures rates; --against-go runs each side this often.
DEFAULT_RUNS = {FORCED: 100, NATURAL: 200, EXPLORE: 1, "tsan": 100, "matrix": 200, "against-go": 100}

# The core's map generations (GOMAP_GENERATION in CMake): `bucket`, the port
# of Go 1.19's map, and `swiss`, the port of Go 1.26's Swiss tables. The
# default is the bucket map: the catalogue's expected files, figures and
# write-ups were measured on it, and every build and Go twin has it.
GENERATIONS = ("bucket", "swiss")
DEFAULT_GENERATION = "bucket"


class UsageError(Exception):
    """Bad command line or bad input: printed as one message, exit status 2."""


def exit_status(interrupted: Optional[int], failed: int) -> int:
    """A run's exit status: the interrupting signal's, else 1 when a unit failed."""
    if interrupted is not None:
        return EXIT_INTERRUPTED if interrupted == signal.SIGINT else 128 + interrupted
    return EXIT_FAILED if failed else EXIT_OK


def open_output(path: Optional[Path], what: str):
    """Opens a report file for writing (None: no such report), or says why not."""
    if path is None:
        return None
    try:
        return open(path, "wb")
    except OSError as e:
        raise UsageError(f"cannot write the {what} file {path}: {e.strerror or e}") from None


def make_keep_dir(path: Optional[Path]) -> None:
    """Creates the --keep directory (None: nothing kept), or says why not."""
    if path is None:
        return
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create the --keep directory {path}: {e.strerror or e}") from None


def now_utc() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())


# --------------------------------------------------------------------------
# Outcomes of one run
# --------------------------------------------------------------------------
#
# Every judge gives each finished run exactly one of these. The strings are
# part of the JSON and JUnit formats.

# The run ended as its expectation says.
MATCHED = "matched"
# A trigger's run ended cleanly: no report, no failed check (the threads did
# not overlap, or the detector's tool saw nothing).
NOT_REPRODUCED = "not-reproduced"
# The program's own check failed and the detector stayed quiet: racing
# writers corrupted the map without either of them holding the write flag
# while the other looked (expected/FORMAT.md, "unseen corruption").
UNSEEN_CORRUPTION = "unseen-corruption"
# Anything else: another status, a signal, another first line, ...
WRONG = "wrong-signature"
# The run did not end in time and was killed.
TIMEOUT = "timeout"

OUTCOMES = (MATCHED, NOT_REPRODUCED, WRONG, TIMEOUT, UNSEEN_CORRUPTION)

# In this order in tables and reports (unseen corruption last: it came
# after the others, and readers of the table find the old columns in place).
# How reports name each outcome: (table column, words in progress and JUnit
# lines, JSON summary key).
OUTCOME_LABELS = {
    MATCHED: ("matched", "matched", "matched"),
    NOT_REPRODUCED: ("not-repro", "not reproduced", "not_reproduced"),
    WRONG: ("wrong", "wrong signature", "wrong_signature"),
    TIMEOUT: ("timeout", "timeout", "timeout"),
    UNSEEN_CORRUPTION: ("unseen", "unseen corruption", "unseen_corruption"),
}

# Verdicts of a unit.
PASS = "pass"
FAIL = "FAIL"
INCOMPLETE = "incomplete"
NOT_RUN = "not run"
# A unit that cannot run where it is (a Go twin whose build constraint needs
# a newer Go than the toolchain found): never counted as passed.
SKIPPED = "skipped"

# First lines kept per run (reports and JSON) are cut to this many characters.
FIRST_LINE_LIMIT = 300

INSTALL_HINT = "apt-get install cmake gcc libcriterion-dev libdw-dev pkg-config"
GO_INSTALL_HINT = "apt-get install golang-1.19-go"


# --------------------------------------------------------------------------
# Helpers for messages
# --------------------------------------------------------------------------


def signal_name(signum: int) -> str:
    """SIGABRT for 6; 'signal N' for a number Python does not name."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def display_path(path: Path) -> str:
    """A path relative to the working directory when it lies below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def plural(n: int, noun: str, many: Optional[str] = None) -> str:
    """`1 unit`, `2 units`: a count with its noun agreeing (`many` for irregular plurals)."""
    return f"{n} {noun if n == 1 else (many or noun + 's')}"


def clip(line: str) -> str:
    """A line cut to FIRST_LINE_LIMIT characters, marked when cut."""
    return line if len(line) <= FIRST_LINE_LIMIT else line[:FIRST_LINE_LIMIT] + "..."
