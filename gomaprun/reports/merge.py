"""Shard reports read back and merged: runner.py --merge a.json b.json ...

`--shard I/N --json F` runs on several machines each write the JSON report
of one slice of the units (gomaprun.runloop.units.shard_units). A merge
reads those reports and fills the units of the whole selection with their
runs, so that main writes the table, the closing line, the exit status and
--json, --junit and --html exactly as one run of every unit would; it runs
and builds nothing.

The units themselves are made again from the source tree (the registry,
the expected files and the judge the reports name), the way the run made
them; every report must then agree with them:

- one run: the same master seed, judge, selection, modes, --runs and
  --timeout in every report (RunFacts, the report's `run` field);
- every slice once: the same N everywhere, no I twice, none missing (the
  message names the missing ones); a report without a shard is 1/1;
- every unit once, in the slice it belongs to, with the expectation and
  policy the tree gives it now (a report from another tree is refused);
- an explore unit's exploration summary and replayed orderings come back
  whole from its summary entry, before its verdict is checked;
- every run once: its index within the unit's runs, its seed the one the
  master seed gives that place, and the counts, completed runs and verdict
  of the unit's summary equal to what its runs add up to.

Anything else is a UsageError (exit status 2) naming the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from ..base import DEFAULT_GENERATION, OUTCOME_LABELS, OUTCOMES, UsageError, display_path, plural
from ..runloop.loop import SHOWN_FAILURES
from ..runloop.units import Example, RunRecord, Unit, shard_units
from .json_report import RunFacts, number, signum_from_name, whole

UnitKey = Tuple[str, str, str, str]  # (case, variant, mode, generation): Unit.key


@dataclass
class ShardReport:
    """One shard's JSON report, read and checked for shape."""

    path: Path
    seed: int
    facts: RunFacts
    summary: List[dict]
    runs: List[dict]

    @property
    def name(self) -> str:
        return display_path(self.path)

    @property
    def shard(self) -> Tuple[int, int]:
        return self.facts.shard or (1, 1)

    @property
    def shard_text(self) -> str:
        return f"{self.shard[0]}/{self.shard[1]}"


def read_report(path: Path) -> ShardReport:
    """Read one report written by runner.py --json; UsageError when it cannot be used."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot read the shard report {path}: {getattr(e, 'strerror', None) or e}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno})") from None
    except ValueError:
        raise UsageError(f"{path}: not valid JSON") from None
    where = display_path(path)
    if not isinstance(data, dict) or not all(k in data for k in ("seed", "runs", "summary")):
        raise UsageError(f"{where}: not a report of runner.py --json (no seed, runs and summary)")
    if "matrix" in data:
        raise UsageError(f"{where}: a --matrix report; --merge takes reports of catalogue runs")
    facts = RunFacts.from_json(data.get("run"), where)
    if not isinstance(data["seed"], int) or not isinstance(data["runs"], list) \
            or not isinstance(data["summary"], list):
        raise UsageError(f"{where}: malformed report (seed, runs or summary of the wrong type)")
    return ShardReport(path, data["seed"], facts, data["summary"], data["runs"])


def read_reports(paths: Sequence[Path]) -> List[ShardReport]:
    return [read_report(p) for p in paths]


# What must be equal in every report of one run: (what the message calls it, the value).
_SAME = (("master seed", lambda r: r.seed),
         ("judge", lambda r: r.facts.judge),
         ("case selection", lambda r: " ".join(r.facts.cases) or "all"),
         ("--variant", lambda r: ",".join(r.facts.variants) if r.facts.variants else "all"),
         ("modes", lambda r: "+".join(r.facts.modes)),
         ("--runs", lambda r: r.facts.runs if r.facts.runs is not None else "default"),
         ("--timeout", lambda r: r.facts.timeout),
         ("--bound", lambda r: r.facts.bound if r.facts.bound is not None else "none"),
         ("map generations", lambda r: "+".join(r.facts.generations)),
         ("Go versions", lambda r: ", ".join(f"{g} {v}" for g, v in (r.facts.go_versions or {}).items()) or "none"),
         ("number of selected units", lambda r: r.facts.selected_units))


def common_facts(reports: Sequence[ShardReport]) -> RunFacts:
    """The facts of the whole run the reports are slices of, once they are
    checked to be slices of one run, each given once, none missing."""
    first = reports[0]
    for other in reports[1:]:
        for what, value in _SAME:
            if value(other) != value(first):
                raise UsageError(f"{first.name} and {other.name} are not shards of one run: {what} "
                                 f"{value(first)} in one, {value(other)} in the other")
    counts = {r.shard[1] for r in reports}
    if len(counts) > 1:
        shown = ", ".join(f"{r.name} is {r.shard_text}" for r in reports)
        raise UsageError(f"the reports split the run into different numbers of shards ({shown})")
    n = first.shard[1]
    by_index: Dict[int, ShardReport] = {}
    for r in reports:
        if r.shard[0] in by_index:
            raise UsageError(f"shard {r.shard_text} given twice: {by_index[r.shard[0]].name} and {r.name}")
        by_index[r.shard[0]] = r
    missing = [i for i in range(1, n + 1) if i not in by_index]
    if missing:
        given = ", ".join(f"{i}/{n}" for i in sorted(by_index))
        raise UsageError(f"missing shard{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(f'{i}/{n}' for i in missing)} (given: {given})")
    interrupted = next((r.facts.interrupted_by for r in reports if r.facts.interrupted_by is not None), None)
    # The shards ran side by side: the run took as long as its longest shard.
    return replace(first.facts, shard=None, wall=max(r.facts.wall for r in reports), interrupted_by=interrupted,
                   failfast_stopped=any(r.facts.failfast_stopped for r in reports))


def _key(entry: dict, where: str, what: str) -> UnitKey:
    try:
        # A report from before map generations had names ran the default one.
        return (str(entry["case"]), str(entry["variant"]), str(entry["mode"]),
                str(entry.get("generation", DEFAULT_GENERATION)))
    except (KeyError, TypeError, AttributeError):
        raise UsageError(f"{where}: {what} without case, variant and mode") from None


def _name(key: UnitKey) -> str:
    return " ".join(key[:3]) + (f" [{key[3]}]" if key[3] != DEFAULT_GENERATION else "")


def fill_units(units: Sequence[Unit], reports: Sequence[ShardReport], master: int) -> None:
    """Record every report's runs in `units`, the whole selection made again
    from the tree; UsageError at the first disagreement."""
    holder: Dict[UnitKey, str] = {}
    for report in sorted(reports, key=lambda r: r.shard[0]):
        where = report.name
        entries: Dict[UnitKey, dict] = {}
        for entry in report.summary:
            key = _key(entry, where, "a summary entry")
            if key in entries:
                raise UsageError(f"{where}: unit {_name(key)} is summarised twice")
            if key in holder:
                raise UsageError(f"unit {_name(key)} is in two shard reports: {holder[key]} and {where}")
            entries[key] = entry
            holder[key] = where
        mine = {u.key: u for u in shard_units(units, report.shard)}
        extra = [k for k in entries if k not in mine]
        if extra:
            raise UsageError(f"{where} (shard {report.shard_text}) holds units that are not in its slice of "
                             f"this tree's selection: {', '.join(map(_name, extra))} (merge in the source tree "
                             "the shards ran from)")
        lacking = [k for k in mine if k not in entries]
        if lacking:
            raise UsageError(f"{where} (shard {report.shard_text}) lacks units of its slice: "
                             f"{', '.join(map(_name, lacking))}")
        records: Dict[UnitKey, Dict[int, RunRecord]] = {k: {} for k in mine}
        for run in report.runs:
            key = _key(run, where, "a run")
            if key not in mine:
                raise UsageError(f"{where}: a run of {_name(key)}, which the report does not summarise")
            rec = _record(run, where, key)
            unit = mine[key]
            if not 0 <= rec.index < unit.runs:
                raise UsageError(f"{where}: {_name(key)} run {rec.index}: the unit has runs 0 to {unit.runs - 1}")
            if rec.index in records[key]:
                raise UsageError(f"{where}: {_name(key)} run {rec.index} is listed twice")
            if rec.seed != unit.run_seed(master, rec.index):
                raise UsageError(f"{where}: {_name(key)} run {rec.index} has seed {rec.seed}, not the one "
                                 f"master seed {master} gives it")
            records[key][rec.index] = rec
        for key, unit in mine.items():
            _fill(unit, entries[key], records[key], where)


def _record(run: dict, where: str, key: UnitKey) -> RunRecord:
    try:
        outcome = run["outcome"]
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        status = run["exit"]
        return RunRecord(index=whole(run["index"], "index"), seed=whole(run["seed"], "seed"), outcome=outcome,
                         reason=run.get("reason") or "", status=None if status is None else whole(status, "exit"),
                         signum=signum_from_name(run["signal"]), first_line=str(run["first_line"]),
                         ms=number(run["ms"], "ms"))
    except KeyError as e:
        raise UsageError(f"{where}: a run of {_name(key)} has no {e.args[0]!r}") from None
    except ValueError as e:  # raised in the runner's own words (whole, number, ...)
        raise UsageError(f"{where}: a malformed run of {_name(key)}: {e}") from None
    except TypeError:
        raise UsageError(f"{where}: a malformed run of {_name(key)}: a field holds a value of the wrong kind") \
            from None


def _fill(unit: Unit, entry: dict, records: Dict[int, RunRecord], where: str) -> None:
    name = unit.name
    for field, mine in (("expected", unit.expect.summary()), ("policy", unit.policy), ("runs", unit.runs)):
        if entry.get(field) != mine:
            raise UsageError(f"{where}: {name}: {field} {entry.get(field)!r} in the report, {mine!r} in this "
                             "tree (merge in the source tree the shards ran from)")
    # A unit that could not run where its shard ran (a Go twin that needs a
    # newer Go) says why; it has no runs.
    if entry.get("skipped") is not None:
        unit.skipped = str(entry["skipped"])
    # In the order of their indexes: the failing runs kept with their replay
    # commands are then the first ones by index.
    for index in sorted(records):
        unit.add_record(records[index], SHOWN_FAILURES)
    if entry.get("explore") is not None:
        _fill_exploration(unit, entry, where)
    said = [("completed", unit.done)] + [(OUTCOME_LABELS[o][2], unit.counts[o]) for o in OUTCOMES]
    for field, counted in said:
        if entry.get(field) != counted:
            raise UsageError(f"{where}: {name}: the summary says {field} {entry.get(field)}, its runs add up "
                             f"to {counted}")
    if entry.get("verdict") != unit.verdict():
        raise UsageError(f"{where}: {name}: the summary's verdict is {entry.get('verdict')!r}, its runs give "
                         f"{unit.verdict()!r}")
    sample = entry.get("sample")
    if sample is not None:
        try:
            rec = records[whole(sample["index"], "sample index")]
            unit.sample = (rec, str(sample["stderr"]))
        except (KeyError, TypeError, ValueError):
            raise UsageError(f"{where}: {name}: a sample that names no run of the unit") from None


def _fill_exploration(unit: Unit, entry: dict, where: str) -> None:
    """An explore unit's summary line and replayed orderings, back from its entry."""
    explored = entry["explore"]
    if not isinstance(explored, dict):
        raise UsageError(f"{where}: {unit.name}: a malformed exploration summary")
    unit.explored = explored
    try:
        for e in entry.get("examples") or ():
            unit.examples.append(Example(kind=str(e["kind"]), schedule=str(e["schedule"]),
                                         status=None if e["exit"] is None else whole(e["exit"], "exit"),
                                         signum=signum_from_name(e["signal"]), first_line=str(e["first_line"]),
                                         stderr=str(e["stderr"]), ok=bool(e["ok"]), problem=e.get("problem") or ""))
    except KeyError as e:
        raise UsageError(f"{where}: {unit.name}: a replayed ordering has no {e.args[0]!r}") from None
    except ValueError as e:
        raise UsageError(f"{where}: {unit.name}: a malformed replayed ordering: {e}") from None
    except TypeError:
        raise UsageError(f"{where}: {unit.name}: a malformed replayed ordering: a field holds a value of the "
                         "wrong kind") from None


def merge_line(judge, reports: Sequence[ShardReport], units: Sequence[Unit], facts: RunFacts,
               master: int) -> str:
    """The first line of a merge: what was merged, and how to replay it."""
    what = f"{judge.title}: " if judge.title else ""
    names = ", ".join(r.name for r in sorted(reports, key=lambda r: r.shard[0]))
    line = (f"{what}{plural(len(reports), 'shard report')} merged ({names}): "
            f"{plural(len(units), 'unit')} ({'+'.join(facts.modes)}), {plural(sum(u.done for u in units), 'run')}, "
            f"seed {master} (replay with --seed {master})\n")
    if judge.note:
        line += judge.note + "\n"
    return line

