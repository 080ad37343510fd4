"""Progress while the run loop works: on stderr, never part of the results."""

from __future__ import annotations

import time

from ..base import FAIL, MATCHED, NOT_REPRODUCED, PASS, TIMEOUT, UNSEEN_CORRUPTION, WRONG, plural


class Progress:
    """A live status line on a terminal; one plain line per finished unit otherwise."""

    def __init__(self, stream, total_runs: int, total_units: int, live: bool):
        self.stream = stream
        self.total_runs = total_runs
        self.total_units = total_units
        self.live = live
        self.runs_done = 0
        self.units_done = 0
        self.failed_units = 0
        self.t0 = time.monotonic()
        self._last = 0.0

    def run_done(self) -> None:
        self.runs_done += 1
        if self.live:
            now = time.monotonic()
            if now - self._last >= 0.1 or self.runs_done == self.total_runs:
                self._last = now
                self._draw()

    def unit_done(self, unit) -> None:
        self.units_done += 1
        verdict = unit.verdict()
        if verdict == FAIL:
            self.failed_units += 1
        # Unseen corruption is rare; it is named only when it happened, so
        # the usual line keeps its shape. An exploration says what it explored.
        explored = getattr(unit, "explored", None)
        if explored is not None:
            line = (f"[{self.units_done:>{len(str(self.total_units))}}/{self.total_units}] {unit.name}: "
                    f"{plural(explored['schedules'], 'schedule')}"
                    f"{'' if explored['exhausted'] else ' (not exhausted)'}, "
                    f"{explored['reported']} reported, {plural(explored['blind_spots'], 'blind spot')}, "
                    f"{explored['other']} other, {explored.get('elapsed_s', 0):.1f}s: {verdict}")
        else:
            line = self._line(unit, verdict)
        if self.live:
            if verdict != PASS:
                self.stream.write("\r\x1b[K" + line + "\n")
            self._draw()
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def _line(self, unit, verdict: str) -> str:
        unseen = unit.counts[UNSEEN_CORRUPTION]
        return (
            f"[{self.units_done:>{len(str(self.total_units))}}/{self.total_units}] {unit.name}: "
            f"{unit.counts[MATCHED]}/{unit.done} matched, {unit.counts[NOT_REPRODUCED]} not reproduced, "
            + (f"{unseen} unseen corruption, " if unseen else "")
            + f"{unit.counts[WRONG]} wrong, {unit.counts[TIMEOUT]} timeout: {verdict}"
        )

    def _draw(self) -> None:
        elapsed = time.monotonic() - self.t0
        self.stream.write(
            f"\r\x1b[Kruns {self.runs_done}/{self.total_runs}  units {self.units_done}/{self.total_units}"
            f"  failed {self.failed_units}  {elapsed:.1f}s"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.live:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
