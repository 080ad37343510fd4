"""The text report on stdout: plan line, -v output, failures, table, closing lines."""

from __future__ import annotations

import statistics
from typing import List, Optional, Sequence, Tuple

from ..base import (DEFAULT_GENERATION, FAIL, INCOMPLETE, NOT_RUN, OUTCOME_LABELS, OUTCOMES, PASS, SKIPPED,
                    display_path, plural, signal_name)
from .explore import explore_line, explore_table, is_explore
from .timeline import format_terminal_timeline

TABLE_HEADER = (("case", "variant", "mode", "expected", "runs")
                + tuple(OUTCOME_LABELS[o][0] for o in OUTCOMES) + ("median ms", "verdict"))
_NUMERIC = set(range(4, 4 + len(OUTCOMES) + 2))


def abbreviate(text: str, width: int = 52) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def table_rows(units: Sequence) -> List[Tuple[str, ...]]:
    rows = []
    for u in units:
        median = f"{statistics.median(u.times):.1f}" if u.times else "-"
        program = getattr(u.judge, "program", "")
        mode = f"{u.mode} ({program})" if program else u.mode
        rows.append((u.case.id, u.variant, mode, abbreviate(u.expect.summary()), str(u.done))
                    + tuple(str(u.counts[o]) for o in OUTCOMES) + (median, u.verdict()))
    return rows


def generations_of(units: Sequence) -> List[str]:
    """The map generations of `units`, in the order they first appear."""
    seen: List[str] = []
    for u in units:
        g = getattr(u, "generation", DEFAULT_GENERATION)
        if g not in seen:
            seen.append(g)
    return seen


def with_generation_column(header: Tuple[str, ...], rows: List[Tuple[str, ...]], units: Sequence,
                           numeric: set) -> Tuple[Tuple[str, ...], List[Tuple[str, ...]], set]:
    """A table of units of several map generations gets a `generation`
    column after the mode (one generation: the plan line names it)."""
    if len(generations_of(units)) < 2:
        return header, rows, numeric
    rows = [r[:3] + (u.generation,) + r[3:] for r, u in zip(rows, units)]
    return header[:3] + ("generation",) + header[3:], rows, {i + 1 if i >= 3 else i for i in numeric}


def format_columns(header: Tuple[str, ...], rows: List[Tuple[str, ...]], numeric: set) -> str:
    rows = [header] + rows
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    out = []
    for r in rows:
        cells = [c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def format_table(units: Sequence) -> str:
    if is_explore(units):
        header, rows, numeric = explore_table(units, abbreviate)
    else:
        header, rows, numeric = TABLE_HEADER, table_rows(units), _NUMERIC
    return format_columns(*with_generation_column(header, rows, units, numeric))


def plan_line(judge, units: Sequence, modes: Sequence[str], builds, jobs: int, timeout: float,
              shard: Optional[Tuple[int, int]], master: int) -> str:
    """The first line of a run: what is about to run, and how to replay it.
    `builds`: a build directory, or (map generation, build directory) pairs;
    a generation other than the default alone is named."""
    total_runs = sum(u.runs for u in units)
    shard_text = f", shard {shard[0]}/{shard[1]}" if shard else ""
    if not isinstance(builds, (list, tuple)):
        builds = [(DEFAULT_GENERATION, builds)]
    plain = len(builds) == 1 and builds[0][0] == DEFAULT_GENERATION
    if judge.title:
        dirs = ", ".join(display_path(d) if plain else f"{display_path(d)}: {g} map" for g, d in builds)
        what = f"{judge.title} ({dirs}): {plural(len(units), 'unit')}"
    else:
        where = "" if plain else "; " + ", ".join(f"{g} map: {display_path(d)}" for g, d in builds)
        what = f"{plural(len(units), 'unit')} ({'+'.join(modes)}{where})"
    line = (f"{what}, {plural(total_runs, 'run')}, -j {jobs}, timeout {timeout:g}s{shard_text}, seed {master} "
            f"(replay with --seed {master})\n")
    if judge.note:
        line += judge.note + "\n"
    return line


def write_verbose(units: Sequence, out) -> None:
    """-v: one run's whole output per unit, with its map timeline."""
    for u in units:
        if u.done and u.shown:
            rec, so, se = u.shown
            status = f"exit {rec.status}" if rec.signum is None else signal_name(rec.signum)
            out.write(f"\n--- {u.name} run {rec.index} seed {rec.seed}: {rec.outcome} ({status}, {rec.ms:.1f} ms)\n")
            out.write(f"$ {u.replay_text(rec.seed)}\n--- stdout\n{so}")
            out.write(f"{'' if so.endswith(chr(10)) or not so else chr(10)}--- stderr\n{se}")
            out.write("" if se.endswith("\n") or not se else "\n")
            chart = format_terminal_timeline(se, color=out.isatty())
            if chart:
                out.write("--- timeline\n" + chart)
        if u.explored is not None:
            write_examples(u, out)


def write_examples(u, out) -> None:
    """-v for an exploration: its numbers, then each replayed ordering's lane chart."""
    out.write(f"--- exploration: {explore_line(u)}\n")
    for e in u.examples:
        ended = f"exit {e.status}" if e.signum is None else signal_name(e.signum)
        out.write(f"--- {e.kind} schedule {e.schedule} ({ended}"
                  + (f", {e.first_line}" if e.first_line else "") + ")"
                  + ("" if e.ok else f": DOES NOT AGREE: {e.problem}") + "\n")
        out.write(f"$ {u.example_text(e.schedule)}\n")
        chart = format_terminal_timeline(e.stderr, color=out.isatty())
        out.write(chart if chart else "(no map timeline)\n")


def write_failures(units: Sequence, out) -> None:
    """Each failing unit, its reason, and its failing runs' replay commands."""
    failing_units = [u for u in units if u.done and u.verdict() == FAIL]
    if not failing_units:
        return
    out.write("\nfailures:\n")
    for u in failing_units:
        out.write(f"{u.name}: {u.failure_reason()}\n")
        for r in u.failing:
            out.write(f"  run {r.index}: {r.outcome}: {r.reason}\n    replay: {u.replay_text(r.seed)}\n")
        if u.failing_total > len(u.failing):
            more = u.failing_total - len(u.failing)
            out.write(f"  ... and {more} more failing {'run' if more == 1 else 'runs'} "
                      f"(-v shows them all; --json has every run "
                      f"with its replay command, --keep their stderr)\n")


def counts(units: Sequence) -> Tuple[int, int]:
    """(units passed, units failed)."""
    return (sum(1 for u in units if u.verdict() == PASS), sum(1 for u in units if u.verdict() == FAIL))


def skipped_count(units: Sequence) -> int:
    """Units that could not run here (never counted as passed)."""
    return sum(1 for u in units if u.verdict() == SKIPPED)


def closing_line(passed: int, failed: int, skipped: int = 0) -> str:
    """`N passed, N failed`, and `, N skipped` when some units were skipped."""
    return f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "")


def write_closing(units: Sequence, wall: float, interrupted: Optional[int], failfast_hit: bool, out) -> None:
    """Runs and time, why the run stopped early if it did, the skipped units
    with their reasons, and `N passed, N failed` (`, N skipped`)."""
    total_done = sum(u.done for u in units)
    if total_done:
        out.write(f"\n{plural(total_done, 'run')} in {wall:.1f}s wall, {wall * 1000.0 / total_done:.2f} ms per run\n")
    unfinished = sum(1 for u in units if u.verdict() in (INCOMPLETE, NOT_RUN))
    if interrupted is not None:
        out.write(f"interrupted by {signal_name(interrupted)}: "
                  f"{unfinished} of {plural(len(units), 'unit')} not finished\n")
    elif failfast_hit and unfinished:
        out.write(f"stopped by --failfast: {unfinished} of {plural(len(units), 'unit')} not finished\n")
    for u in units:
        if u.verdict() == SKIPPED:
            out.write(f"skipped: {u.name}: {u.skipped}\n")
    passed, failed = counts(units)
    out.write(closing_line(passed, failed, skipped_count(units)) + "\n")


def write_list(cases: Sequence, out) -> None:
    """--list: the selected cases, one per line."""
    rows = [("id", "group", "variants", "title")] + [
        (c.id, c.group, ",".join(c.variants), c.title) for c in cases]
    w = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        out.write(f"{r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:<{w[2]}}  {r[3]}".rstrip() + "\n")
