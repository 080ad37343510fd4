"""The JSON report: every run, and a summary per unit."""

from __future__ import annotations

import statistics
from typing import Sequence

from ..base import OUTCOME_LABELS, OUTCOMES, signal_name


def json_report(master_seed: int, units: Sequence, passed: int, failed: int, interrupted: bool,
                judge=None) -> dict:
    """The report as a JSON-ready dict; `judge` (default: the units') adds its own fields."""
    if judge is None and units:
        judge = units[0].judge
    runs = []
    summary = []
    for u in units:
        for r in sorted(u.records, key=lambda rec: rec.index):
            runs.append({
                "case": u.case.id, "variant": u.variant, "mode": u.mode, "index": r.index, "seed": r.seed,
                "outcome": r.outcome, "exit": r.status,
                "signal": signal_name(r.signum) if r.signum is not None else None,
                "first_line": r.first_line, "ms": round(r.ms, 3), "reason": r.reason or None,
                "replay": u.replay_text(r.seed) if u.breaks_policy(r.outcome) else None,
            })
        entry = {
            "case": u.case.id, "group": u.case.group, "variant": u.variant, "mode": u.mode,
            "expected": u.expect.summary(), "policy": u.policy, "runs": u.runs, "completed": u.done,
        }
        entry.update({OUTCOME_LABELS[o][2]: u.counts[o] for o in OUTCOMES})
        entry.update({
            "median_ms": round(statistics.median(u.times), 3) if u.times else None,
            "verdict": u.verdict(), "reason": u.failure_reason() or None,
        })
        if u.skipped is not None:
            entry["skipped"] = u.skipped
        entry.update(u.judge.unit_fields(u.expect))
        summary.append(entry)
    report = {"seed": master_seed, "interrupted": interrupted, "runs": runs, "summary": summary,
              "passed": passed, "failed": failed,
              "skipped": sum(1 for u in units if u.skipped is not None)}
    if judge is not None:
        report.update(judge.report_fields())
    return report
