"""The JSON report: every run, and a summary per unit.

Top level: seed, interrupted, runs (every run), summary (per unit), passed,
failed, the judge's own fields, and `run`: how the run was made (RunFacts:
the judge, the selection, --runs, --timeout, the shard, the number of
units before sharding, wall time, why it stopped early). Each unit's
summary carries `sample`: the stderr of the run the HTML page draws a
timeline from. With those, a merge of shard reports (gomaprun.reports.merge)
rebuilds every report of the whole run. An explore unit's summary also
carries `explore` (the exploration's whole summary line) and `examples`
(the replayed orderings with their stderr).
"""

from __future__ import annotations

import signal
import statistics
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from ..base import DEFAULT_GENERATION, GENERATIONS, OUTCOMES, OUTCOME_LABELS, UsageError, signal_name


@dataclass
class RunFacts:
    """How a run of the catalogue was made: the report's `run` field."""

    judge: str  # the judge's name
    cases: List[str]  # the selection as given (ids, globs, groups); [] means all
    variants: Optional[List[str]]  # --variant, None when not given
    modes: List[str]
    runs: Optional[int]  # --runs, None for the judge's defaults
    timeout: float
    shard: Optional[Tuple[int, int]]  # (I, N) of --shard I/N
    selected_units: int  # units of the whole selection, before sharding
    wall: float  # seconds
    interrupted_by: Optional[int] = None  # the signal that stopped the run
    failfast_stopped: bool = False
    bound: Optional[int] = None  # --mode explore's preemption bound
    # The core's map generations the run covered (--generation).
    generations: List[str] = field(default_factory=lambda: [DEFAULT_GENERATION])
    # --go: the Go version that built each generation's twins.
    go_versions: Optional[Dict[str, str]] = None

    def to_json(self) -> dict:
        return {"judge": self.judge, "cases": list(self.cases), "variants": self.variants, "modes": list(self.modes),
                "runs_per_unit": self.runs, "timeout": self.timeout,
                "shard": {"index": self.shard[0], "count": self.shard[1]} if self.shard else None,
                "selected_units": self.selected_units, "wall_s": round(self.wall, 3),
                "interrupted_by": signal_name(self.interrupted_by) if self.interrupted_by is not None else None,
                "stopped_by_failfast": self.failfast_stopped, "bound": self.bound,
                "generations": list(self.generations), "go_versions": self.go_versions}

    @classmethod
    def from_json(cls, d: object, where: str) -> "RunFacts":
        """The facts back from a report's `run` field; UsageError naming `where` when malformed."""
        def bad(what: str) -> UsageError:
            return UsageError(f"{where}: the report's 'run' field {what}")

        if not isinstance(d, dict):
            raise bad("is missing (a report written by runner.py --json records how its run was made)")
        try:
            shard = d["shard"]
            if shard is not None:
                shard = (whole(shard["index"], "shard index"), whole(shard["count"], "shard count"))
                if not 1 <= shard[0] <= shard[1]:
                    raise ValueError(f"shard {shard[0]}/{shard[1]}")
            variants = d["variants"]
            facts = cls(judge=str(d["judge"]), cases=[str(c) for c in d["cases"]],
                        variants=None if variants is None else [str(v) for v in variants],
                        modes=[str(m) for m in d["modes"]],
                        runs=None if d["runs_per_unit"] is None else whole(d["runs_per_unit"], "runs_per_unit"),
                        timeout=number(d["timeout"], "timeout"), shard=shard,
                        selected_units=whole(d["selected_units"], "selected_units"),
                        wall=number(d["wall_s"], "wall_s"), interrupted_by=signum_from_name(d["interrupted_by"]),
                        failfast_stopped=bool(d["stopped_by_failfast"]),
                        bound=None if d.get("bound") is None else whole(d["bound"], "bound"),
                        # A report from before map generations had names ran the default one.
                        generations=_generations(d.get("generations")),
                        go_versions=_go_versions(d.get("go_versions")))
        except KeyError as e:
            raise bad(f"has no {e.args[0]!r}") from None
        except ValueError as e:  # raised in the runner's own words (whole, number, ...)
            raise bad(f"is malformed: {e}") from None
        except (TypeError, AttributeError):
            raise bad("is malformed: a field holds a value of the wrong kind") from None
        return facts


def _generations(value: object) -> List[str]:
    """The `generations` of a report's `run` field; absent in a report from
    before map generations had names, which ran the default one."""
    if value is None:
        return [DEFAULT_GENERATION]
    if not isinstance(value, list) or not value or any(g not in GENERATIONS for g in value):
        raise ValueError(f"generations {value!r} is not a list of map generations ({', '.join(GENERATIONS)})")
    return [str(g) for g in value]


def _go_versions(value: object) -> Optional[Dict[str, str]]:
    if value is None:
        return None
    if not isinstance(value, dict) or any(g not in GENERATIONS or not isinstance(v, str) for g, v in value.items()):
        raise ValueError(f"go_versions {value!r} is not a Go version per map generation")
    return dict(value)


def whole(value: object, what: str) -> int:
    """A whole number read from a report; ValueError in the runner's words
    (never int()'s) when it is not one."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) \
            or (isinstance(value, str) and not value.strip().lstrip("-").isdigit()):
        raise ValueError(f"{what} is not a whole number: {value!r}")
    return int(value)


def number(value: object, what: str) -> float:
    """A number read from a report; ValueError in the runner's words when it is not one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} is not a number: {value!r}")
    return float(value)


def signum_from_name(name: Optional[str]) -> Optional[int]:
    """A signal number from the text signal_name gives (SIGINT, signal 99); ValueError otherwise."""
    if name is None:
        return None
    if not isinstance(name, str):
        raise ValueError(f"signal {name!r} is not a signal name")
    if name.startswith("signal "):
        return whole(name[len("signal "):], "signal number")
    try:
        return signal.Signals[name].value
    except KeyError:
        raise ValueError(f"unknown signal {name!r}") from None


def json_report(master_seed: int, units: Sequence, passed: int, failed: int, interrupted: bool,
                judge=None, facts: Optional[RunFacts] = None) -> dict:
    """The report as a JSON-ready dict; `judge` (default: the units') adds its own fields,
    `facts` the `run` field."""
    if judge is None and units:
        judge = units[0].judge
    runs = []
    summary = []
    for u in units:
        for r in sorted(u.records, key=lambda rec: rec.index):
            runs.append({
                "case": u.case.id, "variant": u.variant, "mode": u.mode, "generation": u.generation,
                "index": r.index, "seed": r.seed,
                "outcome": r.outcome, "exit": r.status,
                "signal": signal_name(r.signum) if r.signum is not None else None,
                "first_line": r.first_line, "ms": round(r.ms, 3), "reason": r.reason or None,
                "replay": u.replay_text(r.seed) if u.breaks_policy(r.outcome) else None,
            })
        entry = {
            "case": u.case.id, "group": u.case.group, "variant": u.variant, "mode": u.mode,
            "generation": u.generation, "expected": u.expect.summary(), "policy": u.policy, "runs": u.runs,
            "completed": u.done,
        }
        entry.update({OUTCOME_LABELS[o][2]: u.counts[o] for o in OUTCOMES})
        entry.update({
            "median_ms": round(statistics.median(u.times), 3) if u.times else None,
            "verdict": u.verdict(), "reason": u.failure_reason() or None,
        })
        if u.skipped is not None:
            entry["skipped"] = u.skipped
        entry.update(u.judge.unit_fields(u.expect))
        if u.explored is not None:
            entry["explore"] = u.explored
            entry["examples"] = [{"kind": e.kind, "schedule": e.schedule, "exit": e.status,
                                  "signal": signal_name(e.signum) if e.signum is not None else None,
                                  "first_line": e.first_line, "ok": e.ok, "problem": e.problem or None,
                                  "replay": u.example_text(e.schedule), "stderr": e.stderr}
                                 for e in u.examples]
        sample = getattr(u, "sample", None)
        entry["sample"] = {"index": sample[0].index, "stderr": sample[1]} if sample is not None else None
        summary.append(entry)
    report = {"seed": master_seed, "interrupted": interrupted, "runs": runs, "summary": summary,
              "passed": passed, "failed": failed,
              "skipped": sum(1 for u in units if u.skipped is not None)}
    if judge is not None:
        report.update(judge.report_fields())
    if facts is not None:
        report["run"] = facts.to_json()
    return report
