"""runner.py --explain CASE: everything the tree says about one case.

The write-up, the source's header comment, the expected files and the fix;
main then adds the timeline of one forced run that the run loop captured
(gomaprun.reports.timeline.format_captured_run).
"""

from __future__ import annotations

from pathlib import Path

from ..base import display_path
from ..catalogue.expect import expect_path
from ..catalogue.sources import fix_from_header, read_writeup, source_header, source_path, writeup_path


def explain(case, root: Path, expected_dir: Path, out) -> None:
    def section(title: str) -> None:
        out.write(f"\n== {title} ==\n")

    out.write(f"{case.id} ({case.group}{', section ' + case.section if case.section not in ('', '-') else ''}): "
              f"{case.title}\n")
    if case.go_article not in ("", "-"):
        out.write(f"real Go, the article's example: {case.go_article}")
        out.write(f" ({case.go_signature})\n" if case.go_signature not in ("", "-") else "\n")
    section("write-up")
    writeup = read_writeup(root, case.id)
    if writeup is not None:
        out.write(writeup.rstrip("\n") + "\n")
    else:
        out.write(f"no write-up yet ({display_path(writeup_path(root, case.id))})\n")
    section("source header")
    src = source_path(root, case.id)
    header = None
    try:
        header = source_header(src.read_text(encoding="utf-8", errors="replace"))
        out.write((header if header is not None else f"{display_path(src)} has no leading comment") + "\n")
    except OSError:
        out.write(f"no source yet ({display_path(src)})\n")
    section("expected signature")
    for v in case.variants:
        path = expect_path(expected_dir, case.id, v)
        out.write(f"--- {display_path(path)}\n")
        try:
            out.write(path.read_text(encoding="utf-8", errors="replace").rstrip("\n") + "\n")
        except OSError:
            out.write("(missing)\n")
    section("fix")
    fix = fix_from_header(header) if header else None
    if fix:
        out.write(fix + "\n")
    elif "fixed" in case.variants:
        out.write(f"no fix line in the header; see the fixed variant ({display_path(src)}, --variant fixed)\n")
    else:
        out.write("nothing to fix: this is a control that must never fail\n")
