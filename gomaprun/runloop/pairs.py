"""A C case beside its Go twin (runner.py --against-go): one pair per case and variant.

Both sides run natural mode the same number of times, each unit judged by
its own judge (the signature judge for the C case, the Go twin judge for
the twin), each against the same expected file. The pair then compares what
the two programs did:

    side's signature  the most common (exit status, first stderr line) of
                      its runs that reported (exit status other than 0, no
                      timeout, no failed own check) for a trigger; of all
                      its runs for a fixed variant or a control
    agree             both sides' signatures are equal; unknown when a side
                      has none (never reproduced, or skipped)

With --go-extra, a pair also holds the twin built by further Go releases
with the bucket map (Go 1.21 to 1.23, fetched through GOTOOLCHAIN), each a
column of its own, judged and compared with the C case like the first Go.

Verdict: FAIL when either side (or an extra Go) fails its own policy or
disagrees with the C case (in first line or exit status); skipped when the twin cannot run here (it needs
a newer Go) and the C side passed; pass otherwise. A difference in rates is
information, never a failure.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from ..base import FAIL, INCOMPLETE, MATCHED, NOT_RUN, PASS, SKIPPED, TIMEOUT, UNSEEN_CORRUPTION
from .units import Unit

Signature = Tuple[Optional[int], str]  # (exit status, first stderr line)


def side_signature(unit: Unit) -> Optional[Signature]:
    """The most common (exit status, first line) of a side's telling runs, or None."""
    if unit.skipped is not None:
        return None
    records = unit.records
    if unit.is_trigger:
        # The runs that ended with a report (or another failure); not the
        # clean ones, the timeouts or the program's own failed checks.
        records = [r for r in records if r.status != 0 and r.outcome not in (TIMEOUT, UNSEEN_CORRUPTION)]
    if not records:
        return None
    # most_common(1) keeps the first seen of equally common signatures.
    return Counter((r.status, r.first_line) for r in records).most_common(1)[0][0]


def fired(unit: Unit) -> int:
    """Runs of a trigger that reported the misuse as expected (matched); for a
    clean variant, the runs that were clean."""
    return unit.counts[MATCHED]


@dataclass
class Pair:
    c: Unit
    go: Unit
    # (Go version, the twin's unit built by it): --go-extra's columns.
    extra: List[Tuple[str, Unit]] = field(default_factory=list)

    @property
    def case(self):
        return self.c.case

    @property
    def variant(self) -> str:
        return self.c.variant

    def signatures(self) -> Tuple[Optional[Signature], Optional[Signature]]:
        return side_signature(self.c), side_signature(self.go)

    def agree(self) -> Optional[bool]:
        """True or False when both sides have a signature, None otherwise."""
        c, go = self.signatures()
        if c is None or go is None:
            return None
        return c == go

    def extra_disagreements(self) -> List[str]:
        """The extra Go versions whose twin's signature differs from the C case's."""
        c = side_signature(self.c)
        out = []
        for version, unit in self.extra:
            sig = side_signature(unit)
            if c is not None and sig is not None and sig != c:
                out.append(version)
        return out

    def verdict(self) -> str:
        cv, gv = self.c.verdict(), self.go.verdict()
        if FAIL in (cv, gv) or self.agree() is False:
            return FAIL
        if any(u.verdict() == FAIL for _, u in self.extra) or self.extra_disagreements():
            return FAIL
        if gv == SKIPPED and cv == PASS:
            return SKIPPED
        if cv in (INCOMPLETE, NOT_RUN) or gv in (INCOMPLETE, NOT_RUN):
            return INCOMPLETE if self.c.done or self.go.done else NOT_RUN
        return PASS

    def reason(self) -> str:
        """Why the pair failed or was skipped ("" when it passed)."""
        v = self.verdict()
        if v == SKIPPED:
            return f"Go twin skipped: {self.go.skipped}"
        if v != FAIL:
            return ""
        parts = []
        if self.agree() is False:
            (cs, cl), (gs, gl) = self.signatures()
            what = []
            if cs != gs:
                what.append(f"exit status {cs} (C) against {gs} (Go)")
            if cl != gl:
                what.append(f"first line {cl!r} (C) against {gl!r} (Go)")
            parts.append("C case and Go twin disagree: " + "; ".join(what))
        for side, unit in (("C", self.c), ("Go", self.go)) + tuple((f"Go {v}", u) for v, u in self.extra):
            if unit.verdict() == FAIL:
                parts.append(f"{side}: {unit.failure_reason()}")
        for version in self.extra_disagreements():
            unit = dict(self.extra)[version]
            (cs, cl), (gs, gl) = side_signature(self.c), side_signature(unit)
            parts.append(f"C case and the twin built by {version} disagree: exit status {cs} against {gs}, "
                         f"first line {cl!r} against {gl!r}")
        return "; ".join(parts)


def make_pairs(c_units: Sequence[Unit], go_units: Sequence[Unit],
               extra: Optional[Dict[str, Sequence[Unit]]] = None) -> List[Pair]:
    """Pair each C unit with the Go unit of the same case, variant and map
    generation (the core's beside its Go's), in C order; `extra`: per further
    Go version, its twins' units, added to the pairs of their generation."""
    by_key = {(u.case.id, u.variant, u.generation): u for u in go_units}
    pairs = [Pair(u, by_key[(u.case.id, u.variant, u.generation)]) for u in c_units
             if (u.case.id, u.variant, u.generation) in by_key]
    for version, units in (extra or {}).items():
        mine = {(u.case.id, u.variant, u.generation): u for u in units}
        for p in pairs:
            unit = mine.get((p.c.case.id, p.c.variant, p.c.generation))
            if unit is not None:
                p.extra.append((version, unit))
    return pairs


def pair_counts(pairs: Sequence[Pair]) -> Tuple[int, int, int]:
    """(passed, failed, skipped) pairs."""
    verdicts = [p.verdict() for p in pairs]
    return verdicts.count(PASS), verdicts.count(FAIL), verdicts.count(SKIPPED)
