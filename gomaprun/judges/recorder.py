"""The core's flight recorder, read back from a run's stderr.

A run started with GOMAP_TIMELINE=1 (the signature judge always sets it)
ends its report with the map's flight recorder, the last events on the map
that detected the misuse, oldest first:

    map timeline, oldest first (GOMAP_TIMELINE=1):
      +0.000us thread 1 map write: entered
      +84.664us thread 2 "writer" map write: write flag set
      +225.693us thread 1 map read: entered
      +406.465us thread 1 map read: detected

has_timeline tells the run loop whether a run is worth keeping as a sample;
parse_timeline gives the events to the reports that draw them
(gomaprun.reports.timeline).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List

TIMELINE_HEADER = "map timeline, oldest first"
# One recorder line. The core prints times relative to the oldest event; the
# minus sign is accepted because cycle counters of different cores can
# disagree by a few ticks.
EVENT_RE = re.compile(
    r'^\s+\+(-?\d+\.\d+)us thread (\d+)(?: "([^"]*)")? (map \w+): '
    r"(entered|write flag set|write flag cleared|detected)$"
)

ENTERED = "entered"
SET = "write flag set"
CLEARED = "write flag cleared"
DETECTED = "detected"


@dataclass
class Event:
    us: float
    tid: int
    name: str
    op: str
    phase: str


def has_timeline(stderr: str) -> bool:
    """Whether a run's stderr holds a recorder block."""
    return TIMELINE_HEADER in stderr


def parse_timeline(stderr: str) -> List[Event]:
    """The events of the last recorder block in a run's stderr, oldest first.

    Returns an empty list when there is no block. Lines of the block that do
    not parse (a truncated capture, a future phase name) are skipped; the
    block ends at the first blank line after it started.
    """
    lines = stderr.split("\n")
    start = None
    for i, line in enumerate(lines):
        if line.startswith(TIMELINE_HEADER):
            start = i
    if start is None:
        return []
    events: List[Event] = []
    for line in lines[start + 1:]:
        if not line.strip():
            if events:
                break
            continue
        m = EVENT_RE.match(line.rstrip("\r"))
        if m:
            events.append(Event(float(m.group(1)), int(m.group(2)), m.group(3) or "", m.group(4), m.group(5)))
    return events
