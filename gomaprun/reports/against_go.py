"""The side-by-side report of runner.py --against-go: each C case beside its Go twin.

Per case and variant (a runloop.pairs.Pair): both sides' rates (matched
runs of the runs made), the most common first line of each, whether they
agree, and the pair's verdict, as a text table, a JSON-ready dict, JUnit
XML, and the per-case cells the HTML cards show ("real Go, same program");
write_pair_reports is --against-go's report step. Like every report, it reads results and runs nothing.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

from ..base import (DEFAULT_GENERATION, FAIL, INCOMPLETE, MATCHED, NATURAL, NOT_RUN, OUTCOMES, OUTCOME_LABELS,
                    SKIPPED, exit_status, now_utc, plural, signal_name)
from ..runloop.pairs import pair_counts, side_signature
from . import html as html_report
from .junit import _xml_text
from .text import closing_line

HEADER = ("case", "variant", "runs", "C", "Go", "agree", "verdict", "first line, most common (C | Go)")
_NUMERIC = {2, 3, 4}


def rate(unit) -> str:
    """A side's matched runs of its runs made ("skipped" for a skipped side)."""
    if unit.skipped is not None:
        return "skipped"
    return f"{unit.counts[MATCHED]}/{unit.done}" if unit.done else "-"


def _first(sig) -> str:
    if sig is None:
        return "(none)"
    status, line = sig
    return line if line else f"(exit {status}, no stderr)"


def agree_word(pair) -> str:
    return {True: "yes", False: "NO", None: "-"}[pair.agree()]


def first_lines(pair) -> str:
    c, go = pair.signatures()
    if pair.go.skipped is not None:
        return f"{_first(c)} | Go twin {pair.go.skipped}"
    if c is not None and c == go:
        return _first(c)
    # Exit statuses that differ are shown beside lines that do not already name them.
    differ = c is not None and go is not None and c[0] != go[0]
    cs = f" (exit {c[0]})" if differ and c[1] else ""
    gs = f" (exit {go[0]})" if differ and go[1] else ""
    return f"{_first(c)}{cs} | {_first(go)}{gs}"


def _generations(pairs: Sequence) -> List[str]:
    seen: List[str] = []
    for p in pairs:
        if p.c.generation not in seen:
            seen.append(p.c.generation)
    return seen


def format_pairs(pairs: Sequence) -> str:
    """The table; a `generation` column after the variant when the pairs are of several map generations."""
    several = len(_generations(pairs)) > 1
    versions = extra_versions(pairs)
    header = HEADER[:2] + (("generation",) if several else ()) + HEADER[2:5] \
        + tuple(f"Go {v}" for v in versions) + HEADER[5:]
    numeric = {i + (1 if several else 0) for i in _NUMERIC} | \
        {5 + (1 if several else 0) + k for k in range(len(versions))}
    rows = [header]
    for p in pairs:
        extra = dict(p.extra)
        rows.append((p.case.id, p.variant) + ((p.c.generation,) if several else ())
                    + (str(max(p.c.runs, p.go.runs)), rate(p.c), rate(p.go))
                    + tuple(rate(extra[v]) if v in extra else "-" for v in versions)
                    + (agree_word(p), p.verdict(), first_lines(p)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    out = []
    for r in rows:
        cells = [c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def extra_versions(pairs: Sequence) -> List[str]:
    """The --go-extra Go versions of the pairs, in the order given."""
    seen: List[str] = []
    for p in pairs:
        for version, _ in p.extra:
            if version not in seen:
                seen.append(version)
    return seen


def pair_name(p) -> str:
    """`2.1-read-write-pair bad`, `[swiss]` added for another generation than the default."""
    return f"{p.case.id} {p.variant}" + (f" [{p.c.generation}]" if p.c.generation != DEFAULT_GENERATION else "")


def write_pair_failures(pairs: Sequence, out) -> None:
    """Each failing pair and why; each skipped pair and why."""
    failing = [p for p in pairs if p.verdict() == FAIL]
    if failing:
        out.write("\nfailures:\n")
        for p in failing:
            out.write(f"{pair_name(p)}: {p.reason()}\n")
            for side, unit in (("C", p.c), ("Go", p.go)) + tuple((f"Go {v}", u) for v, u in p.extra):
                for r in unit.failing:
                    out.write(f"  {side} run {r.index}: {r.outcome}: {r.reason}\n"
                              f"    replay: {unit.replay_text(r.seed)}\n")


def _side(unit) -> Dict[str, object]:
    sig = side_signature(unit)
    d: Dict[str, object] = {"runs": unit.runs if unit.skipped is None else 0, "completed": unit.done}
    d.update({OUTCOME_LABELS[o][2]: unit.counts[o] for o in OUTCOMES})
    d.update({"exit": sig[0] if sig else None, "first_line": sig[1] if sig else None,
              "verdict": unit.verdict(), "reason": unit.failure_reason() or None})
    if unit.skipped is not None:
        d["skipped"] = unit.skipped
    return d


def json_pairs(master: int, runs: int, go_version: str, pairs: Sequence, passed: int, failed: int,
               skipped: int, interrupted: bool) -> dict:
    """The --json report of --against-go: both sides' counts per case and variant."""
    return {
        "seed": master, "runs": runs, "go_version": go_version, "mode": NATURAL, "interrupted": interrupted,
        "pairs": [{"case": p.case.id, "group": p.case.group, "variant": p.variant, "generation": p.c.generation,
                   "verdict": p.verdict(),
                   "reason": p.reason() or None, "agree": p.agree(), "c": _side(p.c), "go": _side(p.go),
                   "extra_go": {v: _side(u) for v, u in p.extra}}
                  for p in pairs],
        "passed": passed, "failed": failed, "skipped": skipped,
    }


def junit_pairs(master: int, pairs: Sequence, go_version: str) -> bytes:
    """One test case per case and variant: the C case against its Go twin."""
    failures = sum(1 for p in pairs if p.verdict() == FAIL)
    skipped = sum(1 for p in pairs if p.verdict() in (SKIPPED, INCOMPLETE, NOT_RUN))
    suites = ET.Element("testsuites")
    wall = sum(sum(p.c.times) + sum(p.go.times) for p in pairs) / 1000.0
    suite = ET.SubElement(suites, "testsuite", name="gomap-against-go", tests=str(len(pairs)),
                          failures=str(failures), errors="0", skipped=str(skipped), time=f"{wall:.3f}")
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="seed", value=str(master))
    ET.SubElement(props, "property", name="go_version", value=go_version)
    for p in pairs:
        tc = ET.SubElement(suite, "testcase", classname=f"{p.case.group}.{p.case.id}",
                           name=f"{p.variant}.against-go"
                           + (f".{p.c.generation}" if p.c.generation != DEFAULT_GENERATION else ""),
                           time=f"{(sum(p.c.times) + sum(p.go.times)) / 1000.0:.3f}")
        extra = "".join(f", Go {v} {rate(u)}" for v, u in p.extra)
        summary = f"C {rate(p.c)}, Go {rate(p.go)}{extra}, agree {agree_word(p)}; first line: {first_lines(p)}"
        verdict = p.verdict()
        if verdict == FAIL:
            fail = ET.SubElement(tc, "failure", message=_xml_text(p.reason()),
                                 type="disagreement" if p.agree() is False else "policy")
            fail.text = _xml_text(summary)
        elif verdict in (SKIPPED, INCOMPLETE, NOT_RUN):
            ET.SubElement(tc, "skipped", message=_xml_text(p.reason() or verdict))
            ET.SubElement(tc, "system-out").text = _xml_text(summary)
        else:
            ET.SubElement(tc, "system-out").text = _xml_text(summary)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"


def html_cells(pairs: Sequence, go_versions: Optional[Mapping[str, str]] = None
               ) -> Dict[str, Dict[str, Mapping[str, object]]]:
    """case id -> row label -> what the HTML card shows beside the C rate.
    The label is the variant; when the pairs are of several map generations,
    one row per variant and generation (`bad, swiss map`), each beside the
    twin built by that generation's Go (`go_versions`: generation -> version)."""
    several = len(_generations(pairs)) > 1
    cells: Dict[str, Dict[str, Mapping[str, object]]] = {}
    for p in pairs:
        label = f"{p.variant}, {p.c.generation} map" if several else p.variant
        if label in cells.get(p.case.id, {}):
            continue
        c, go = p.signatures()
        cells.setdefault(p.case.id, {})[label] = {
            "generation": p.c.generation, "go_version": (go_versions or {}).get(p.c.generation, ""),
            "c_rate": rate(p.c), "go_rate": rate(p.go), "c_first": c[1] if c else "",
            "go_first": go[1] if go else "", "agree": p.agree(),
            "note": f"skipped, {p.go.skipped}" if p.go.skipped is not None else "",
        }
    return cells


def write_pair_reports(pairs: Sequence, units: Sequence, master: int, runs: int, versions: str, toolchains: str,
                       go_versions: Mapping[str, str], go_extra: Sequence[str], generations: Sequence[str],
                       wall: float, interrupted: Optional[int], files, root: Path, expected_dir: Path, out) -> int:
    """The pairs' failures, table and closing lines on `out`, then the
    --json, --junit and --html files (`files`: json, junit, html; None: not
    asked for); the exit status. `versions`: every Go that built twins
    (`go1.19.8, go1.26.0`); `toolchains`: the same as the header names them
    (`go1.19.8 (bucket map)`)."""
    write_pair_failures(pairs, out)
    out.write("\n" + format_pairs(pairs) + "\n")
    total = sum(u.done for u in units)
    if total:
        out.write(f"\n{plural(total, 'run')} in {wall:.1f}s wall\n")
    if interrupted is not None:
        out.write(f"interrupted by {signal_name(interrupted)}\n")
    passed, failed, skipped = pair_counts(pairs)
    out.write(closing_line(passed, failed, skipped) + "\n")
    out.flush()
    json_file, junit_file, html_file = files
    if json_file is not None:
        with json_file:
            report = json_pairs(master, runs, versions, pairs, passed, failed, skipped, interrupted is not None)
            report["go_versions"] = dict(go_versions)
            report["go_extra"] = list(go_extra)
            json_file.write(json.dumps(report, indent=1).encode() + b"\n")
    if junit_file is not None:
        with junit_file:
            junit_file.write(junit_pairs(master, pairs, versions))
    if html_file is not None:
        with html_file:
            # The page's totals count units; the pairs' verdicts (disagreements included) lead.
            meta = {"C cases against their Go twins": toolchains, "map generation": "+".join(generations),
                    "cases and variants": closing_line(passed, failed, skipped), "seed": master,
                    "runs per side": runs, "wall": f"{wall:.1f}s", "finished": now_utc()}
            html_file.write(html_report.render_units(units, root, expected_dir, meta,
                                                     go_twins=html_cells(pairs, go_versions)).encode("utf-8"))
    return exit_status(interrupted, failed)
