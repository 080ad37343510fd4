"""The end of a run of the catalogue (any judge), or of a merge of its shards.

write_reports writes the failures, the table and the closing lines, then
the --json, --junit and --html files, and returns the exit status; the
catalogue, the Go twins (--go) and --merge all end through it, so that a
merge says what one run would have said. It reads results and starts no
process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Mapping

from ..base import exit_status, now_utc, signal_name
from . import html as html_report
from .json_report import RunFacts, json_report
from .junit import junit_report
from .text import counts, format_table, write_closing, write_failures


def go_report_fields(go_versions: Mapping[str, str]) -> Dict[str, object]:
    """The JSON report's top-level fields that name the Go of each generation."""
    return {"go_version": ", ".join(go_versions.values()), "go_versions": dict(go_versions)}


def write_reports(units, master: int, judge, facts: RunFacts, root: Path, expected_dir: Path, files, out) -> int:
    """The failures, the table and the closing lines on `out`, then the
    --json (with the Go versions' top-level fields when the facts name
    them), --junit and --html files (None: not asked for); the exit status.
    Units that ran, and units that could not run here (skipped), are shown."""
    json_file, junit_file, html_file = files
    shown = [u for u in units if u.done or u.skipped is not None]
    write_failures(shown, out)
    out.write("\n" + format_table(shown) + "\n")
    write_closing(units, facts.wall, facts.interrupted_by, facts.failfast_stopped, out)
    out.flush()
    passed, failed = counts(units)
    interrupted = facts.interrupted_by

    if json_file is not None:
        with json_file:
            report = json_report(master, units, passed, failed, interrupted is not None, judge, facts)
            if facts.go_versions:
                report.update(go_report_fields(facts.go_versions))
            json_file.write(json.dumps(report, indent=1).encode() + b"\n")
    if junit_file is not None:
        with junit_file:
            junit_file.write(junit_report(master, units, judge.suite))
    if html_file is not None:
        with html_file:
            meta = {"judged by": judge.title} if judge.title else {}
            if facts.go_versions:
                meta["judged by"] = f"{judge.title} ({', '.join(facts.go_versions.values())})"
            meta.update(judge.header_facts())
            meta.update({"map generation": "+".join(facts.generations),
                         "seed": master, "runs per unit": facts.runs or "default", "modes": "+".join(facts.modes),
                         "wall": f"{facts.wall:.1f}s", "finished": now_utc()})
            if interrupted is not None:
                meta["interrupted by"] = signal_name(interrupted)
            html_file.write(html_report.render_units(units, root, expected_dir, meta).encode("utf-8"))
    return exit_status(interrupted, failed)
