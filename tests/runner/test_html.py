"""The map timeline (parser, layout, terminal chart) and the HTML report:
its structure, checked with html.parser on pages built from synthetic results."""

import html.parser
import re
import unittest
from pathlib import Path

import fakes
from fakes import base, expect, manifest, units

from fakes import recorder, timeline
from fakes import html as html_report

# A forced-looking recorder block: the main thread fills the map, the writer
# opens its window and keeps it open, the reader enters and detects.
TIMELINE = """fatal error: concurrent map read and map write

thread 3 "reader" [running]:
gomap_i64_get(...)

write flag held by thread 2 "writer" [map write]:
gomap_i64_set(...)

map timeline, oldest first (GOMAP_TIMELINE=1):
  +0.000us thread 1 map write: entered
  +0.100us thread 1 map write: write flag set
  +0.781us thread 1 map write: write flag cleared
  +84.613us thread 2 "writer" map write: entered
  +84.664us thread 2 "writer" map write: write flag set
  +225.693us thread 3 "reader" map read: entered
  +406.465us thread 3 "reader" map read: detected
"""


# Explore mode's replay of a blind-spot schedule of 2.1 (build/cases/2.1-read-write-pair
# --mode explore --schedule 8:1): the reader entered, checked the flag (not
# set) and was still inside when the writer entered and held the flag; its
# return is not recorded, and nothing reported the overlap.
BLIND_SPOT = """explore: an unprotected overlap on the map ended without a report

map timeline, oldest first (GOMAP_TIMELINE=1):
  +0.000us thread 1 "main" map write: entered
  +0.175us thread 1 "main" map write: write flag set
  +0.358us thread 1 "main" map write: write flag cleared
  +3839.711us thread 2 "writer" map write: entered
  +3840.671us thread 2 "writer" map write: write flag set
  +3841.070us thread 2 "writer" map write: write flag cleared
  +3845.543us thread 3 "reader" map read: entered
  +3847.243us thread 2 "writer" map write: entered
  +3847.521us thread 2 "writer" map write: write flag set
  +3847.762us thread 2 "writer" map write: write flag cleared
DONE
"""


class _Tree(html.parser.HTMLParser):
    """Collects start tags (with attributes), text and class counts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []  # (tag, attrs dict)
        self.text = []
        self.stack = []
        self.svg_stack = []  # per open <svg>: its (lanes, detected) counts
        self.svgs = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        classes = (a.get("class") or "").split()
        if tag == "svg":
            self.svg_stack.append({"lanes": 0, "detected": 0, "windows": 0, "entered": 0, "missed": 0,
                                   "overlap": 0, "card": self._card()})
        elif self.svg_stack:
            cur = self.svg_stack[-1]
            if "lane" in classes:
                cur["lanes"] += 1
            if "detected" in classes:
                cur["detected"] += 1
            if "window" in classes:
                cur["windows"] += 1
            if "entered" in classes:
                cur["entered"] += 1
            for k in ("missed", "overlap"):
                if k in classes:
                    cur[k] += 1
        if tag not in ("meta", "br", "path", "line", "rect", "circle", "img", "link", "input"):
            self.stack.append((tag, a))

    def handle_endtag(self, tag):
        if tag == "svg" and self.svg_stack:
            self.svgs.append(self.svg_stack.pop())
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if self.svg_stack:
            classes = (dict(attrs).get("class") or "").split()
            for k in ("window", "entered", "detected", "missed", "overlap"):
                if k in classes:
                    self.svg_stack[-1][k] += 1

    def handle_data(self, data):
        self.text.append(data)

    def _card(self):
        for t, a in reversed(self.stack):
            if t == "section" and "card" in (a.get("class") or "").split():
                return a.get("id")
        return None

    def with_class(self, tag, cls):
        return [a for t, a in self.tags if t == tag and cls in (a.get("class") or "").split()]


def parse(page):
    p = _Tree()
    p.feed(page)
    p.close()
    return p


def unit(case, variant, mode, matched, runs, verdict="pass", first_lines=None, expected="x", **kw):
    return html_report.UnitResult(case, variant, mode, expected, runs, matched, kw.get("nr", runs - matched),
                         kw.get("wrong", 0), kw.get("timeout", 0), 1.5, verdict, first_lines or {})


def synthetic_page(matrix=None):
    units = [
        unit("2.1-read-write-pair", "bad", "forced", 30, 30,
             first_lines={"fatal error: concurrent map read and map write": 30}),
        unit("2.1-read-write-pair", "bad", "natural", 3, 10,
             first_lines={"fatal error: concurrent map read and map write": 3, "": 7}),
        unit("2.1-read-write-pair", "fixed", "forced", 30, 30),
        unit("evil-case", "bad", "forced", 5, 6, verdict="FAIL", wrong=1,
             first_lines={"fatal error: concurrent map writes": 5, "<b>bold</b> first line": 1}),
        unit("control-gc-only", "control", "forced", 30, 30),
    ]
    cards = [
        html_report.CaseCard("2.1-read-write-pair", "article", "2.1", "one thread reads, one writes", "39/100",
                    "fatal error: concurrent map writes", "fatal error: concurrent map read and map write",
                    writeup="# Title\n\nA paragraph with `code` and **bold**.\n\n```c\nint x = a < b;\n```\n"
                            "- item one\n  continued\n- item two, see [the control](control-gc-only.md)\n",
                    sample_stderr=TIMELINE, sample_label="bad forced run 0"),
        html_report.CaseCard("evil-case", "family", "-", 'a title <script>alert("x")</script> & more', "-", "-",
                    "fatal error: <img src=x>", writeup="<script>alert(1)</script>\n",
                    sample_stderr=TIMELINE.replace('"reader"', '"<script>"'), sample_label="<i>run</i>"),
        html_report.CaseCard("control-gc-only", "control", "-", "a collector churns the heap", "-", "-", "exit 0, DONE"),
    ]
    return html_report.render_page(units, cards, {"seed": 42}, matrix), units, cards


class TimelineParserTests(unittest.TestCase):
    def test_parses_every_event_with_thread_names_and_phases(self):
        events = recorder.parse_timeline(TIMELINE)
        self.assertEqual(len(events), 7)
        self.assertEqual((events[0].us, events[0].tid, events[0].name, events[0].op, events[0].phase),
                         (0.0, 1, "", "map write", "entered"))
        self.assertEqual((events[4].tid, events[4].name, events[4].phase), (2, "writer", "write flag set"))
        self.assertEqual((events[6].us, events[6].op, events[6].phase), (406.465, "map read", "detected"))

    def test_no_block_means_no_events(self):
        self.assertEqual(recorder.parse_timeline("fatal error: concurrent map writes\n\nthread 1 [running]:\n"), [])
        self.assertFalse(recorder.has_timeline("DONE\n"))
        self.assertTrue(recorder.has_timeline(TIMELINE))

    def test_every_operation_name_and_junk_lines(self):
        ops = ["map read", "map write", "map delete", "map clear", "map clone", "map iteration"]
        block = "map timeline, oldest first (GOMAP_TIMELINE=1):\n" + "".join(
            f'  +{k}.000us thread {k} "t{k}" {op}: entered\n' for k, op in enumerate(ops))
        block += "  +9.000us thread 9 map write: something new\n  garbage\n  +-0.004us thread 2 map read: detected\n"
        events = recorder.parse_timeline(block)
        self.assertEqual([e.op for e in events[:6]], ops)
        self.assertEqual(len(events), 7)
        self.assertEqual(events[-1].us, -0.004)

    def test_the_last_block_wins_and_a_blank_line_ends_it(self):
        text = ("map timeline, oldest first (GOMAP_TIMELINE=1):\n  +1.000us thread 5 map write: entered\n"
                + TIMELINE + "\n  +999.000us thread 8 map write: entered\n")
        events = recorder.parse_timeline(text)
        self.assertEqual(len(events), 7)
        self.assertNotIn(5, {e.tid for e in events})
        self.assertNotIn(8, {e.tid for e in events})


class LayoutTests(unittest.TestCase):
    def test_lanes_windows_and_marks(self):
        lay = timeline.layout_timeline(recorder.parse_timeline(TIMELINE))
        self.assertEqual([lane.tid for lane in lay.lanes], [1, 2, 3])
        main, writer, reader = lay.lanes
        self.assertEqual(len(main.windows), 1)
        self.assertEqual(main.windows[0].t_end, 0.781)
        # The writer never cleared its flag: its window runs to the right edge.
        self.assertEqual(len(writer.windows), 1)
        self.assertIsNone(writer.windows[0].t_end)
        self.assertEqual(writer.windows[0].end, 1.0)
        self.assertEqual(len(reader.detected), 1)
        self.assertEqual(reader.detected[0].x, 1.0)
        self.assertLess(writer.windows[0].start, reader.entered[0].x)
        self.assertEqual(reader.label, 'thread 3 "reader"')
        self.assertEqual(main.label, "thread 1")

    def test_positions_keep_order_and_compress_long_gaps(self):
        pos = timeline.compressed_positions([0.0, 0.01, 0.02, 5000.0])
        self.assertEqual(pos[0.0], 0.0)
        self.assertEqual(pos[5000.0], 1.0)
        self.assertLess(pos[0.01], pos[0.02])
        # Linear, the first three would share the first 0.0004% of the axis.
        self.assertGreater(pos[0.02], 0.01)

    def test_old_events_are_dropped_but_not_an_open_window(self):
        lines = ['  +0.000us thread 2 "w" map write: entered', '  +0.010us thread 2 "w" map write: write flag set']
        lines += [f"  +{1 + k}.000us thread 1 map read: entered" for k in range(60)]
        lines.append("  +100.000us thread 1 map read: detected")
        events = recorder.parse_timeline("map timeline, oldest first (GOMAP_TIMELINE=1):\n" + "\n".join(lines) + "\n")
        lay = timeline.layout_timeline(events)
        self.assertEqual(lay.omitted, 0)  # the window opened by the first events is still open
        del lines[:2]
        events = recorder.parse_timeline("map timeline, oldest first (GOMAP_TIMELINE=1):\n" + "\n".join(lines) + "\n")
        lay = timeline.layout_timeline(events)
        self.assertEqual(lay.omitted, len(events) - timeline.SHOWN_EVENTS)
        self.assertEqual(len(lay.events), timeline.SHOWN_EVENTS)

    def test_no_events_no_layout(self):
        self.assertIsNone(timeline.layout_timeline([]))


class BlindSpotTests(unittest.TestCase):
    """A record that ends when an overlap ended without a report: the missed read is drawn."""

    def layout(self, text=BLIND_SPOT):
        return timeline.layout_timeline(recorder.parse_timeline(text), timeline.ends_at_overlap(text))

    def test_only_explores_overlap_record_has_spans(self):
        self.assertTrue(timeline.ends_at_overlap(BLIND_SPOT))
        self.assertFalse(timeline.ends_at_overlap(TIMELINE))
        lay = timeline.layout_timeline(recorder.parse_timeline(BLIND_SPOT))
        self.assertEqual([lane.unreturned for lane in lay.lanes], [[], [], []])

    def test_the_missed_read_spans_the_writers_window(self):
        main, writer, reader = self.layout().lanes
        self.assertEqual((main.unreturned, writer.unreturned), ([], []))
        [span] = reader.unreturned
        self.assertEqual((span.op, span.t_start, span.t_sure), ("map read", 3845.543, 3847.243))
        self.assertEqual(span.beside, 'thread 2 "writer" entered its map write')
        # Inside for sure from its entry to the writer's entry; the writer's
        # window then lies in the part where the read may still be inside.
        window = writer.windows[-1]
        self.assertLess(span.start, span.sure)
        self.assertLessEqual(span.sure, window.start)
        self.assertLess(window.start, window.end)
        self.assertLessEqual(window.end, 1.0)
        # The overlap gets room on the axis in spite of the set-up before it.
        self.assertGreaterEqual(1.0 - span.start, timeline.MISSED_SHARE - 1e-9)
        self.assertGreaterEqual(1.0 - span.sure, timeline.OVERLAP_SHARE - 1e-9)

    def test_a_read_beside_a_read_is_no_overlap(self):
        # Another reader's entry is not what overlapped: the span runs to the writer's entry.
        text = BLIND_SPOT.replace('  +3847.243us thread 2 "writer" map write: entered\n',
                                  '  +3846.000us thread 4 "other" map read: entered\n'
                                  '  +3847.243us thread 2 "writer" map write: entered\n')
        reader = next(lane for lane in self.layout(text).lanes if lane.tid == 3)
        self.assertEqual([s.t_sure for s in reader.unreturned], [3847.243])
        # A record that ends before anything entered beside the read draws no span.
        text = BLIND_SPOT.split('  +3847.243us')[0] + "\n"
        self.assertEqual([lane.unreturned for lane in self.layout(text).lanes], [[], [], []])

    def test_svg_draws_the_span_over_the_window(self):
        svg = timeline.svg_timeline(recorder.parse_timeline(BLIND_SPOT), overlap_ended=True)
        self.assertEqual(svg.count('class="missed"'), 1)
        self.assertEqual(svg.count('class="overlap"'), 1)
        self.assertIn("overlap, not detected", svg)
        missed = re.search(r'<g class="missed"><rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)".*?'
                           r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)
        sure_from, sure_w, maybe_from, maybe_w = map(float, missed.groups())
        windows = [(float(a), float(a) + float(w)) for a, w in
                   re.findall(r'<rect class="window" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)]
        # The writer's last window starts where the read may still be inside and ends within it.
        start, end = windows[-1]
        self.assertLessEqual(sure_from + sure_w, start)
        self.assertLessEqual(maybe_from, start)
        self.assertLessEqual(end, maybe_from + maybe_w + 0.1)
        self.assertGreater(end - start, 10)  # wide enough to see
        self.assertNotIn('class="missed"', timeline.svg_timeline(recorder.parse_timeline(BLIND_SPOT)))

    def test_terminal_chart_marks_the_read_over_the_window(self):
        chart = timeline.format_terminal_timeline(BLIND_SPOT)
        rows = chart_rows(chart)
        writer, reader = rows['thread 2 "writer"'], rows['thread 3 "reader"']
        self.assertRegex(reader, r"^\.+>~+-+$")
        window = writer.rindex("=")
        self.assertEqual(reader[window], "-")
        self.assertLess(reader.index(">"), writer.rindex(">"))
        self.assertIn('not detected: thread 3 "reader" entered its map read at +3.85ms and was still inside when '
                      'thread 2 "writer" entered its map write at +3.85ms', chart)
        self.assertNotIn("~", timeline.format_terminal_timeline(TIMELINE))

    def test_explore_card_draws_the_missed_read_in_the_blind_spot_chart_only(self):
        units = [unit("2.1-read-write-pair", "bad", "explore", 1, 1)]
        card = html_report.CaseCard("2.1-read-write-pair", "article", "2.1", "reads and writes", "0/100", "-",
                                    "fatal error: concurrent map read and map write")
        card.explore_examples = [("an ordering Go catches: bad detecting schedule 5:2", TIMELINE, True),
                                 ("an ordering Go misses: bad blind spot schedule 8:1 (no report)", BLIND_SPOT, True)]
        page = html_report.render_page(units, [card])
        caught, missed = parse(page).svgs
        self.assertEqual((caught["detected"], caught["missed"], caught["overlap"]), (1, 0, 0))
        self.assertEqual((missed["detected"], missed["missed"], missed["overlap"]), (0, 1, 1))
        self.assertIn("blue: the operation inside the map that no check saw", page)


def chart_rows(chart):
    """A terminal lane chart's rows by lane label."""
    return {m.group(1): m.group(2) for m in re.finditer(r"^  (thread \d+(?: \"[^\"]*\")?)\s+\|(.*)\|", chart, re.M)}


class TerminalTimelineTests(unittest.TestCase):
    def rows(self, chart):
        return chart_rows(chart)

    def test_one_row_per_thread_with_window_entry_and_detection(self):
        chart = timeline.format_terminal_timeline(TIMELINE)
        rows = self.rows(chart)
        self.assertEqual(list(rows), ["thread 1", 'thread 2 "writer"', 'thread 3 "reader"'])
        for row in rows.values():
            self.assertEqual(len(row), timeline.TERMINAL_WIDTH)
        writer, reader = rows['thread 2 "writer"'], rows['thread 3 "reader"']
        self.assertEqual(reader.rstrip(".")[-1], "X")
        self.assertEqual(reader.index("X"), timeline.TERMINAL_WIDTH - 1)
        self.assertNotIn("X", writer)
        # The writer's window is open from its 'set' to the end, over the detection.
        start = writer.index("=")
        self.assertEqual(writer[start:], "=" * (timeline.TERMINAL_WIDTH - start))
        self.assertLess(writer.index(">"), start)
        self.assertLess(start, reader.index(">"))
        self.assertIn("legend:", chart)
        self.assertIn('write flag held by thread 2 "writer" (map write)', chart)
        self.assertIn("+406.5us", chart)

    def test_plain_ascii_unless_colour_is_asked_for(self):
        plain = timeline.format_terminal_timeline(TIMELINE)
        self.assertTrue(plain.isascii())
        self.assertNotIn("\x1b", plain)
        coloured = timeline.format_terminal_timeline(TIMELINE, color=True)
        self.assertIn("\x1b[1;31mX\x1b[0m", coloured)

    def test_width_and_no_timeline(self):
        chart = timeline.format_terminal_timeline(TIMELINE, width=30)
        self.assertTrue(all(len(r) == 30 for r in self.rows(chart).values()))
        self.assertEqual(timeline.format_terminal_timeline("fatal error: concurrent map writes\n"), "")


class PageStructureTests(unittest.TestCase):
    def setUp(self):
        self.page, self.units, self.cards = synthetic_page()
        self.tree = parse(self.page)

    def test_one_results_table_with_a_row_per_unit(self):
        self.assertEqual(len(self.tree.with_class("table", "results")), 1)
        rows = [a for t, a in self.tree.tags if t == "tr" and a.get("class") in ("pass", "fail", "incomplete")]
        self.assertEqual(len(rows), len(self.units))
        self.assertEqual([r["class"] for r in rows], ["pass", "pass", "pass", "fail", "pass"])
        headers = re.findall(r"<th>([^<]*)</th>", self.page.split('<table class="results">')[1].split("</thead>")[0])
        self.assertEqual(headers, ["case", "variant", "mode", "expected", "runs", "matched", "not-repro", "wrong",
                                   "timeout", "unseen", "median ms", "verdict"])

    def test_one_card_per_case(self):
        cards = self.tree.with_class("section", "card")
        self.assertEqual([c["id"] for c in cards], [f"case-{c.id}" for c in self.cards])
        self.assertIn("fail", self.tree.with_class("section", "card")[1]["class"].split())

    def test_a_timeline_per_bad_case_with_lanes_windows_and_a_detection(self):
        by_card = {s["card"]: s for s in self.tree.svgs}
        self.assertEqual(set(by_card), {"case-2.1-read-write-pair", "case-evil-case"})
        svg = by_card["case-2.1-read-write-pair"]
        self.assertEqual(svg["lanes"], 3)
        self.assertEqual(svg["detected"], 1)
        self.assertEqual(svg["windows"], 2)
        self.assertEqual(svg["entered"], 3)

    def test_the_control_has_no_timeline(self):
        control = self.page.split('id="case-control-gc-only"')[1].split("</section>")[0]
        self.assertNotIn("<svg", control)
        self.assertIn("no timeline", control)

    def test_a_nil_map_panic_says_why_it_has_no_timeline(self):
        units = [unit("nil-map-assign", "bad", "forced", 3, 3, first_lines={"panic: assignment to entry in nil map": 3})]
        card = html_report.CaseCard("nil-map-assign", "family", "-", "assignment into a nil map", "-",
                           "panic: assignment to entry in nil map", "panic: assignment to entry in nil map")
        page = html_report.render_page(units, [card])
        self.assertNotIn("<svg", page)
        self.assertIn("nil map, which has no flight recorder", page)
        self.assertIn("real Go: <b>not measured</b> (the article has no example), first line", page)

    def test_rates_beside_real_go(self):
        card = self.page.split('id="case-2.1-read-write-pair"')[1].split("</section>")[0]
        self.assertIn("here: <b>3/10 (30%)</b>", card)
        self.assertIn("real Go: <b>39/100 (39%)</b> for the article's example, first line <code>fatal error: concurrent map writes</code>", card)
        evil = self.page.split('id="case-evil-case"')[1].split("</section>")[0]
        self.assertIn("here: <b>not run</b>", evil)
        self.assertIn("not measured", evil)

    def test_observed_first_lines_with_counts(self):
        card = self.page.split('id="case-2.1-read-write-pair"')[1].split("</section>")[0]
        self.assertIn("3&times; <code>fatal error: concurrent map read and map write</code>", card)
        self.assertIn("7&times; <code>(no report, exit 0)</code>", card)

    def test_the_write_up_is_one_click_away(self):
        details = [a for t, a in self.tree.tags if t == "details"]
        self.assertEqual(len(details), 2)
        self.assertTrue(all("open" not in d for d in details))
        self.assertIn("<h3>Title</h3>", self.page)  # '#' under the card's own h3 heading
        self.assertIn("<code>code</code>", self.page)
        self.assertIn("<strong>bold</strong>", self.page)
        self.assertIn("<pre><code>int x = a &lt; b;</code></pre>", self.page)
        self.assertIn("<li>item one continued</li>", self.page)
        # A link to another case's write-up leads to that case's card on the page.
        self.assertIn('see <a href="#case-control-gc-only">the control</a>', self.page)

    def test_self_contained(self):
        for tag, attrs in self.tree.tags:
            for name in ("src", "href", "action", "xlink:href", "srcset", "data"):
                value = attrs.get(name)
                if value is not None:
                    self.assertTrue(value.startswith("#"), f"<{tag} {name}={value!r}>")
        tags = {t for t, _ in self.tree.tags}
        for forbidden in ("script", "link", "img", "iframe", "object", "embed"):
            self.assertNotIn(forbidden, tags)
        self.assertNotRegex(self.page, r"(?i)https?:|url\(|@import")
        self.assertNotRegex(self.page, r'(?:src|href)\s*=\s*["\']?//')

    def test_everything_is_escaped(self):
        text = "".join(self.tree.text)
        self.assertNotIn("<script>", self.page)
        self.assertNotIn("<img src=x>", self.page)
        self.assertNotIn("<b>bold</b> first line", self.page)
        self.assertNotIn("<i>run</i>", self.page)
        # ... and shown as text.
        self.assertIn('a title <script>alert("x")</script> & more', text)
        self.assertIn("<script>alert(1)</script>", text)
        self.assertIn("fatal error: <img src=x>", text)
        self.assertIn('thread 3 "<script>"', text)

    def tallies(self, page):
        return re.findall(r"\d+ passed, \d+ failed", "".join(parse(page).text))

    def test_one_tally_per_page(self):
        self.assertEqual(self.tallies(self.page), ["4 passed, 1 failed"])
        # A caller that counts something else than units (--against-go counts
        # pairs) gives its closing line in the facts: it is the page's only tally.
        page = html_report.render_page(self.units, self.cards, {"cases and variants": "1 passed, 2 failed",
                                                                "seed": 42})
        self.assertEqual(self.tallies(page), ["1 passed, 2 failed"])
        totals = parse(page).with_class("p", "totals")
        self.assertEqual(len(totals), 1)
        self.assertIn('<span class="fail">cases and variants 1 passed, 2 failed</span> (5 units, 3 cases)', page)
        self.assertIn("seed 42", page)

    def test_detection_matrix_placeholder_and_rows(self):
        # Without measurements: no table of empty cells, but how to fill it.
        section = self.page.split('id="detection-matrix"')[1]
        self.assertNotIn("<table", section)
        self.assertNotIn("not measured", section)
        self.assertIn("<code>python3 runner.py --matrix --html FILE</code>", section)
        page, _, _ = synthetic_page({"2.1-read-write-pair": {"builtin_rate": 0.25, "tsan_rate": 1.0},
                                     "evil-case": {"tsan_rate": "3/3"}})
        section = page.split('id="detection-matrix"')[1]
        self.assertIn('<td class="num">25%</td><td class="num">100%</td>', section)
        self.assertIn('<td class="na">not measured</td><td>3/3</td>', section)
        self.assertEqual(section.count("not measured"), 3)


class MarkdownTests(unittest.TestCase):
    """The write-ups' Markdown, one construct per test, as the real write-ups use it."""

    def md(self, text, anchors=None):
        if anchors is None:
            return html_report.markdown_to_html(text)
        return html_report.markdown_to_html(text, anchors)

    def test_a_code_span_that_wraps_a_line_is_one_span(self):
        self.assertEqual(self.md("If it is set: `concurrent map read and map\nwrite`. Done."),
                         "<p>If it is set: <code>concurrent map read and map write</code>. Done.</p>")
        item = self.md("- The reader (`GM_CHECK_NOT_WRITING`). If set: `concurrent map\n  write` fires.\n")
        self.assertIn("<code>concurrent map write</code> fires.", item)
        self.assertNotIn("`", item)

    def test_code_spans_of_double_backticks_and_no_markup_inside(self):
        self.assertEqual(self.md("`` a ` b `` and `*x* _y_ <b>`"),
                         "<p><code>a ` b</code> and <code>*x* _y_ &lt;b&gt;</code></p>")

    def test_emphasis_with_stars_and_underscores(self):
        self.assertEqual(self.md("returns *before* the check, **0/100** runs, _unseen_ and __loud__"),
                         "<p>returns <em>before</em> the check, <strong>0/100</strong> runs, <em>unseen</em> and "
                         "<strong>loud</strong></p>")
        # Emphasis across a line break, and a continuation line that starts with it.
        self.assertIn("<li>the zero value <em>before</em> the check</li>",
                      self.md("- the zero value\n  *before* the check\n"))

    def test_marks_inside_words_stay_text(self):
        self.assertEqual(self.md("GOMAP_EV_WRITE_SET and hz_yield, w*1000 + i*64, a * b * c, snake_case_name"),
                         "<p>GOMAP_EV_WRITE_SET and hz_yield, w*1000 + i*64, a * b * c, snake_case_name</p>")
        self.assertEqual(self.md(r"a \*literal\* star"), "<p>a *literal* star</p>")

    def test_tabs_in_fenced_code_are_kept_and_given_a_width(self):
        page = self.md("```go\nfunc f() {\n\tfor {\n\t\tm[k] = v\n\t}\n}\n```\n")
        self.assertEqual(page, "<pre><code>func f() {\n\tfor {\n\t\tm[k] = v\n\t}\n}</code></pre>")
        self.assertRegex(html_report.CSS, r"\.writeup pre\{[^}]*tab-size:4")
        # A fence indented under a list item, and a longer closing fence.
        self.assertIn("<pre><code>x := 1\n\ty</code></pre>", self.md("- item\n\n  ````\n  x := 1\n  \ty\n  ````\n"))

    def test_lists_ordered_lazy_and_loose(self):
        self.assertEqual(self.md("1. one\n2. two\ncontinued lazily\n"),
                         "<ol><li>one</li><li>two continued lazily</li></ol>")
        self.assertEqual(self.md("3. three\n4. four\n"), '<ol start="3"><li>three</li><li>four</li></ol>')
        # A blank line between items keeps one list; a paragraph after it ends the list.
        self.assertEqual(self.md("- a\n\n- b\n\nafter\n"), "<ul><li>a</li><li>b</li></ul>\n<p>after</p>")
        self.assertEqual(self.md("- a\n\n  more of a\n- b\n"), "<ul><li><p>a</p><p>more of a</p></li><li>b</li></ul>")
        self.assertEqual(self.md("text\n- item\n"), "<p>text</p>\n<ul><li>item</li></ul>")

    def test_links_to_cards_on_the_page_and_other_links_as_text(self):
        text = "See [4.4](4.4-testmain-parallel-subtests.md), [2.1](./2.1-x.md) and [the `go` notes](../../cases/go.md)."
        out = self.md(text, anchors={"4.4-testmain-parallel-subtests"})
        self.assertEqual(out, '<p>See <a href="#case-4.4-testmain-parallel-subtests">4.4</a>, 2.1 and the '
                              "<code>go</code> notes.</p>")
        self.assertNotIn("href", self.md("[x](https://example.org/x)"))
        self.assertNotIn("example.org", self.md("[x](https://example.org/x)"))

    def test_pipe_tables(self):
        out = self.md("| op | Go | nil |\n|---|:---:|---:|\n| `m[k]` | `a\\|b` | *returns* |\n| `len(m)` | | 0 |\n")
        tree = parse(out)
        self.assertEqual([t for t, _ in tree.tags].count("tr"), 3)
        self.assertIn('<th style="text-align:center">Go</th>', out)
        self.assertIn('<td><code>m[k]</code></td><td style="text-align:center"><code>a|b</code></td>'
                      '<td style="text-align:right"><em>returns</em></td>', out)
        self.assertIn('<td style="text-align:right">0</td>', out)
        self.assertTrue(out.startswith('<div class="scroll"><table class="md">'))

    def test_headings_under_the_cards_own_and_raw_html_escaped(self):
        self.assertEqual(self.md("# Title #\n## Part\n<b>x</b> & y"),
                         "<h3>Title</h3>\n<h4>Part</h4>\n<p>&lt;b&gt;x&lt;/b&gt; &amp; y</p>")

    def test_the_real_write_ups_leave_no_markup_behind(self):
        docs = sorted((fakes.REPO / "docs" / "cases").glob("*.md"))
        self.assertTrue(docs, "no write-ups in docs/cases")
        ids = {d.stem for d in docs}
        for doc in docs:
            out = self.md(doc.read_text(encoding="utf-8"))
            prose = re.sub(r"<pre>.*?</pre>|<code>.*?</code>", "", out, flags=re.S)
            for mark in (r"`", r"\*\*|(?<![\w*])\*(?=\w)", r"\]\(", r"(?<!\w)_(?=\w)", r"^\s*\|"):
                self.assertIsNone(re.search(mark, prose, re.M), f"{doc.name}: {mark!r} left as text")
            for tag, attrs in parse(out).tags:
                self.assertTrue(attrs.get("href", "#case-").startswith("#case-"), f"{doc.name}: <{tag} {attrs}>")


class FromUnitsTests(unittest.TestCase):
    """The adapter from runner.py's own Unit objects."""

    def make_unit(self, case, variant, mode, outcomes, sample=None):
        exp = expect.Expectation(path=Path("x"), exit=2 if variant == "bad" else 0,
                                 first_line="fatal error: concurrent map writes" if variant == "bad" else None,
                                 stdout=None if variant == "bad" else "DONE")
        u = units.Unit(case=case, variant=variant, mode=mode, expect=exp, runs=len(outcomes), binary=Path("/nope"))
        for k, o in enumerate(outcomes):
            first = "fatal error: concurrent map writes" if o == base.MATCHED and variant == "bad" else ""
            rec = units.RunRecord(k, 100 + k, o, "", 2 if first else 0, None, first, 1.0 + k)
            u.records.append(rec)
            u.counts[o] += 1
            u.times.append(rec.ms)
        if sample is not None:
            u.sample = (u.records[sample], TIMELINE)
        return u

    def test_cards_rates_and_the_preferred_sample(self):
        tree = fakes.FakeTree()
        self.addCleanup(tree.cleanup)
        tree.add_case("2.2-x", title="many writers <b>", section="2.2")
        (tree.root / "docs" / "cases").mkdir(parents=True)
        (tree.root / "docs" / "cases" / "2.2-x.md").write_text("# Many writers\n")
        case = manifest.load_manifest(tree.cases_dir / "manifest.tsv")[0]
        case.go_article = "39/100"
        units = [self.make_unit(case, "bad", "natural", [base.MATCHED, base.NOT_REPRODUCED] * 2, sample=0),
                 self.make_unit(case, "bad", "forced", [base.MATCHED] * 3, sample=2),
                 self.make_unit(case, "fixed", "forced", [base.MATCHED] * 3)]
        results, cards = html_report.from_units(units, tree.root, tree.expected_dir)
        self.assertEqual([(r.variant, r.mode, r.matched, r.runs) for r in results],
                         [("bad", "natural", 2, 4), ("bad", "forced", 3, 3), ("fixed", "forced", 3, 3)])
        self.assertEqual(len(cards), 1)
        card = cards[0]
        self.assertEqual(card.expected_first_line, "fatal error: concurrent map writes")
        self.assertEqual(card.writeup, "# Many writers\n")
        self.assertIn("bad forced run 2", card.sample_label)  # forced preferred over natural
        page = html_report.render_page(results, cards)
        self.assertIn("here: <b>2/4 (50%)</b>", page)
        self.assertIn("<b>39/100 (39%)</b>", page)
        self.assertEqual(parse(page).svgs[0]["detected"], 1)


class RunnerHtmlOptionTests(fakes.TreeTestCase):
    """runner.py --html and -v end to end on a fake tree whose bad run prints a timeline."""

    BODY = """
if [ "$variant" = bad ]; then
  printf 'fatal error: concurrent map writes\\n\\nthread 3 "writer" [running]:\\n\\nwrite flag held by thread 2 "other" [map write]:\\n' >&2
  printf '\\nmap timeline, oldest first (GOMAP_TIMELINE=%s):\\n' "$GOMAP_TIMELINE" >&2
  printf '  +0.000us thread 2 "other" map write: entered\\n  +0.100us thread 2 "other" map write: write flag set\\n' >&2
  printf '  +50.000us thread 3 "writer" map write: entered\\n  +50.200us thread 3 "writer" map write: detected\\n' >&2
  exit 2
fi
echo DONE
"""

    def test_html_report_of_a_run(self):
        self.tree.add_case("2.2-x", body=self.BODY, title="writers & <readers>", section="2.2")
        self.tree.add_case("control-gc-only", group="control", variants="control")
        out = self.tree.tmp / "report.html"
        proc = self.tree.run("--runs", "3", "--mode", "both", "--html", str(out))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        page = out.read_text()
        tree = parse(page)
        self.assertEqual(len(tree.with_class("table", "results")), 1)
        self.assertEqual(len([a for t, a in tree.tags if t == "tr" and a.get("class") == "pass"]), 6)
        self.assertEqual([c["id"] for c in tree.with_class("section", "card")], ["case-2.2-x", "case-control-gc-only"])
        self.assertEqual(len(tree.svgs), 1)
        self.assertEqual((tree.svgs[0]["card"], tree.svgs[0]["lanes"], tree.svgs[0]["detected"]),
                         ("case-2.2-x", 2, 1))
        self.assertIn("writers &amp; &lt;readers&gt;", page)
        self.assertIn("here: <b>3/3 (100%)</b>", page)

    def test_verbose_draws_the_timeline_after_the_output(self):
        self.tree.add_case("2.2-x", body=self.BODY)
        proc = self.tree.run("--runs", "1", "-v", "--variant", "bad")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("(GOMAP_TIMELINE=1):", proc.stdout)  # the runner sets it for every run
        chart = proc.stdout.split("--- timeline\n", 1)[1]
        self.assertRegex(chart, r'thread 2 "other"\s+\|>[.>]*=+\| map write')
        self.assertRegex(chart, r'thread 3 "writer"\s+\|\.+>\.*X\| map write')

    def test_explain_runs_the_bad_variant_once_for_its_timeline(self):
        self.tree.add_case("2.2-x", body=self.BODY)
        proc = self.tree.run("--explain", "2.2-x")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("== timeline of one forced run ==", proc.stdout)
        self.assertRegex(proc.stdout, r'thread 3 "writer"\s+\|\.+>\.*X\|')
        (self.tree.bin_dir / "2.2-x").unlink()
        proc = self.tree.run("--explain", "2.2-x")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("not built yet", proc.stdout)


class GoTwinCardTests(unittest.TestCase):
    """The card of an --against-go run over both map generations shows each
    generation's C rate beside the twin built by that generation's Go."""

    class Side:
        def __init__(self, generation, matched, done, skipped=None):
            self.generation, self.done, self.skipped = generation, done, skipped
            self.counts = {base.MATCHED: matched}

    class Pair:
        def __init__(self, case, variant, c, go, first):
            self.case, self.variant, self.c, self.go, self._first = case, variant, c, go, first

        def signatures(self):
            return (2, self._first), (2, self._first)

        def agree(self):
            return True

    def test_both_generations_beside_their_own_go(self):
        from gomaprun.reports import against_go
        case = type("Case", (), {"id": "2.1-read-write-pair"})()
        line = "fatal error: concurrent map read and map write"
        pairs = [self.Pair(case, "bad", self.Side("bucket", 81, 200), self.Side("bucket", 29, 200), line),
                 self.Pair(case, "bad", self.Side("swiss", 120, 200), self.Side("swiss", 9, 200), line)]
        cells = against_go.html_cells(pairs, {"bucket": "go1.19.8", "swiss": "go1.26.8"})
        self.assertEqual(list(cells["2.1-read-write-pair"]), ["bad, bucket map", "bad, swiss map"])
        card = html_report._go_twin(cells["2.1-read-write-pair"])
        self.assertIn("<b>bad, bucket map</b> <span class=\"c\">C: <b>81/200</b>", card)
        self.assertIn("Go twin (go1.19.8): <b>29/200</b>", card)
        self.assertIn("<b>bad, swiss map</b> <span class=\"c\">C: <b>120/200</b>", card)
        self.assertIn("Go twin (go1.26.8): <b>9/200</b>", card)
        # One generation: the variant alone labels the row, as before.
        one = against_go.html_cells(pairs[1:], {"swiss": "go1.26.8"})
        self.assertEqual(list(one["2.1-read-write-pair"]), ["bad"])


if __name__ == "__main__":
    unittest.main()
