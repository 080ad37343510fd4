"""The map timeline drawn twice: a text lane chart and an inline SVG.

The flight-recorder block a run printed (read by
gomaprun.judges.recorder.parse_timeline) is laid out as one lane per thread
(layout_timeline) and drawn as a plain-text lane chart for a terminal
(format_terminal_timeline, for runner.py -v and --explain) and as an inline
SVG (svg_timeline) for the HTML page.

Time is not drawn to a linear scale. A recorder block typically holds dozens
of set-up writes a few nanoseconds apart, then a gap of hundreds of
microseconds before the racing threads arrive; drawn linearly, the interesting
part would be a single column. Every gap between consecutive distinct times
is drawn with a width that grows with the logarithm of its length (see
GAP_QUANTUM_US), so order and rough proportion survive, and the labels under
the chart give the real times.

A record can also end because an overlap ended: explore mode's replay of a
blind-spot schedule prints the map's events once the first unprotected
overlap is over and nothing reported it (harness/explore.c,
overlap_ended). The recorder notes when operations enter, never when they
return, so in such a record a thread whose last event is an entry was still
inside that operation when another thread's operation entered beside it,
and left it at some point before the record was printed. Those operations
(the read the detector missed) are drawn as spans: certain from their entry
to the entry of the operation they overlapped, possible from there to the
end of the record.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ..judges.recorder import CLEARED, DETECTED, ENTERED, SET, Event, parse_timeline

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
# The line explore mode prints above a record that ends when an overlap
# ended without a report (harness/explore.c, overlap_ended).
OVERLAP_ENDED = "explore: an unprotected overlap on the map ended without a report"
# The operations that take the write flag.
WRITE_OPS = ("map write", "map delete", "map clear")


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
class Span:
    """An operation still inside the map when another thread's operation
    entered, in a record that ends when the overlap ended: inside for sure
    from `start` to `sure` (the other entry), maybe until the record's end."""

    start: float  # positions in [0, 1]
    sure: float
    op: str
    t_start: float
    t_sure: float
    beside: str  # the overlapping entry, as 'thread 2 "writer" entered its map write'


@dataclass
class Lane:
    tid: int
    name: str
    ops: List[str] = field(default_factory=list)
    entered: List[Mark] = field(default_factory=list)
    windows: List[Window] = field(default_factory=list)
    detected: List[Mark] = field(default_factory=list)
    unreturned: List[Span] = field(default_factory=list)  # only when the record ends with an overlap

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


def ends_at_overlap(stderr: str) -> bool:
    """Whether a run's record ends because an overlap ended without a report (explore's blind spot)."""
    return OVERLAP_ENDED in stderr


def _unreturned(shown: Sequence[Event]) -> List[Tuple[Event, Event]]:
    """In a record that ends with an overlap: each operation still inside
    the map (its thread's last event is its entry) with the entry beside it
    that made the overlap (see the module's comment)."""
    last = {e.tid: i for i, e in enumerate(shown)}
    found = []
    for tid, i in last.items():
        e = shown[i]
        if e.phase != ENTERED:
            continue
        # Explore counts an overlap when a write enters beside any operation,
        # or any operation beside a write (harness/explore.c, enter_op).
        writes = e.op in WRITE_OPS
        other = next((o for o in shown[i + 1:] if o.tid != tid and o.phase == ENTERED
                      and (writes or o.op in WRITE_OPS)), None)
        if other is not None:  # else nothing entered beside it on record: no overlap to draw
            found.append((e, other))
    return found


# In a record that ends with an overlap, the time from the missed
# operation's entry to the end gets at least MISSED_SHARE of the axis, and
# the overlap itself (from the entry beside it) at least OVERLAP_SHARE: the
# set-up and the wait before them would otherwise squeeze the overlap into
# a few pixels.
MISSED_SHARE = 0.55
OVERLAP_SHARE = 0.3


def _widen_end(positions: Dict[float, float], start: float, share: float) -> Dict[float, float]:
    """Positions stretched so that [start, 1] covers at least `share` of the axis, order kept."""
    if start <= 1.0 - share or start >= 1.0:
        return positions
    left, right = (1.0 - share) / start, share / (1.0 - start)
    return {t: p * left if p <= start else (1.0 - share) + (p - start) * right for t, p in positions.items()}


def layout_timeline(events: Sequence[Event], overlap_ended: bool = False) -> Optional[Layout]:
    """One lane per thread, in order of first appearance; None without events.

    `overlap_ended`: the record ends because an overlap ended (ends_at_overlap);
    the operations still inside the map then get their spans, and room on
    the axis (MISSED_SHARE, OVERLAP_SHARE)."""
    if not events:
        return None
    first = _visible_start(events)
    shown = list(events[first:])
    positions = compressed_positions(e.us for e in shown)
    missed = _unreturned(shown) if overlap_ended else []
    if missed:
        positions = _widen_end(positions, min(positions[e.us] for e, _ in missed), MISSED_SHARE)
        positions = _widen_end(positions, min(positions[o.us] for _, o in missed), OVERLAP_SHARE)
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
    for e, other in missed:
        lanes[e.tid].unreturned.append(Span(positions[e.us], positions[other.us], e.op, e.us, other.us,
                                            f"{_label(other)} entered its {other.op}"))
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
    a thread entering a map operation, 'X' the detection; in a record that
    ends with an overlap (explore's blind spot), '~' an operation the
    detector missed, inside the map for sure, and '-' where it may still have
    been. Plain ASCII unless `color` (ANSI colours for a terminal).
    """
    if isinstance(stderr_or_events, str):
        events, overlap_ended = parse_timeline(stderr_or_events), ends_at_overlap(stderr_or_events)
    else:
        events, overlap_ended = list(stderr_or_events), False
    lay = layout_timeline(events, overlap_ended)
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
        for sp in lane.unreturned:
            for c in range(col(sp.start), width):
                row[c] = "~" if c <= col(sp.sure) else "-"
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
    for lane in lay.lanes:
        for sp in lane.unreturned:
            out.append(f"  not detected: {lane.label} entered its {sp.op} at {format_us(sp.t_start)} and was still "
                       f"inside when {sp.beside} at {format_us(sp.t_sure)}")
    out.append("  legend: > entered a map operation   = write flag held (set .. cleared)   X detected")
    if any(lane.unreturned for lane in lay.lanes):
        out.append("          ~ inside an operation   - maybe still inside (its return is not recorded)")
    return "\n".join(out) + "\n"


def _label(e: Event) -> str:
    return f'thread {e.tid} "{e.name}"' if e.name else f"thread {e.tid}"


def format_captured_run(command: str, finished, timeout: float, color: bool = False) -> str:
    """--explain's last section: one captured run (gomaprun.runloop.capture_one) and its timeline.

    `command` is the run's replay command; `finished` what the run did.
    """
    out = ["\n== timeline of one forced run ==\n"]
    if finished.timed_out:
        out.append(f"the run did not finish within {timeout:g}s\n")
        return "".join(out)
    stderr = finished.stderr.decode("utf-8", "replace")
    status = finished.status if finished.signum is None else -finished.signum
    out.append(f"$ {command}   (exit {status})\n")
    first = stderr.split("\n", 1)[0]
    if first:
        out.append(first + "\n")
    chart = format_terminal_timeline(stderr, color=color)
    out.append(chart if chart else "the run printed no map timeline\n")
    return "".join(out)


def format_not_built(binary) -> str:
    """--explain's last section when the case's executable is missing."""
    return (f"\n== timeline of one forced run ==\nnot built yet ({binary}); build, then run --explain again "
            f"to see one run's timeline\n")


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
# The operation the detector missed and the time it overlapped a write;
# used nowhere else, so that the browser test can find them.
MISSED_COLOUR = "#4fa3e0"
MISSED_COLOUR_TEXT = "#2c5282"
OVERLAP_COLOUR = "#fdf0c2"


def _e(s: object) -> str:
    return html.escape(str(s), quote=True)


def svg_timeline(events: Sequence[Event], width: int = SVG_WIDTH, overlap_ended: bool = False) -> str:
    """The recorder block as an inline SVG (no external references); '' without events.

    `overlap_ended`: the record ends because an overlap ended without a
    report (ends_at_overlap); the operation the detector missed is drawn
    as a span, and the time of the overlap is shaded across the lanes."""
    lay = layout_timeline(events, overlap_ended)
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
    lanes_bottom = SVG_TOP + SVG_LANE_H * len(lay.lanes)
    for k in range(0, len(lay.lanes), 2):
        parts.append(f'<rect x="0" y="{SVG_TOP + k * SVG_LANE_H}" width="{x1 + 8}" height="{SVG_LANE_H}" fill="#f4f5f7"/>')
    spans = [sp for lane in lay.lanes for sp in lane.unreturned]
    if spans:
        # From the first entry beside a missed operation to the end of the
        # record: the time in which the two overlapped.
        a = px(min(sp.sure for sp in spans))
        parts.append(f'<rect class="overlap" x="{a}" y="{SVG_TOP - 2}" width="{max(2.0, round(x1 - a, 1))}" '
                     f'height="{lanes_bottom - SVG_TOP + 4}" fill="{OVERLAP_COLOUR}"><title>the overlap: no thread '
                     'checked the write flag while another held it, so nothing was reported</title></rect>')
        parts.append(f'<text x="{x1}" y="{SVG_TOP - 4}" font-size="10" fill="{MISSED_COLOUR_TEXT}" '
                     'text-anchor="end">overlap, not detected</text>')
    for k, lane in enumerate(lay.lanes):
        y = SVG_TOP + k * SVG_LANE_H + SVG_LANE_H / 2
        parts.append(f'<g class="lane" data-thread="{lane.tid}">')
        parts.append(f'<text x="8" y="{y + 4}" font-size="12" fill="#1a202c">{_e(lane.label)}</text>')
        parts.append(f'<line x1="{x0}" y1="{y}" x2="{x1}" y2="{y}" stroke="#cbd5e0" stroke-width="1"/>')
        for sp in lane.unreturned:
            a, b = px(sp.start), px(sp.sure)
            parts.append(f'<g class="missed"><rect x="{a}" y="{y - 5}" width="{max(2.0, round(b - a, 1))}" height="10" '
                         f'fill="{MISSED_COLOUR}"/><rect x="{b}" y="{y - 5}" width="{max(2.0, round(x1 - b, 1))}" '
                         f'height="10" fill="none" stroke="{MISSED_COLOUR}" stroke-width="1.5" stroke-dasharray="4 3"/>'
                         f'<title>{_e(sp.op)} entered at {_e(format_us(sp.t_start))}, not detected: still inside '
                         f'when {_e(sp.beside)} at '
                         f'{_e(format_us(sp.t_sure))}; its return is not recorded (dashed: maybe still inside)'
                         f'</title></g>')
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
    # About 5.5 pixels a character at this size: a narrow drawing starts the note at its left edge.
    note_x = x0 if x0 + 5.5 * len(note) <= width - 4 else 8
    parts.append(f'<text x="{note_x}" y="{axis_y + 36}" font-size="10" fill="#718096">{_e(note)}</text>')
    parts.append("</svg>")
    return "".join(parts)
