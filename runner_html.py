"""The runner's pictures of a run: the map timeline and the HTML report.

A run started with GOMAP_TIMELINE=1 (the runner always sets it) ends its
report with the map's flight recorder, the last events on the map that
detected the misuse, oldest first:

    map timeline, oldest first (GOMAP_TIMELINE=1):
      +0.000us thread 1 map write: entered
      +84.664us thread 2 "writer" map write: write flag set
      +225.693us thread 1 map read: entered
      +406.465us thread 1 map read: detected

This module reads that block back (parse_timeline), lays it out as one lane
per thread (layout_timeline) and draws the layout twice: as a plain-text lane
chart for a terminal (format_terminal_timeline, for runner.py -v and
--explain) and as an inline SVG (svg_timeline) inside a self-contained HTML
page (render_page, for runner.py --html). The page has no scripts and loads
nothing: its CSS is inline and the write-ups sit in <details> elements.

Time is not drawn to a linear scale. A recorder block typically holds dozens
of set-up writes a few nanoseconds apart, then a gap of hundreds of
microseconds before the racing threads arrive; drawn linearly, the interesting
part would be a single column. Every gap between consecutive distinct times
is drawn with a width that grows with the logarithm of its length (see
GAP_QUANTUM_US), so order and rough proportion survive, and the labels under
the chart give the real times.

Standard library only; Python 3.9 or newer.
"""

from __future__ import annotations

import html
import math
import os
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

# --------------------------------------------------------------------------
# Reading the flight recorder
# --------------------------------------------------------------------------

TIMELINE_HEADER = "map timeline, oldest first"
# One recorder line. The core prints times relative to the oldest event; the
# minus sign is accepted because cycle counters of different cores can
# disagree by a few ticks.
EVENT_RE = re.compile(
    r'^\s+\+(-?\d+\.\d+)us thread (\d+)(?: "([^"]*)")? (map \w+): '
    r"(entered|write flag set|write flag cleared|detected)$"
)

ENTERED = "entered"
SET = "write flag set"
CLEARED = "write flag cleared"
DETECTED = "detected"


@dataclass
class Event:
    us: float
    tid: int
    name: str
    op: str
    phase: str


def has_timeline(stderr: str) -> bool:
    """Whether a run's stderr holds a recorder block."""
    return TIMELINE_HEADER in stderr


def parse_timeline(stderr: str) -> List[Event]:
    """The events of the last recorder block in a run's stderr, oldest first.

    Returns an empty list when there is no block. Lines of the block that do
    not parse (a truncated capture, a future phase name) are skipped; the
    block ends at the first blank line after it started.
    """
    lines = stderr.split("\n")
    start = None
    for i, line in enumerate(lines):
        if line.startswith(TIMELINE_HEADER):
            start = i
    if start is None:
        return []
    events: List[Event] = []
    for line in lines[start + 1:]:
        if not line.strip():
            if events:
                break
            continue
        m = EVENT_RE.match(line.rstrip("\r"))
        if m:
            events.append(Event(float(m.group(1)), int(m.group(2)), m.group(3) or "", m.group(4), m.group(5)))
    return events


# --------------------------------------------------------------------------
# Layout: lanes on a compressed time axis
# --------------------------------------------------------------------------

# A gap of g microseconds between consecutive events is drawn log(1 + g/Q)
# wide, with Q this many microseconds: gaps much shorter than Q are nearly
# linear, much longer ones are compressed.
GAP_QUANTUM_US = 0.5
# Distinct times are never drawn closer than this (in the same units), so
# that consecutive events on one lane stay apart.
MIN_STEP = 0.15
# At most this many of the newest events are drawn; older ones are dropped
# unless a write window still open at the detection began among them.
SHOWN_EVENTS = 40


@dataclass
class Window:
    """A write window: from 'write flag set' to 'write flag cleared' (or the end)."""

    start: float  # position in [0, 1]
    end: float
    op: str
    t_start: float
    t_end: Optional[float]  # None: never cleared within the record


@dataclass
class Mark:
    x: float
    us: float
    op: str


@dataclass
class Lane:
    tid: int
    name: str
    ops: List[str] = field(default_factory=list)
    entered: List[Mark] = field(default_factory=list)
    windows: List[Window] = field(default_factory=list)
    detected: List[Mark] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f'thread {self.tid} "{self.name}"' if self.name else f"thread {self.tid}"


@dataclass
class Layout:
    lanes: List[Lane]
    events: List[Event]  # the events drawn
    omitted: int  # older events not drawn
    t_first: float
    t_last: float
    positions: Dict[float, float]  # time -> position in [0, 1]

    def x(self, us: float) -> float:
        return self.positions[us]


def _visible_start(events: Sequence[Event]) -> int:
    """Index of the first event to draw: the newest SHOWN_EVENTS, widened
    to include the start of every write window open at the first detection."""
    start = max(0, len(events) - SHOWN_EVENTS)
    first_detect = next((i for i, e in enumerate(events) if e.phase == DETECTED), None)
    if first_detect is None:
        return start
    # Per thread: where its current operation began (its 'entered', or the
    # 'write flag set' when the entry is not on record), while its window is open.
    began: Dict[int, int] = {}
    open_at: Dict[int, int] = {}
    for i, e in enumerate(events[:first_detect]):
        if e.phase == ENTERED:
            began[e.tid] = i
        elif e.phase == SET:
            open_at[e.tid] = began.get(e.tid, i)
        elif e.phase == CLEARED:
            open_at.pop(e.tid, None)
    return min([start] + list(open_at.values()))


def compressed_positions(times: Iterable[float]) -> Dict[float, float]:
    """Map each distinct time to a position in [0, 1], keeping order; gaps
    are drawn log-compressed (see GAP_QUANTUM_US)."""
    distinct = sorted(set(times))
    if not distinct:
        return {}
    if len(distinct) == 1:
        return {distinct[0]: 0.0}
    acc = [0.0]
    for a, b in zip(distinct, distinct[1:]):
        acc.append(acc[-1] + max(MIN_STEP, math.log1p((b - a) / GAP_QUANTUM_US)))
    total = acc[-1]
    return {t: p / total for t, p in zip(distinct, acc)}


def layout_timeline(events: Sequence[Event]) -> Optional[Layout]:
    """One lane per thread, in order of first appearance; None without events."""
    if not events:
        return None
    first = _visible_start(events)
    shown = list(events[first:])
    positions = compressed_positions(e.us for e in shown)
    lanes: Dict[int, Lane] = {}
    open_windows: Dict[int, Tuple[float, str]] = {}
    # A window opened before the first drawn event is not known; one still
    # open when the record ends runs to the right edge.
    for e in shown:
        lane = lanes.get(e.tid)
        if lane is None:
            lane = lanes[e.tid] = Lane(e.tid, e.name)
        if e.name and not lane.name:
            lane.name = e.name
        if e.op not in lane.ops:
            lane.ops.append(e.op)
        x = positions[e.us]
        if e.phase == ENTERED:
            lane.entered.append(Mark(x, e.us, e.op))
        elif e.phase == SET:
            open_windows[e.tid] = (e.us, e.op)
        elif e.phase == CLEARED:
            began = open_windows.pop(e.tid, None)
            if began is not None:
                lane.windows.append(Window(positions[began[0]], x, began[1], began[0], e.us))
        elif e.phase == DETECTED:
            lane.detected.append(Mark(x, e.us, e.op))
    for tid, (t0, op) in open_windows.items():
        lanes[tid].windows.append(Window(positions[t0], 1.0, op, t0, None))
    for lane in lanes.values():
        lane.windows.sort(key=lambda w: w.start)
    return Layout(list(lanes.values()), shown, first, shown[0].us, shown[-1].us, positions)


def format_us(us: float) -> str:
    """A relative time for labels: +12.3us, or +2.41ms from a millisecond on."""
    if abs(us) >= 1000.0:
        return f"+{us / 1000.0:.2f}ms"
    return f"+{us:.3f}us" if abs(us) < 10.0 else f"+{us:.1f}us"


# --------------------------------------------------------------------------
# The terminal lane chart
# --------------------------------------------------------------------------

TERMINAL_WIDTH = 60
_ANSI = {"=": "\x1b[33m", ">": "\x1b[36m", "X": "\x1b[1;31m"}


def format_terminal_timeline(stderr_or_events, width: int = TERMINAL_WIDTH, color: bool = False) -> str:
    """The recorder block as a lane chart, one row per thread; '' without a block.

    Columns are the compressed time axis; in each row '=' is a write window
    (flag set to cleared, or to the end of the record when never cleared), '>'
    a thread entering a map operation, 'X' the detection. Plain ASCII unless
    `color` (ANSI colours for a terminal).
    """
    events = parse_timeline(stderr_or_events) if isinstance(stderr_or_events, str) else list(stderr_or_events)
    lay = layout_timeline(events)
    if lay is None:
        return ""
    width = max(10, width)

    def col(x: float) -> int:
        return min(width - 1, max(0, int(round(x * (width - 1)))))

    label_w = max(len(lane.label) for lane in lay.lanes)
    out = [f"map timeline, {len(lay.events)} events, one row per thread (gaps compressed; times are real):"]
    if lay.omitted:
        out.append(f"  ({lay.omitted} older events not drawn)")
    for lane in lay.lanes:
        row = ["."] * width
        for w in lane.windows:
            for c in range(col(w.start), col(w.end) + 1):
                row[c] = "="
        for m in lane.entered:
            row[col(m.x)] = ">"
        for m in lane.detected:
            row[col(m.x)] = "X"
        cells = "".join(_ANSI[ch] + ch + "\x1b[0m" if color and ch in _ANSI else ch for ch in row)
        out.append(f"  {lane.label:<{label_w}} |{cells}| {', '.join(lane.ops)}")
    left, right = format_us(lay.t_first), format_us(lay.t_last)
    pad = max(1, width + 2 - len(left) - len(right))
    out.append(f"  {'':<{label_w}} {left}{' ' * pad}{right}")
    detections = [e for e in lay.events if e.phase == DETECTED]
    if detections:
        d = detections[0]
        holders = [lane for lane in lay.lanes
                   if any(w.t_start <= d.us and (w.t_end is None or w.t_end >= d.us) for w in lane.windows)]
        who = ", ".join(f"{h.label} ({'/'.join(w.op for w in h.windows[-1:])})" for h in holders) or "nobody recorded"
        out.append(f"  detected at {format_us(d.us)} by {_label(d)} in {d.op}; write flag held by {who}")
    out.append("  legend: > entered a map operation   = write flag held (set .. cleared)   X detected")
    return "\n".join(out) + "\n"


def _label(e: Event) -> str:
    return f'thread {e.tid} "{e.name}"' if e.name else f"thread {e.tid}"


def explain_timeline(binary: Path, env: Mapping[str, str], out, timeout: float = 10.0,
                     color: bool = False) -> None:
    """For runner.py --explain: run the bad variant once, forced, and draw its timeline.

    Says so instead when the executable is missing (not built) or the run
    printed no recorder block.
    """
    out.write("\n== timeline of one forced run ==\n")
    if not os.access(binary, os.X_OK):
        out.write(f"not built yet ({binary}); build, then run --explain again to see one run's timeline\n")
        return
    argv = [str(binary), "--variant", "bad", "--mode", "forced", "--seed", "1"]
    env = dict(env)
    env["GOMAP_TIMELINE"] = "1"
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              env=env, timeout=timeout, start_new_session=True)
    except subprocess.TimeoutExpired:
        out.write(f"the run did not finish within {timeout:g}s\n")
        return
    except OSError as e:
        out.write(f"cannot run {binary}: {e.strerror or e}\n")
        return
    stderr = proc.stderr[:256 * 1024].decode("utf-8", "replace")
    shown = os.path.relpath(binary)
    shown = [str(binary) if shown.startswith("..") else shown] + argv[1:]
    out.write(f"$ GOMAP_TIMELINE=1 {' '.join(shown)}   (exit {proc.returncode})\n")
    first = stderr.split("\n", 1)[0]
    if first:
        out.write(first + "\n")
    chart = format_terminal_timeline(stderr, color=color)
    out.write(chart if chart else "the run printed no map timeline\n")


# --------------------------------------------------------------------------
# The SVG timeline
# --------------------------------------------------------------------------

SVG_WIDTH = 900
SVG_LABEL_W = 190
SVG_LANE_H = 34
SVG_TOP = 14
SVG_AXIS_H = 52
OP_COLOURS = {
    "map read": "#2b6cb0", "map write": "#c05621", "map delete": "#9c4221", "map clear": "#744210",
    "map clone": "#2c7a7b", "map iteration": "#6b46c1",
}
WINDOW_COLOUR = "#f6ad55"
# The drawing's own background, used nowhere else on the page: the browser
# test finds each timeline in a screenshot by it.
SVG_BACKGROUND = "#eef3f9"
DETECT_COLOUR = "#c53030"


def _e(s: object) -> str:
    return html.escape(str(s), quote=True)


def svg_timeline(events: Sequence[Event], width: int = SVG_WIDTH) -> str:
    """The recorder block as an inline SVG (no external references); '' without events."""
    lay = layout_timeline(events)
    if lay is None:
        return ""
    x0, x1 = SVG_LABEL_W + 10, width - 24
    height = SVG_TOP + SVG_LANE_H * len(lay.lanes) + SVG_AXIS_H

    def px(x: float) -> float:
        return round(x0 + x * (x1 - x0), 1)

    parts = [f'<svg class="timeline" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="map timeline, one lane per thread">',
             f'<rect class="background" x="0" y="0" width="{width}" height="{height}" fill="{SVG_BACKGROUND}"/>']
    det_xs = sorted({px(m.x) for lane in lay.lanes for m in lane.detected})
    for k, lane in enumerate(lay.lanes):
        y = SVG_TOP + k * SVG_LANE_H + SVG_LANE_H / 2
        parts.append(f'<g class="lane" data-thread="{lane.tid}">')
        if k % 2 == 0:
            parts.append(f'<rect x="0" y="{y - SVG_LANE_H / 2}" width="{x1 + 8}" height="{SVG_LANE_H}" fill="#f4f5f7"/>')
        parts.append(f'<text x="8" y="{y + 4}" font-size="12" fill="#1a202c">{_e(lane.label)}</text>')
        parts.append(f'<line x1="{x0}" y1="{y}" x2="{x1}" y2="{y}" stroke="#cbd5e0" stroke-width="1"/>')
        for w in lane.windows:
            a, b = px(w.start), px(w.end)
            until = format_us(w.t_end) if w.t_end is not None else "the end of the record (never cleared)"
            parts.append(f'<rect class="window" x="{a}" y="{y - 7}" width="{max(2.0, round(b - a, 1))}" height="14" '
                         f'rx="3" fill="{WINDOW_COLOUR}" stroke="#dd6b20"><title>{_e(w.op)}: write flag held from '
                         f'{_e(format_us(w.t_start))} to {_e(until)}</title></rect>')
        for m in lane.entered:
            parts.append(f'<circle class="entered" cx="{px(m.x)}" cy="{y}" r="4" fill="{OP_COLOURS.get(m.op, "#4a5568")}" '
                         f'stroke="#fff" stroke-width="1"><title>{_e(m.op)} entered at {_e(format_us(m.us))}</title></circle>')
        for m in lane.detected:
            cx = px(m.x)
            parts.append(f'<g class="detected"><path d="M{cx - 6} {y - 6} L{cx + 6} {y + 6} M{cx - 6} {y + 6} '
                         f'L{cx + 6} {y - 6}" stroke="{DETECT_COLOUR}" stroke-width="3"/>'
                         f'<text x="{cx - 6}" y="{y - 9}" font-size="10" fill="{DETECT_COLOUR}" text-anchor="end">detected</text>'
                         f'<title>{_e(m.op)}: misuse detected at {_e(format_us(m.us))}</title></g>')
        parts.append("</g>")
    lanes_bottom = SVG_TOP + SVG_LANE_H * len(lay.lanes)
    for dx in det_xs:
        parts.append(f'<line x1="{dx}" y1="{SVG_TOP - 4}" x2="{dx}" y2="{lanes_bottom}" stroke="{DETECT_COLOUR}" '
                     f'stroke-dasharray="3 3" stroke-width="1"/>')
    # Axis: tick labels at events, the important ones first, kept apart.
    axis_y = lanes_bottom + 6
    parts.append(f'<line x1="{x0}" y1="{axis_y}" x2="{x1}" y2="{axis_y}" stroke="#4a5568"/>')
    rank = {DETECTED: 0, SET: 1, CLEARED: 2, ENTERED: 3}
    candidates = sorted(lay.events, key=lambda e: (rank.get(e.phase, 4), -e.us))
    candidates = [lay.events[0], lay.events[-1]] + candidates
    placed: List[float] = []
    for e in candidates:
        cx = px(lay.x(e.us))
        if any(abs(cx - p) < 74 for p in placed):
            continue
        placed.append(cx)
        anchor = "start" if cx < x0 + 30 else "end" if cx > x1 - 30 else "middle"
        parts.append(f'<line x1="{cx}" y1="{axis_y}" x2="{cx}" y2="{axis_y + 5}" stroke="#4a5568"/>')
        parts.append(f'<text x="{cx}" y="{axis_y + 17}" font-size="10" fill="#4a5568" text-anchor="{anchor}">'
                     f'{_e(format_us(e.us))}</text>')
    note = "gaps compressed (log scale); labels are real times"
    if lay.omitted:
        note += f"; {lay.omitted} older events not drawn"
    parts.append(f'<text x="{x0}" y="{axis_y + 36}" font-size="10" fill="#718096">{_e(note)}</text>')
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------


@dataclass
class UnitResult:
    """One row of the results table."""

    case: str
    variant: str
    mode: str
    expected: str
    runs: int
    matched: int
    not_reproduced: int
    wrong: int
    timeout: int
    median_ms: Optional[float]
    verdict: str
    # Observed first stderr lines and how many runs printed each ("" = none).
    first_lines: Dict[str, int] = field(default_factory=dict)


@dataclass
class CaseCard:
    """What a case's card shows."""

    id: str
    group: str
    section: str
    title: str
    go_article: str
    go_signature: str
    expected_first_line: str
    writeup: Optional[str] = None
    sample_stderr: Optional[str] = None  # one bad run's stderr, for its timeline
    sample_label: str = ""


def _pct(num: int, den: int) -> str:
    return f"{num}/{den} ({100.0 * num / den:.0f}%)" if den else "-"


def _go_rate(go_article: str) -> str:
    m = re.fullmatch(r"(\d+)/(\d+)", go_article.strip())
    return _pct(int(m.group(1)), int(m.group(2))) if m else go_article


_VERDICT_CLASS = {"pass": "pass", "FAIL": "fail", "incomplete": "incomplete", "not run": "incomplete"}


def results_table(units: Sequence[UnitResult]) -> str:
    head = ("case", "variant", "mode", "expected", "runs", "matched", "not-repro", "wrong", "timeout",
            "median ms", "verdict")
    rows = ['<div class="scroll"><table class="results"><thead><tr>'
            + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"]
    for u in units:
        cls = _VERDICT_CLASS.get(u.verdict, "incomplete")
        median = f"{u.median_ms:.1f}" if u.median_ms is not None else "-"
        nums = (u.runs, u.matched, u.not_reproduced, u.wrong, u.timeout)
        rows.append(
            f'<tr class="{cls}"><td class="case"><a href="#case-{_e(u.case)}">{_e(u.case)}</a></td>'
            f"<td>{_e(u.variant)}</td>"
            f"<td>{_e(u.mode)}</td><td class=\"sig\">{_e(u.expected)}</td>"
            + "".join(f'<td class="num">{n}</td>' for n in nums)
            + f'<td class="num">{median}</td><td class="verdict">{_e(u.verdict)}</td></tr>'
        )
    rows.append("</tbody></table></div>")
    return "\n".join(rows)


def detection_matrix(case_ids: Sequence[str], matrix: Optional[Mapping[str, Mapping[str, object]]] = None) -> str:
    """The detection matrix: per case, the built-in detector's rate beside ThreadSanitizer's.

    `matrix` maps a case id to {"builtin_rate": ..., "tsan_rate": ...}; a
    number in [0, 1] is shown as a percentage, anything else as given, and
    a missing value as "not measured".
    """
    def cell(row: Optional[Mapping[str, object]], key: str) -> str:
        value = row.get(key) if row else None
        if value is None or value == "":
            return '<td class="na">not measured</td>'
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1:
            return f'<td class="num">{100.0 * value:.0f}%</td>'
        return f"<td>{_e(value)}</td>"

    out = ['<section id="detection-matrix"><h2>Detection matrix</h2>']
    if not matrix:
        out.append('<p class="note">Not measured in this report: the built-in detector against '
                   "ThreadSanitizer is filled in when its measurements are supplied.</p>")
    out.append('<table class="matrix"><thead><tr><th>case</th><th>built-in detector</th>'
               "<th>ThreadSanitizer</th></tr></thead><tbody>")
    for cid in case_ids:
        row = (matrix or {}).get(cid)
        out.append(f'<tr><td><a href="#case-{_e(cid)}">{_e(cid)}</a></td>{cell(row, "builtin_rate")}'
                   f'{cell(row, "tsan_rate")}</tr>')
    out.append("</tbody></table></section>")
    return "\n".join(out)


def _inline_md(text: str) -> str:
    """Escape a line of markdown, then render `code` and **bold**."""
    parts = re.split(r"(`[^`]+`)", text)
    out = []
    for p in parts:
        if len(p) >= 2 and p.startswith("`") and p.endswith("`"):
            out.append(f"<code>{_e(p[1:-1])}</code>")
        else:
            out.append(re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", _e(p)))
    return "".join(out)


def markdown_to_html(text: str) -> str:
    """A small markdown subset: headings, fenced code, '-' lists, paragraphs.

    Everything is escaped; anything else (tables, links) is shown as text.
    """
    out: List[str] = []
    para: List[str] = []
    items: List[List[str]] = []
    lines = text.replace("\r\n", "\n").split("\n")

    def flush() -> None:
        if para:
            out.append("<p>" + " ".join(_inline_md(p) for p in para) + "</p>")
            para.clear()
        if items:
            out.append("<ul>" + "".join("<li>" + " ".join(_inline_md(s) for s in it) + "</li>" for it in items)
                       + "</ul>")
            items.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            flush()
            code = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                code.append(lines[i])
                i += 1
            out.append("<pre><code>" + _e("\n".join(code)) + "</code></pre>")
        elif not stripped:
            flush()
        elif m := re.match(r"^(#{1,6})\s+(.*)$", stripped):
            flush()
            level = min(6, len(m.group(1)) + 2)  # the card's own heading is h3
            out.append(f"<h{level}>{_inline_md(m.group(2))}</h{level}>")
        elif m := re.match(r"^[-*]\s+(.*)$", stripped):
            if para:
                flush()
            items.append([m.group(1)])
        elif items and line.startswith((" ", "\t")):
            items[-1].append(stripped)
        else:
            if items:
                flush()
            para.append(stripped)
        i += 1
    flush()
    return "\n".join(out)


def _observed(units: Sequence[UnitResult]) -> str:
    out = []
    for u in units:
        if not u.runs:
            continue
        if u.variant != "bad":
            out.append(f"<li><b>{_e(u.variant)} {_e(u.mode)}</b>: {u.matched}/{u.runs} clean"
                       + (f", {u.wrong} wrong, {u.timeout} timeout" if u.wrong or u.timeout else "") + "</li>")
            continue
        lines = sorted(u.first_lines.items(), key=lambda kv: -kv[1])
        shown = ", ".join(f'{n}&times; <code>{_e(line) if line else "(no report, exit 0)"}</code>'
                          for line, n in lines[:4])
        if len(lines) > 4:
            shown += f", {len(lines) - 4} other first lines"
        out.append(f"<li><b>bad {_e(u.mode)}</b>: {shown}</li>")
    return "<ul class=\"observed\">" + "".join(out) + "</ul>" if out else "<p>not run</p>"


def case_card(card: CaseCard, units: Sequence[UnitResult]) -> str:
    mine = [u for u in units if u.case == card.id]
    verdicts = {u.verdict for u in mine}
    state = "fail" if "FAIL" in verdicts else "pass" if verdicts == {"pass"} else "incomplete"
    section = f"section {card.section}" if card.section not in ("", "-") else card.group
    out = [f'<section class="card {state}" id="case-{_e(card.id)}">',
           f'<h3><span class="cid">{_e(card.id)}</span> <span class="sect">{_e(section)}</span></h3>',
           f'<p class="trigger">{_e(card.title)}</p>', "<dl>",
           f"<dt>expected</dt><dd><code>{_e(card.expected_first_line)}</code></dd>",
           f"<dt>observed</dt><dd>{_observed(mine)}</dd>"]
    if card.group != "control":
        nat = next((u for u in mine if u.variant == "bad" and u.mode == "natural" and u.runs), None)
        ours = _pct(nat.matched, nat.runs) if nat else "not run"
        go_sig = f', first line <code>{_e(card.go_signature)}</code>' if card.go_signature not in ("", "-") else ""
        if re.fullmatch(r"\d+/\d+", card.go_article.strip()):
            go = f"<b>{_e(_go_rate(card.go_article))}</b> for the article's example{go_sig}"
        else:
            go = f"<b>not measured</b> (the article has no example){go_sig}"
        out.append(f'<dt>natural mode</dt><dd class="rates"><span>here: <b>{ours}</b></span> '
                   f"<span>real Go: {go}</span></dd>")
    out.append("</dl>")
    events = parse_timeline(card.sample_stderr) if card.sample_stderr else []
    if events:
        out.append(f'<figure><figcaption>Map timeline of {_e(card.sample_label or "one bad run")}: one lane per '
                   "thread; bar = write flag held, dot = entered a map operation, "
                   f'<span class="x">&#x2715;</span> = detected</figcaption>{svg_timeline(events)}</figure>')
    elif card.group == "control":
        out.append('<p class="note">A control: no bad run, so no timeline; its runs must all be clean.</p>')
    elif card.expected_first_line.startswith("panic:"):
        out.append('<p class="note">No timeline: the panic comes from a nil map, which has no flight recorder.</p>')
    elif "bad" in {u.variant for u in mine}:
        out.append('<p class="note">No run of the bad variant left a map timeline to draw.</p>')
    else:
        out.append('<p class="note">The bad variant was not run: no timeline.</p>')
    if card.writeup:
        out.append(f'<details><summary>Write-up (docs/cases/{_e(card.id)}.md)</summary>'
                   f'<div class="writeup">{markdown_to_html(card.writeup)}</div></details>')
    else:
        out.append('<p class="note">No write-up yet.</p>')
    out.append("</section>")
    return "\n".join(out)


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:24px;color:#1a202c;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #e2e8f0}
.meta{color:#4a5568;margin:0 0 12px}
.totals{font-size:16px;margin:6px 0 14px}.totals .pass{color:#276749}.totals .fail{color:#c53030}
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #e2e8f0;padding:3px 7px;text-align:left}
th{background:#edf2f7}td.num{text-align:right;font-variant-numeric:tabular-nums}td.sig{font-family:monospace;font-size:12px}
td.case,td.sig{white-space:nowrap}.scroll{overflow-x:auto}
tr.pass td.verdict{background:#c6f6d5;color:#22543d;font-weight:bold}
tr.fail td.verdict{background:#fed7d7;color:#9b2c2c;font-weight:bold}tr.fail td{background:#fff5f5}
tr.incomplete td.verdict{background:#fefcbf;color:#744210}
td.na{color:#a0aec0;font-style:italic}
.card{border:1px solid #cbd5e0;border-left:6px solid #a0aec0;border-radius:6px;padding:10px 16px;margin:14px 0;max-width:960px}
.card.pass{border-left-color:#38a169}.card.fail{border-left-color:#e53e3e}.card.incomplete{border-left-color:#d69e2e}
.card h3{margin:0;font-size:16px}.card .sect{color:#718096;font-weight:normal;font-size:13px}
.trigger{margin:2px 0 8px;font-style:italic}
dl{display:grid;grid-template-columns:110px 1fr;gap:2px 10px;margin:0 0 8px}dt{color:#4a5568}dd{margin:0}
dd ul{margin:0;padding-left:18px}.rates span{margin-right:22px}
code{font-family:"DejaVu Sans Mono",monospace;font-size:12px;background:#f7fafc}
figure{margin:6px 0}figcaption{font-size:12px;color:#4a5568;margin-bottom:2px}.x{color:#c53030;font-weight:bold}
.note{color:#718096;font-size:13px}
details{margin-top:6px}summary{cursor:pointer;color:#2b6cb0}
.writeup{border-top:1px solid #e2e8f0;margin-top:6px}.writeup pre{background:#f7fafc;padding:6px 10px;overflow-x:auto}
nav a{margin-right:8px}
"""


def render_page(units: Sequence[UnitResult], cards: Sequence[CaseCard],
                meta: Optional[Mapping[str, object]] = None,
                matrix: Optional[Mapping[str, Mapping[str, object]]] = None,
                title: str = "Concurrent map misuse: run report") -> str:
    """The whole self-contained page."""
    meta = dict(meta or {})
    passed = sum(1 for u in units if u.verdict == "pass")
    failed = sum(1 for u in units if u.verdict == "FAIL")
    meta_line = " &middot; ".join(f"{_e(k)} {_e(v)}" for k, v in meta.items())
    nav = " ".join(f'<a href="#case-{_e(c.id)}">{_e(c.id)}</a>' for c in cards)
    body = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>", f'<p class="meta">{meta_line}</p>' if meta_line else "",
        f'<p class="totals"><span class="pass">{passed} passed</span>, <span class="fail">{failed} failed</span> '
        f"({len(units)} units, {len(cards)} cases)</p>",
        '<h2 id="results">Results</h2>', results_table(units),
        '<h2 id="cases">Cases</h2>', f"<nav>{nav}</nav>",
    ]
    body += [case_card(c, units) for c in cards]
    body.append(detection_matrix([c.id for c in cards], matrix))
    body.append("</body></html>\n")
    return "\n".join(b for b in body if b)


# --------------------------------------------------------------------------
# From the runner's units
# --------------------------------------------------------------------------


def _expected_first_line(path: Path) -> Optional[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    m = re.search(r"^first-line:\s*(.*?)\s*$", text, re.M)
    if m:
        return m.group(1)
    m = re.search(r"^stdout:\s*(.*?)\s*$", text, re.M)
    return f"exit 0, {m.group(1)}" if m else ("exit 0" if re.search(r"^exit:\s*0\s*$", text, re.M) else None)


def from_units(units: Sequence[object], root: Path, expected_dir: Path) -> Tuple[List[UnitResult], List[CaseCard]]:
    """Table rows and cards from runner.py's Unit objects (read by attribute:
    case, variant, mode, expect, counts, times, records, verdict(), sample)."""
    import statistics

    results: List[UnitResult] = []
    cards: Dict[str, CaseCard] = {}
    samples: Dict[str, Tuple[int, str, str]] = {}  # case -> (preference, stderr, label)
    for u in units:
        c = u.case
        first_lines = Counter(r.first_line for r in u.records)
        results.append(UnitResult(
            c.id, u.variant, u.mode, u.expect.summary(), u.done, u.counts["matched"], u.counts["not-reproduced"],
            u.counts["wrong-signature"], u.counts["timeout"],
            statistics.median(u.times) if u.times else None, u.verdict(), dict(first_lines)))
        if c.id not in cards:
            if "bad" in c.variants:
                exp = _expected_first_line(expected_dir / f"{c.id}.bad.expect") or "(no expected file)"
            else:
                exp = _expected_first_line(expected_dir / f"{c.id}.{c.variants[0]}.expect") or "(no expected file)"
            writeup = None
            try:
                writeup = (root / "docs" / "cases" / f"{c.id}.md").read_text(encoding="utf-8", errors="replace")
            except OSError:
                pass
            cards[c.id] = CaseCard(c.id, c.group, c.section, c.title, c.go_article, c.go_signature, exp, writeup)
        sample = getattr(u, "sample", None)
        if sample is not None:
            rec, stderr = sample
            # A matched forced run draws the cleanest picture; then a matched natural one.
            pref = (0 if rec.outcome == "matched" else 2) + (0 if u.mode == "forced" else 1)
            if c.id not in samples or pref < samples[c.id][0]:
                label = f"{u.variant} {u.mode} run {rec.index} (seed {rec.seed}, {rec.outcome})"
                samples[c.id] = (pref, stderr, label)
    for cid, (_, stderr, label) in samples.items():
        cards[cid].sample_stderr = stderr
        cards[cid].sample_label = label
    return results, list(cards.values())


def render_units(units: Sequence[object], root: Path, expected_dir: Path,
                 meta: Optional[Mapping[str, object]] = None,
                 matrix: Optional[Mapping[str, Mapping[str, object]]] = None) -> str:
    """runner.py's units as the HTML report's text."""
    results, cards = from_units(units, root, expected_dir)
    return render_page(results, cards, meta, matrix)
