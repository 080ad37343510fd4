"""What an exploration shows, as the reports print it (runner.py --mode explore).

One row per explore unit, from the exploration's summary line (kept whole
in the unit by the run loop, or read back from a shard report by a merge)
and the unit's expectation: schedules explored, whether the space was
exhausted, schedules that ended with an expected signature (detected),
that overlapped, that overlapped and ended clean (blind spot), clean ones,
ones that ended in anything the policy does not accept (other), and the
exploration's own time. The table, the HTML page, JUnit and -v read it
here; the replayed orderings' lane charts are drawn by timeline.py.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

from ..base import plural
from ..judges import TABLE_EXPLORE
from ..judges.explore import detected, unexpected_ends

EXPLORE_HEADER = ("case", "variant", "mode", "expected", "schedules", "exhausted", "detected", "overlap",
                  "blind spot", "clean", "other", "time s", "verdict")
_NUMERIC = {4, 6, 7, 8, 9, 10, 11}


def is_explore(units: Sequence) -> bool:
    """Whether these units are laid out as explorations: their judge says so
    (Judge.table; every unit of a run has one judge)."""
    return bool(units) and all(u.judge.table == TABLE_EXPLORE for u in units)


def explore_numbers(u) -> Optional[dict]:
    """The unit's exploration in numbers, None when it printed no summary."""
    s = u.explored
    if s is None:
        return None
    trigger = u.expect.is_trigger
    return {"schedules": int(s["schedules"]), "exhausted": bool(s["exhausted"]),
            "detected": detected(u.expect, s) if trigger else None, "overlapping": int(s["overlapping"]),
            "blind_spots": int(s["blind_spots"]), "clean": int(s["clean"]),
            "other": sum(n for _, n in unexpected_ends(u.expect, s)), "elapsed_s": float(s.get("elapsed_s", 0.0))}


def explore_cells(u) -> Tuple[str, ...]:
    """The numbers of one row, as text ("-" where there is nothing)."""
    n = explore_numbers(u)
    if n is None:
        return ("-",) * 8
    return (str(n["schedules"]), "yes" if n["exhausted"] else "NO",
            "-" if n["detected"] is None else str(n["detected"]), str(n["overlapping"]), str(n["blind_spots"]),
            str(n["clean"]), str(n["other"]), f"{n['elapsed_s']:.1f}")


def explore_rows(units: Sequence, abbreviate) -> List[Tuple[str, ...]]:
    return [(u.case.id, u.variant, u.mode, abbreviate(u.expect.summary())) + explore_cells(u) + (u.verdict(),)
            for u in units]


def explore_table(units: Sequence, abbreviate):
    """(header, rows, numeric column indexes) of an exploration's table; the
    text report lays it out."""
    return EXPLORE_HEADER, explore_rows(units, abbreviate), _NUMERIC


def explore_line(u) -> str:
    """The exploration in one sentence (JUnit, progress, -v)."""
    n = explore_numbers(u)
    if n is None:
        return "no exploration summary"
    bound = u.judge.facts().get("bound")
    head = f"{plural(n['schedules'], 'schedule')} at bound {bound}" + ("" if n["exhausted"] else " (NOT exhausted)")
    if n["detected"] is not None:
        return (f"{head}: caught in {n['detected']}, blind spot in {n['blind_spots']}, clean {n['clean']}, "
                f"other {n['other']}")
    return f"{head}: overlap in {n['overlapping']}, clean {n['clean']}, other {n['other']}"
