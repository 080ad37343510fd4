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


def clip(line: str) -> str:
    """A line cut to FIRST_LINE_LIMIT characters, marked when cut."""
    return line if len(line) <= FIRST_LINE_LIMIT else line[:FIRST_LINE_LIMIT] + "..."
