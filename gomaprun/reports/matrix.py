"""The detection matrix: per case, how often each tool reports the misuse in natural mode.

runner.py --matrix runs, per case with a bad variant and for the len
control, natural runs of build/ judged by the signature judge and natural
runs of build-tsan/ judged by the ThreadSanitizer judge; count_run (the run
loop's observer) tallies, per row, the runs in which each tool caught the
misuse (gomaprun.judges.tsan.builtin_fired and tsan_fired). This module
prints the rows, writes them as markdown (--matrix-md) and gives the HTML
page its cells; write_matrix_reports is the matrix's report step.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from ..base import BAD, DEFAULT_RUNS, EXIT_FAILED, EXIT_OK, UsageError, display_path, exit_status, plural
from ..judges.tsan import TSAN_OPTIONS, builtin_fired, expectation_kind, tsan_fired
from . import html as html_report
from .text import counts

DEFAULT_MATRIX_RUNS = DEFAULT_RUNS["matrix"]


@dataclass
class MatrixRow:
    case_id: str
    group: str
    go_article: str
    builtin_fired: int = 0
    builtin_runs: int = 0
    tsan_fired: int = 0
    tsan_runs: int = 0
    unchecked_race: bool = False  # the case's trait: a race the detector cannot see

    @staticmethod
    def rate(fired: int, runs: int) -> Optional[float]:
        return fired / runs if runs else None

    @property
    def builtin_rate(self) -> Optional[float]:
        return self.rate(self.builtin_fired, self.builtin_runs)

    @property
    def tsan_rate(self) -> Optional[float]:
        return self.rate(self.tsan_fired, self.tsan_runs)


def matrix_cases(cases: Sequence) -> List:
    """The cases the matrix covers: every case with a bad variant, and the
    races the detector cannot see (the unchecked-race trait: the len control)."""
    return [c for c in cases if BAD in c.variants or c.unchecked_race]


def _percent(fired: int, runs: int) -> str:
    """A rate as a percentage that never rounds to 0% or 100% unless it is exactly that."""
    pct = 100.0 * fired / runs
    text = f"{pct:.0f}"
    if (text == "100" and fired != runs) or (text == "0" and fired):
        text = f"{pct:.1f}"
    return text + "%"


def _cell(fired: int, runs: int) -> str:
    if not runs:
        return "not measured"
    return f"{_percent(fired, runs)} ({fired}/{runs})"


def matrix_table(rows: Sequence[MatrixRow]) -> List[Tuple[str, str, str, str]]:
    head = ("case", "built-in detector", "ThreadSanitizer", "real Go (article)")
    body = [(r.case_id, _cell(r.builtin_fired, r.builtin_runs), _cell(r.tsan_fired, r.tsan_runs),
             r.go_article if r.go_article not in ("", "-") else "-") for r in rows]
    return [head] + body


def format_matrix_text(rows: Sequence[MatrixRow]) -> str:
    table = matrix_table(rows)
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in table)


def format_matrix_markdown(rows: Sequence[MatrixRow]) -> str:
    table = matrix_table(rows)
    lines = ["| " + " | ".join(table[0]) + " |", "|---|---:|---:|---:|"]
    lines += ["| " + " | ".join([f"`{r[0]}`"] + list(r[1:])) + " |" for r in table[1:]]
    return "\n".join(lines)


def matrix_for_html(rows: Sequence[MatrixRow]) -> Dict[str, Dict[str, object]]:
    """The rows for runner_html.detection_matrix: each cell as text with its run counts."""
    return {r.case_id: {"builtin_rate": _cell(r.builtin_fired, r.builtin_runs) if r.builtin_runs else None,
                        "tsan_rate": _cell(r.tsan_fired, r.tsan_runs) if r.tsan_runs else None} for r in rows}


def matrix_markdown_page(rows: Sequence[MatrixRow], runs: int, seed: int, when: str, tsan_options: str) -> str:
    unchecked = ", ".join(f"`{r.case_id}`" for r in rows if r.unchecked_race) or "the len control"
    return f"""# Detection matrix: the built-in detector and ThreadSanitizer

Per case: how often each tool reports the misuse of the map in **natural
mode** (no forced schedule: the overlap is left to chance, as in a user's
program).

- **built-in detector**: Go's own best-effort check, ported to the core
  (`build/`); a run counts when it ends with the case's expected report
  (for {unchecked}: when any report appears; it never should).
- **ThreadSanitizer**: the same programs built with the `tsan` preset
  (`build-tsan/`, clang `-fsanitize=thread`); a run counts when TSan prints
  a `data race` report naming both accesses.
- **real Go (article)**: the article's own example run with Go 1.19
  (without `-race`): runs that ended with a fatal error, from
  `cases/manifest.tsv`.

Measured {when} with `python3 runner.py --matrix --runs {runs} --seed {seed}`:
{runs} natural runs per case and tool, on the shared 2-core machine.
`TSAN_OPTIONS="{tsan_options}"`.

{format_matrix_markdown(rows)}

`nil-map-assign` is a panic in a single thread, not a race: only the
built-in check sees it. {unchecked} is a race that Go's detector cannot
see by design (`len` does not check the write flag): only ThreadSanitizer
reports it. The built-in detector sees a misuse only when the two
operations overlap in time, while one of them holds the write flag.
ThreadSanitizer sees any two map operations that are not ordered by
synchronisation, whether or not they overlapped: under TSan the core reads
or writes one header byte in every map operation, as Go's race build does
(racereadpc/racewritepc), so a reader and a writer that touch different
buckets still race. The price is slower runs
and a special build. Under ThreadSanitizer the triggers run in natural
mode: the forced schedule's hand-over between the two threads is a
happens-before edge for TSan and hides the race.
"""


# Everything from this line on in a --matrix-md file is kept when the file is
# written again (notes and measurements that are not the matrix itself).
MD_KEEP_MARKER = "<!-- written by runner.py --matrix above this line; kept as is below -->"


def write_matrix_md(path: Path, page: str) -> None:
    """Write the generated page, keeping what follows the marker in an existing file."""
    kept = ""
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = ""
    at = old.find(MD_KEEP_MARKER)
    if at >= 0:
        kept = old[at + len(MD_KEEP_MARKER):]
    path.write_text(page.rstrip("\n") + "\n\n" + MD_KEEP_MARKER + (kept if kept else "\n"), encoding="utf-8")


def count_run(rows: Dict[str, MatrixRow], unit, rec, stderr: str) -> None:
    """Tally one finished run of the matrix in its case's row."""
    row = rows[unit.case.id]
    if unit.judge.name == "thread":
        row.tsan_runs += 1
        row.tsan_fired += tsan_fired(stderr)
    else:
        row.builtin_runs += 1
        row.builtin_fired += builtin_fired(expectation_kind(unit.case, unit.variant), rec.outcome, stderr)


def write_matrix_reports(ordered: Sequence[MatrixRow], units: Sequence, builtin_units: Sequence, runs: int,
                         master: int, generation: str, wall: float, interrupted: Optional[int], files,
                         matrix_md: Optional[Path], root: Path, expected_dir: Path, out) -> int:
    """The matrix's table and closing lines on `out`, then --matrix-md, the
    --json and --html files (`files`: json, junit, html; None: not asked
    for); the exit status."""
    out.write("\n" + format_matrix_text(ordered) + "\n")
    out.write(f"\n{plural(sum(u.done for u in units), 'run')} in {wall:.1f}s wall\n")
    # The matrix measures rates: its units' verdicts (a natural trigger that
    # never reproduced, a TSan run without a report) are printed for
    # information; the exit status is 0 once every row is measured.
    passed, failed = counts(units)
    out.write(f"{passed} passed, {failed} failed\n")
    out.flush()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    if matrix_md is not None and interrupted is None:
        try:
            write_matrix_md(matrix_md, matrix_markdown_page(ordered, runs, master, when, TSAN_OPTIONS))
        except OSError as e:
            raise UsageError(f"cannot write {matrix_md}: {e.strerror or e}") from None
        out.write(f"matrix written to {display_path(matrix_md)}\n")
    json_file, _, html_file = files
    if json_file is not None:
        report = {"seed": master, "runs": runs, "measured": when, "tsan_options": TSAN_OPTIONS,
                  "generation": generation,
                  "interrupted": interrupted is not None,
                  "matrix": [{"case": r.case_id, "builtin_fired": r.builtin_fired, "builtin_runs": r.builtin_runs,
                              "tsan_fired": r.tsan_fired, "tsan_runs": r.tsan_runs} for r in ordered]}
        with json_file:
            json_file.write(json.dumps(report, indent=1).encode() + b"\n")
    if html_file is not None:
        with html_file:
            meta = {"detection matrix": f"{runs} natural runs per case and tool", "map generation": generation,
                    "seed": master, "wall": f"{wall:.1f}s", "finished": when}
            html_file.write(html_report.render_units(builtin_units, root, expected_dir, meta,
                                                     matrix=matrix_for_html(ordered)).encode("utf-8"))
    if interrupted is not None:
        return exit_status(interrupted, 0)
    return EXIT_OK if all(r.builtin_runs and r.tsan_runs for r in ordered) else EXIT_FAILED
