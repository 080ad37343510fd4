"""The HTML report: one self-contained page (runner.py --html).

The page has the results table, a card per case (expected and observed
first lines, natural-mode rate beside real Go's, one bad run's map timeline
as SVG, the write-up) and the detection matrix. It has no scripts and loads
nothing: its CSS is inline and the write-ups sit in <details> elements. It
draws what the run loop recorded; it never runs anything.
"""

from __future__ import annotations

import html
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Set, Tuple

from ..base import MATCHED, NOT_REPRODUCED, TIMEOUT, UNSEEN_CORRUPTION, WRONG, UsageError
from ..catalogue.expect import expect_path, load_expectation
from ..catalogue.sources import read_writeup
from ..judges.recorder import parse_timeline
from .explore import EXPLORE_HEADER, explore_cells, explore_line, is_explore
from .text import TABLE_HEADER
from .timeline import ends_at_overlap, svg_timeline

# An explored case's two orderings are drawn side by side in its card.
ORDERING_WIDTH = 450


def _e(s: object) -> str:
    return html.escape(str(s), quote=True)


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
    # Runs whose own check failed while the detector stayed quiet.
    unseen: int = 0
    # An explore unit: the row's numbers (reports/explore.py) and its
    # exploration in one sentence; None for the other modes.
    explore_cells: Optional[Tuple[str, ...]] = None
    explore_line: str = ""


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
    # The Go twin beside the C case (runner.py --against-go), per variant (per
    # variant and map generation when a run has several: "bad, swiss map"):
    # label -> {"c_rate", "go_rate", "c_first", "go_first", "agree", "note",
    # optional "generation", "go_version"}.
    go_twin: Optional[Dict[str, Mapping[str, object]]] = None
    # Explore mode: the replayed orderings of the trigger, side by side:
    # (label with the schedule string, stderr with its map timeline, agrees
    # with the exploration).
    explore_examples: List[Tuple[str, str, bool]] = field(default_factory=list)


def _pct(num: int, den: int) -> str:
    return f"{num}/{den} ({100.0 * num / den:.0f}%)" if den else "-"


def _go_rate(go_article: str) -> str:
    m = re.fullmatch(r"(\d+)/(\d+)", go_article.strip())
    return _pct(int(m.group(1)), int(m.group(2))) if m else go_article


# The Go twin's agreement marks (the browser test looks for these colours).
AGREE_BACKGROUND = "#b9f0d3"
DISAGREE_BACKGROUND = "#fbb6b6"

_VERDICT_CLASS = {"pass": "pass", "FAIL": "fail", "incomplete": "incomplete", "not run": "incomplete",
                  "skipped": "skipped"}


def explore_table(units: Sequence[UnitResult]) -> str:
    rows = ['<div class="scroll"><table class="results explore"><thead><tr>'
            + "".join(f"<th>{h}</th>" for h in EXPLORE_HEADER) + "</tr></thead><tbody>"]
    for u in units:
        cls = _VERDICT_CLASS.get(u.verdict, "incomplete")
        rows.append(
            f'<tr class="{cls}"><td class="case"><a href="#case-{_e(u.case)}">{_e(u.case)}</a></td>'
            f"<td>{_e(u.variant)}</td><td>{_e(u.mode)}</td><td class=\"sig\">{_e(u.expected)}</td>"
            + "".join(f'<td class="num">{_e(n)}</td>' for n in (u.explore_cells or ("-",) * 8))
            + f'<td class="verdict">{_e(u.verdict)}</td></tr>')
    rows.append("</tbody></table></div>")
    return "\n".join(rows)


def results_table(units: Sequence[UnitResult]) -> str:
    if units and all(u.explore_cells is not None for u in units):
        return explore_table(units)
    head = TABLE_HEADER
    rows = ['<div class="scroll"><table class="results"><thead><tr>'
            + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"]
    for u in units:
        cls = _VERDICT_CLASS.get(u.verdict, "incomplete")
        median = f"{u.median_ms:.1f}" if u.median_ms is not None else "-"
        nums = (u.runs, u.matched, u.not_reproduced, u.wrong, u.timeout, u.unseen)
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
        # A table of 'not measured' cells says nothing: say how to fill it instead.
        out.append('<p class="note">Not measured in this run. <code>python3 runner.py --matrix --html FILE</code> '
                   "runs every case with a bad variant naturally, under the built-in detector and under "
                   "ThreadSanitizer, and writes a page with this table filled in; the last measurement is in "
                   "<code>docs/detection-matrix.md</code>.</p></section>")
        return "\n".join(out)
    out.append('<table class="matrix"><thead><tr><th>case</th><th>built-in detector</th>'
               "<th>ThreadSanitizer</th></tr></thead><tbody>")
    for cid in case_ids:
        row = (matrix or {}).get(cid)
        out.append(f'<tr><td><a href="#case-{_e(cid)}">{_e(cid)}</a></td>{cell(row, "builtin_rate")}'
                   f'{cell(row, "tsan_rate")}</tr>')
    out.append("</tbody></table></section>")
    return "\n".join(out)


# --------------------------------------------------------------------------
# The write-ups: a small Markdown renderer
# --------------------------------------------------------------------------
#
# The write-ups (docs/cases/*.md) use a small part of Markdown, and this
# renders that part the way CommonMark does, within these limits:
#
# - Blocks: ATX headings, fenced code (``` or ~~~, tabs kept as they are),
#   paragraphs, '-', '*', '+' and '1.' lists whose items continue on
#   indented or lazy lines, and pipe tables with a '|---|' line.
# - Inline: code spans (of any number of backticks, across line breaks),
#   emphasis and strong emphasis with '*' and '_', links, and backslash
#   escapes. An '_' or '*' inside a word is kept as text, so identifiers
#   such as GOMAP_EV_WRITE_SET and products such as w*1000 stay whole.
# - The page loads nothing: a link to another case's write-up ('x.md')
#   becomes a link to that case's card when the card is on the page, and
#   any other link is shown as its text alone.
# - Everything else is shown as text, escaped; raw HTML is never passed on.

# Inline markup is replaced by numbered slots (\x00N\x00) as it is rendered,
# so that what is already HTML is neither escaped again nor read as markup.
_SLOT_RE = re.compile("\x00(\\d+)\x00")
_CODE_RE = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
_ESCAPE_RE = re.compile(r"\\([!-/:-@\[-`{-~])")
_LINK_RE = re.compile(r"\[([^\]\n]*(?:\n[^\]\n]*)*)\]\(\s*<?([^()\s<>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
# Emphasis: the opening mark is not at the end of a word and is followed by
# text, the closing mark ends a word (CommonMark's flanking rules, without
# intraword emphasis).
_STRONG_RE = re.compile(r"(?<![\w*])\*\*(?=[^\s*])(.+?)(?<=[^\s*])\*\*(?![\w*])|"
                        r"(?<![\w_])__(?=[^\s_])(.+?)(?<=[^\s_])__(?![\w_])", re.S)
_EM_RE = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])|"
                    r"(?<![\w_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])", re.S)
_CASE_LINK_RE = re.compile(r"(?:\./)?([\w.-]+)\.md(?:#[\w.-]*)?")


def _code_span(body: str) -> str:
    """A code span's text: line breaks become spaces, and one space on each side is dropped when both are there."""
    body = body.replace("\n", " ")
    if len(body) >= 2 and body[0] == body[-1] == " " and body.strip(" "):
        body = body[1:-1]
    return f"<code>{_e(body)}</code>"


def _inline_md(text: str, anchors: Optional[Set[str]] = None) -> str:
    """A paragraph's text (its lines joined by line breaks) as HTML."""
    slots: List[str] = []

    def keep(markup: str) -> str:
        slots.append(markup)
        return f"\x00{len(slots) - 1}\x00"

    def emphasis(s: str) -> str:
        s = _e(s)
        s = _STRONG_RE.sub(lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>", s)
        return _EM_RE.sub(lambda m: f"<em>{m.group(1) or m.group(2)}</em>", s)

    def link(m: re.Match) -> str:
        label, target = emphasis(m.group(1)), m.group(2)
        case = _CASE_LINK_RE.fullmatch(target)
        if case and anchors is not None and case.group(1) in anchors:
            return keep(f'<a href="#case-{_e(case.group(1))}">{label}</a>')
        return keep(label)

    text = text.replace("\x00", "\ufffd")
    text = _CODE_RE.sub(lambda m: keep(_code_span(m.group(2))), text)
    text = _ESCAPE_RE.sub(lambda m: keep(_e(m.group(1))), text)
    text = _LINK_RE.sub(link, text)
    out = emphasis(text).replace("\n", " ")
    while _SLOT_RE.search(out):  # a link's text can hold code spans
        out = _SLOT_RE.sub(lambda m: slots[int(m.group(1))], out)
    return out


_FENCE_RE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_HEADING_RE = re.compile(r"^ {0,3}(#{1,6})(?:\s+(.*?))?(?:\s+#+)?\s*$")
_ITEM_RE = re.compile(r"^( {0,3})([-*+]|\d{1,9}[.)])(?:[ \t]+(.*))?$")
_TABLE_RULE_RE = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")


def _table_cells(line: str) -> List[str]:
    """The cells of a table row; a '|' inside a code span or after a backslash does not split."""
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    cells, cur, i, ticks = [], [], 0, 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s) and s[i + 1] == "|":
            cur.append("|")
            i += 2
            continue
        if ch == "`":
            run = len(s[i:]) - len(s[i:].lstrip("`"))
            ticks = 0 if ticks == run else ticks or run
            cur.append("`" * run)
            i += run
            continue
        if ch == "|" and not ticks:
            cells.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
        i += 1
    cells.append("".join(cur).strip())
    return cells


def _is_block_start(line: str) -> bool:
    """Whether a line starts a block of its own (and so ends a paragraph)."""
    return bool(_FENCE_RE.match(line) or _HEADING_RE.match(line) or _ITEM_RE.match(line)
                or line.lstrip().startswith("|"))


def markdown_to_html(text: str, anchors: Optional[Set[str]] = None) -> str:
    """A write-up as HTML (the subset described above); `anchors` are the
    case ids whose cards are on the page, for links between write-ups."""
    lines = text.replace("\r\n", "\n").split("\n")
    out: List[str] = []
    i = 0

    def inline(s: str) -> str:
        return _inline_md(s, anchors)

    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        fence = _FENCE_RE.match(line)
        if fence:
            indent, mark = len(fence.group(1)), fence.group(2)
            code: List[str] = []
            i += 1
            while i < len(lines):
                close = _FENCE_RE.match(lines[i])
                if close and close.group(2)[0] == mark[0] and len(close.group(2)) >= len(mark) \
                        and not close.group(3).strip():
                    i += 1
                    break
                body = lines[i]
                strip = min(indent, len(body) - len(body.lstrip(" ")))
                code.append(body[strip:])
                i += 1
            # Tabs stay tabs: the page's CSS gives them a width (tab-size).
            out.append("<pre><code>" + _e("\n".join(code)) + "</code></pre>")
            continue
        heading = _HEADING_RE.match(line)
        if heading:
            level = min(6, len(heading.group(1)) + 2)  # the card's own heading is h3
            out.append(f"<h{level}>{inline(heading.group(2) or '')}</h{level}>")
            i += 1
            continue
        if line.lstrip().startswith("|") and i + 1 < len(lines) and _TABLE_RULE_RE.match(lines[i + 1]) \
                and "-" in lines[i + 1]:
            head = _table_cells(line)
            aligns = []
            for rule in _table_cells(lines[i + 1]):
                aligns.append("center" if rule.startswith(":") and rule.endswith(":") else
                              "right" if rule.endswith(":") else "left" if rule.startswith(":") else "")
            rows: List[List[str]] = []
            i += 2
            while i < len(lines) and lines[i].strip() and lines[i].lstrip().startswith("|"):
                rows.append(_table_cells(lines[i]))
                i += 1

            def cell(tag: str, k: int, s: str) -> str:
                align = aligns[k] if k < len(aligns) else ""
                style = f' style="text-align:{align}"' if align else ""
                return f"<{tag}{style}>{inline(s)}</{tag}>"
            body = "".join("<tr>" + "".join(cell("td", k, r[k] if k < len(r) else "") for k in range(len(head)))
                           + "</tr>" for r in rows)
            out.append('<div class="scroll"><table class="md"><thead><tr>'
                       + "".join(cell("th", k, h) for k, h in enumerate(head))
                       + f"</tr></thead><tbody>{body}</tbody></table></div>")
            continue
        item = _ITEM_RE.match(line)
        if item:
            ordered = item.group(2)[-1] in ".)"
            kind = "ol" if ordered else "ul"
            start = int(item.group(2)[:-1]) if ordered else 1
            items: List[List[List[str]]] = []  # item -> paragraphs -> lines
            while i < len(lines):
                line = lines[i]
                m = _ITEM_RE.match(line)
                if m and (m.group(2)[-1] in ".)") == ordered:
                    items.append([[m.group(3) or ""]])
                    i += 1
                    continue
                if not line.strip():
                    # A blank line: the list goes on if an item or an indented paragraph follows.
                    j = i
                    while j < len(lines) and not lines[j].strip():
                        j += 1
                    if j < len(lines) and lines[j].startswith(("  ", "\t")) and not _FENCE_RE.match(lines[j]):
                        items[-1].append([])
                        i = j
                        continue
                    nxt = _ITEM_RE.match(lines[j]) if j < len(lines) else None
                    if nxt and (nxt.group(2)[-1] in ".)") == ordered:
                        i = j
                        continue
                    break
                if line.startswith(("  ", "\t")) and not _FENCE_RE.match(line.strip()):
                    items[-1][-1].append(line.strip())  # an indented continuation
                elif _is_block_start(line):
                    break
                else:
                    items[-1][-1].append(line.strip())  # a lazy continuation
                i += 1

            def item_html(paras: List[List[str]]) -> str:
                paras = [p for p in paras if p and any(p)]
                if len(paras) == 1:
                    return inline("\n".join(paras[0]))
                return "".join(f"<p>{inline(chr(10).join(p))}</p>" for p in paras)
            attr = f' start="{start}"' if ordered and start != 1 else ""
            out.append(f"<{kind}{attr}>" + "".join(f"<li>{item_html(it)}</li>" for it in items) + f"</{kind}>")
            continue
        para = [line.strip()]
        i += 1
        while i < len(lines) and lines[i].strip() and not _is_block_start(lines[i]):
            para.append(lines[i].strip())
            i += 1
        out.append(f"<p>{inline(chr(10).join(para))}</p>")
    return "\n".join(out)


def _observed(units: Sequence[UnitResult]) -> str:
    out = []
    for u in units:
        if not u.runs:
            continue
        if u.explore_cells is not None:
            out.append(f"<li><b>{_e(u.variant)} {_e(u.mode)}</b>: {_e(u.explore_line)}</li>")
            continue
        if u.variant != "bad":
            out.append(f"<li><b>{_e(u.variant)} {_e(u.mode)}</b>: {u.matched}/{u.runs} clean"
                       + (f", {u.unseen} unseen corruption" if u.unseen else "")
                       + (f", {u.wrong} wrong, {u.timeout} timeout" if u.wrong or u.timeout else "") + "</li>")
            continue
        lines = sorted(u.first_lines.items(), key=lambda kv: (-kv[1], kv[0]))  # ties in a stable order
        shown = ", ".join(f'{n}&times; <code>{_e(line) if line else "(no report, exit 0)"}</code>'
                          for line, n in lines[:4])
        if len(lines) > 4:
            shown += f", {len(lines) - 4} other first lines"
        if u.unseen:
            shown += (f'; <span class="unseen">{u.unseen}&times; unseen corruption</span> (the program\'s own '
                      "check failed, no detector report)")
        out.append(f"<li><b>bad {_e(u.mode)}</b>: {shown}</li>")
    return "<ul class=\"observed\">" + "".join(out) + "</ul>" if out else "<p>not run</p>"


def _go_twin(twin: Mapping[str, Mapping[str, object]]) -> str:
    """Per variant: the C case's rate beside its Go twin's, both first lines, and whether they agree."""
    def first(line: object) -> str:
        return f"<code>{_e(line)}</code>" if line else "<code>(no report, exit 0)</code>"

    out = []
    for variant, t in twin.items():
        # The Go that built the twin, when known (each generation has its own).
        twin_of = f"Go twin ({_e(t['go_version'])})" if t.get("go_version") else "Go twin"
        if t.get("note"):
            go = f'<span class="go">{twin_of}: <b>{_e(t["note"])}</b></span>'
            agree = ""
        else:
            go = f'<span class="go">{twin_of}: <b>{_e(t["go_rate"])}</b> {first(t["go_first"])}</span>'
            agree = {True: '<span class="agree">agree</span>',
                     False: '<span class="disagree">DISAGREE</span>'}.get(t.get("agree"), "")
        out.append(f'<li class="rates"><b>{_e(variant)}</b> <span class="c">C: <b>{_e(t["c_rate"])}</b> '
                   f"{first(t['c_first'])}</span> {go} {agree}</li>")
    return '<ul class="gotwin">' + "".join(out) + "</ul>"


def case_card(card: CaseCard, units: Sequence[UnitResult], anchors: Optional[Set[str]] = None) -> str:
    """A case's card; `anchors` are the ids of the cards on the page, for links between write-ups."""
    mine = [u for u in units if u.case == card.id]
    verdicts = {u.verdict for u in mine}
    if card.go_twin and any(t.get("agree") is False for t in card.go_twin.values()):
        verdicts.add("FAIL")  # the C case and its Go twin disagree
    verdicts.discard("skipped")
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
    if card.go_twin:
        out.append(f"<dt>real Go, same program</dt><dd>{_go_twin(card.go_twin)}</dd>")
    out.append("</dl>")
    events = parse_timeline(card.sample_stderr) if card.sample_stderr else []
    if card.explore_examples:
        out.append('<div class="orderings">')
        for label, stderr, ok in card.explore_examples:
            missed = ends_at_overlap(stderr)
            chart = svg_timeline(parse_timeline(stderr), width=ORDERING_WIDTH, overlap_ended=missed)
            out.append(f'<figure class="ordering{"" if ok else " disagrees"}"><figcaption>{_e(label)}'
                       + ("" if ok else " (the replay does not agree with the exploration)")
                       + ("; shaded: the overlap, blue: the operation inside the map that no check saw "
                          "(dashed: maybe still inside, its return is not recorded)" if missed and chart else "")
                       + "</figcaption>" + (chart or '<p class="note">no map timeline</p>') + "</figure>")
        out.append("</div>")
    elif events:
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
                   f'<div class="writeup">{markdown_to_html(card.writeup, anchors)}</div></details>')
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
td.case{white-space:nowrap}td.sig{min-width:14em}.scroll{overflow-x:auto;max-width:100%}
tr.pass td.verdict{background:#c6f6d5;color:#22543d;font-weight:bold}
tr.fail td.verdict{background:#fed7d7;color:#9b2c2c;font-weight:bold}tr.fail td{background:#fff5f5}
tr.incomplete td.verdict{background:#fefcbf;color:#744210}
tr.skipped td.verdict{background:#e2e8f0;color:#4a5568}.totals .skipped{color:#4a5568}
ul.gotwin{margin:0;padding-left:18px}.gotwin .c,.gotwin .go{margin-right:14px}
.agree{background:#b9f0d3;color:#22543d;font-weight:bold;padding:1px 6px}
.disagree{background:#fbb6b6;color:#9b2c2c;font-weight:bold;padding:1px 6px}
td.na{color:#a0aec0;font-style:italic}
.card{border:1px solid #cbd5e0;border-left:6px solid #a0aec0;border-radius:6px;padding:10px 16px;margin:14px 0;max-width:960px}
.card.pass{border-left-color:#38a169}.card.fail{border-left-color:#e53e3e}.card.incomplete{border-left-color:#d69e2e}
.card h3{margin:0;font-size:16px}.card .sect{color:#718096;font-weight:normal;font-size:13px}
.trigger{margin:2px 0 8px;font-style:italic}
dl{display:grid;grid-template-columns:110px 1fr;gap:2px 10px;margin:0 0 8px}dt{color:#4a5568}dd{margin:0}
dd ul{margin:0;padding-left:18px}.rates span{margin-right:22px}
code{font-family:"DejaVu Sans Mono",monospace;font-size:12px;background:#f7fafc}
figure{margin:6px 0}svg.timeline{max-width:100%;height:auto}figcaption{font-size:12px;color:#4a5568;margin-bottom:2px}.x{color:#c53030;font-weight:bold}
.note{color:#718096;font-size:13px}.unseen{color:#975a16;font-weight:bold}
details{margin-top:6px}summary{cursor:pointer;color:#2b6cb0}
.writeup{border-top:1px solid #e2e8f0;margin-top:6px}.writeup pre{background:#f7fafc;padding:6px 10px;overflow-x:auto;tab-size:4;-moz-tab-size:4}
.writeup table.md td,.writeup table.md th{vertical-align:top}
nav a{margin-right:8px}
.orderings{display:grid;grid-template-columns:1fr 1fr;gap:8px}.ordering{margin:6px 0;min-width:0}.ordering svg{width:100%;height:auto}.ordering.disagrees figcaption{color:#c53030}
"""


# A closing line (reports/text.py's closing_line) given in the page's facts:
# a caller whose verdicts are not the units' (--against-go counts pairs of a
# C case and its twin) passes its own tally that way.
_CLOSING_RE = re.compile(r"\d+ passed, (\d+) failed(?:, \d+ skipped)?")


def _tally(units: Sequence[UnitResult], cards: Sequence[CaseCard], meta: Dict[str, object]) -> str:
    """The page's one tally: the caller's closing line when `meta` has one
    (taken out of `meta`, so that it is not shown twice), else the units'."""
    scope = f"{len(units)} units, {len(cards)} cases"
    for key, value in list(meta.items()):
        m = _CLOSING_RE.fullmatch(str(value))
        if m:
            del meta[key]
            cls = "fail" if int(m.group(1)) else "pass"
            return f'<p class="totals"><span class="{cls}">{_e(key)} {_e(value)}</span> ({scope})</p>'
    passed = sum(1 for u in units if u.verdict == "pass")
    failed = sum(1 for u in units if u.verdict == "FAIL")
    skipped = sum(1 for u in units if u.verdict == "skipped")
    return (f'<p class="totals"><span class="pass">{passed} passed</span>, <span class="fail">{failed} failed</span>'
            + (f', <span class="skipped">{skipped} skipped</span>' if skipped else "") + f" ({scope})</p>")


def render_page(units: Sequence[UnitResult], cards: Sequence[CaseCard],
                meta: Optional[Mapping[str, object]] = None,
                matrix: Optional[Mapping[str, Mapping[str, object]]] = None,
                title: str = "Concurrent map misuse: run report") -> str:
    """The whole self-contained page."""
    meta = dict(meta or {})
    tally = _tally(units, cards, meta)
    meta_line = " &middot; ".join(f"{_e(k)} {_e(v)}" for k, v in meta.items())
    nav = " ".join(f'<a href="#case-{_e(c.id)}">{_e(c.id)}</a>' for c in cards)
    body = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>", f'<p class="meta">{meta_line}</p>' if meta_line else "", tally,
        '<h2 id="results">Results</h2>', results_table(units),
        '<h2 id="cases">Cases</h2>', f"<nav>{nav}</nav>",
    ]
    anchors = {c.id for c in cards}
    body += [case_card(c, units, anchors) for c in cards]
    body.append(detection_matrix([c.id for c in cards], matrix))
    body.append("</body></html>\n")
    return "\n".join(b for b in body if b)


# --------------------------------------------------------------------------
# From the runner's units
# --------------------------------------------------------------------------


def _expected_text(expected_dir: Path, case) -> str:
    """What a card shows as expected: the bad variant's (else the first variant's) summary."""
    variant = "bad" if "bad" in case.variants else case.variants[0]
    try:
        return load_expectation(expect_path(expected_dir, case.id, variant)).summary()
    except UsageError:
        return "(no expected file)"


def from_units(units: Sequence[object], root: Path, expected_dir: Path) -> Tuple[List[UnitResult], List[CaseCard]]:
    """Table rows and cards from the run loop's units (read by attribute:
    case, variant, mode, expect, counts, times, records, verdict(), sample)."""
    results: List[UnitResult] = []
    cards: Dict[str, CaseCard] = {}
    samples: Dict[str, Tuple[int, str, str]] = {}  # case -> (preference, stderr, label)
    for u in units:
        c = u.case
        first_lines = Counter(r.first_line for r in u.records)
        # Units of another program than the C case (a Go twin) say so in the mode column.
        program = getattr(u.judge, "program", "")
        explored = getattr(u, "explored", None)
        results.append(UnitResult(
            c.id, u.variant, f"{u.mode} ({program})" if program else u.mode, u.expect.summary(), u.done, u.counts[MATCHED], u.counts[NOT_REPRODUCED],
            u.counts[WRONG], u.counts[TIMEOUT],
            statistics.median(u.times) if u.times else None, u.verdict(), dict(first_lines),
            u.counts[UNSEEN_CORRUPTION],
            explore_cells(u) if is_explore([u]) else None,
            explore_line(u) if explored is not None else ""))
        if c.id not in cards:
            cards[c.id] = CaseCard(c.id, c.group, c.section, c.title, c.go_article, c.go_signature,
                                   _expected_text(expected_dir, c), read_writeup(root, c.id))
        for e in getattr(u, "examples", ()):
            what = ("an ordering Go catches" if e.kind == "detecting" else "an ordering Go misses")
            ended = e.first_line if e.kind == "detecting" else "no report"
            cards[c.id].explore_examples.append(
                (f"{what}: {u.variant} {e.kind} schedule {e.schedule} ({ended})", e.stderr, e.ok))
        sample = getattr(u, "sample", None)
        if sample is not None:
            rec, stderr = sample
            # A matched forced run draws the cleanest picture; then a matched natural one.
            pref = (0 if rec.outcome == MATCHED else 2) + (0 if u.mode == "forced" else 1)
            if c.id not in samples or pref < samples[c.id][0]:
                label = f"{u.variant} {u.mode} run {rec.index} (seed {rec.seed}, {rec.outcome})"
                samples[c.id] = (pref, stderr, label)
    for cid, (_, stderr, label) in samples.items():
        cards[cid].sample_stderr = stderr
        cards[cid].sample_label = label
    return results, list(cards.values())


def render_units(units: Sequence[object], root: Path, expected_dir: Path,
                 meta: Optional[Mapping[str, object]] = None,
                 matrix: Optional[Mapping[str, Mapping[str, object]]] = None,
                 go_twins: Optional[Mapping[str, Dict[str, Mapping[str, object]]]] = None) -> str:
    """The run loop's units as the HTML report's text; `go_twins` (case id ->
    CaseCard.go_twin) adds the Go twin beside each case's C rate."""
    results, cards = from_units(units, root, expected_dir)
    for card in cards:
        card.go_twin = (go_twins or {}).get(card.id)
    return render_page(results, cards, meta, matrix)
