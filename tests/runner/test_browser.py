"""The HTML report in a real browser: headless Chromium opens the page that
runner.py --html wrote for a fake tree, without console errors, and its
screenshot shows the results table and one timeline per case that has one.

Skipped, saying so, when `chromium` is not on PATH (Debian: apt-get install
chromium). On failure the screenshot, the page and Chromium's log are kept
and their paths are printed.
"""

import html
import itertools
import json
import operator
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib
from pathlib import Path

import fakes

from fakes import timeline

CHROMIUM = shutil.which("chromium")
WINDOW = (1280, 2400)
BROWSER_TIMEOUT = 60.0

# A fake bad run whose report ends with a recorder block: the runner's
# timeline comes from here, not from the real cases.
TIMELINE_BODY = """
if [ "$variant" = bad ]; then
  printf 'fatal error: concurrent map writes\\n\\nthread 3 "writer" [running]:\\n\\nwrite flag held by thread 2 "other" [map write]:\\n' >&2
  printf '\\nmap timeline, oldest first (GOMAP_TIMELINE=1):\\n' >&2
  printf '  +0.000us thread 1 "main" map write: entered\\n  +0.010us thread 1 "main" map write: write flag set\\n' >&2
  printf '  +0.040us thread 1 "main" map write: write flag cleared\\n' >&2
  printf '  +60.000us thread 2 "other" map write: entered\\n  +60.100us thread 2 "other" map write: write flag set\\n' >&2
  printf '  +210.000us thread 3 "writer" map write: entered\\n  +210.300us thread 3 "writer" map write: detected\\n' >&2
  exit 2
fi
echo DONE
"""


def run_chromium(page: Path, shot: Path, workdir: Path, window=WINDOW, scale=None):
    """Screenshot `page`; return (exit status or None on timeout, Chromium's stderr).

    `scale` shrinks the screenshot (device pixels per CSS pixel) for tall pages.
    """
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={workdir / 'profile'}", "--enable-logging=stderr", "--v=0",
            *([f"--force-device-scale-factor={scale}"] if scale else []),
            f"--screenshot={shot}", f"--window-size={window[0]},{window[1]}", page.resolve().as_uri()]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, cwd=workdir)
    try:
        out, _ = proc.communicate(timeout=BROWSER_TIMEOUT)
        status = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        status = None
    # Chromium's helpers (zygote, GPU process) share its session; none may outlive it.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return status, out.decode("utf-8", "replace")


# Appended to a copy of a page by measure_layout: the page itself has no
# scripts. It writes what it measured into an attribute of <body>, which
# Chromium's --dump-dom then prints.
MEASURE_SCRIPT = """<script>(function () {
  var d = document.documentElement, out = [], tables = [];
  document.querySelectorAll("body *").forEach(function (e) {
    var r = e.getBoundingClientRect();
    if (r.right > d.clientWidth + 0.5 && !e.parentElement.closest(".scroll, pre"))
      out.push(e.tagName.toLowerCase() + "." + (e.getAttribute("class") || "") + " " + Math.round(r.right));
  });
  document.querySelectorAll("table").forEach(function (t) {
    tables.push([t.getAttribute("class") || "", Math.round(t.getBoundingClientRect().right)]);
  });
  document.body.setAttribute("data-layout", JSON.stringify(
    {scrollWidth: d.scrollWidth, clientWidth: d.clientWidth, outside: out, tables: tables}));
})();</script>"""


def measure_layout(page: Path, workdir: Path, window=WINDOW):
    """How `page` lays out in a window of `window` CSS pixels: the
    document's scrollWidth and clientWidth (the viewport without its
    scrollbar), the elements that reach past the viewport outside a scroll
    box, and every table's right edge; None when Chromium did not answer."""
    copy = workdir / "measured.html"
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE_SCRIPT + "</body>"),
                    encoding="utf-8")
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={workdir / 'profile'}", f"--window-size={window[0]},{window[1]}", "--dump-dom",
            copy.resolve().as_uri()]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            start_new_session=True, cwd=workdir)
    try:
        out, _ = proc.communicate(timeout=BROWSER_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    m = re.search(r'data-layout="([^"]*)"', out.decode("utf-8", "replace"))
    return json.loads(html.unescape(m.group(1))) if m else None


def console_errors(log: str, page: Path):
    """Lines of Chromium's log that report a console message from the page
    or an uncaught exception. The report has no scripts, so any console
    message from it is an error."""
    uri = page.resolve().as_uri()
    bad = []
    for line in log.splitlines():
        if "CONSOLE" not in line:
            continue
        if "Uncaught" in line or "ERROR:CONSOLE" in line or uri in line:
            bad.append(line)
    return bad


_LOW_BYTE = (255).__and__


def decode_png(data: bytes):
    """(width, height, rows of RGB(A) pixel tuples) of an 8-bit RGB or RGBA PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG signature")
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        if zlib.crc32(ctype + body) & 0xFFFFFFFF != crc:
            raise ValueError(f"bad CRC in chunk {ctype!r}")
        if ctype == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
        pos += 12 + length
    if ihdr is None:
        raise ValueError("no IHDR chunk")
    width, height, depth, colour, _, _, interlace = ihdr
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    if len(raw) != height * (stride + 1):
        raise ValueError(f"image data is {len(raw)} bytes, expected {height * (stride + 1)}")
    rows = []
    prev = bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if ftype == 1:
            # Each channel is a running sum of its own bytes, modulo 256.
            for c in range(bpp):
                line[c::bpp] = bytes(map(_LOW_BYTE, itertools.accumulate(line[c::bpp])))
        elif ftype == 2:
            line = bytearray(map(_LOW_BYTE, map(operator.add, line, prev)))
        elif ftype == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif ftype == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        elif ftype != 0:
            raise ValueError(f"bad filter type {ftype} on row {y}")
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def hex_rgb(colour: str) -> bytes:
    return bytes.fromhex(colour.lstrip("#"))


def rows_with(rows, bpp, rgb: bytes, at_least=3):
    """Indices of the rows holding at least `at_least` pixels of exactly `rgb`."""
    out = []
    for y, row in enumerate(rows):
        n = 0
        for x in range(0, len(row), bpp):
            if row[x:x + 3] == rgb:
                n += 1
                if n >= at_least:
                    out.append(y)
                    break
    return out


def blocks(ys, gap):
    """The groups [first, last] that sorted row indices form when rows closer than `gap` join."""
    out = []
    for y in ys:
        if out and y - out[-1][1] < gap:
            out[-1][1] = y
        else:
            out.append([y, y])
    return out


def clusters(ys, gap):
    return len(blocks(ys, gap))


def timelines(rows, bpp, min_height=20):
    """The row ranges of the timeline drawings: every row of one shows its
    background (in a margin no lane covers). Anti-aliased text can leave a
    stray pixel of any colour, hence the thresholds."""
    found = blocks(rows_with(rows, bpp, hex_rgb(timeline.SVG_BACKGROUND), at_least=6), 3)
    return [b for b in found if b[1] - b[0] >= min_height]


def build_dir():
    """The real build, when there is one: RUNNER_BUILD_DIR (set by ctest) or the tree's build/."""
    d = Path(os.environ.get("RUNNER_BUILD_DIR") or fakes.REPO / "build")
    return d if (d / "cases" / "2.1-read-write-pair").is_file() else None


@unittest.skipIf(CHROMIUM is None, "chromium is not on PATH: the HTML report is not checked in a browser "
                                   "(apt-get install chromium)")
class BrowserTests(unittest.TestCase):
    def setUp(self):
        self.work = Path(tempfile.mkdtemp(prefix="runner-browser-"))
        self.passed = False

        def cleanup():
            if self.passed:
                shutil.rmtree(self.work, ignore_errors=True)
            else:
                shutil.rmtree(self.work / "profile", ignore_errors=True)
                print(f"\nbrowser test kept its files in {self.work} (screenshot shot.png, page report.html, "
                      f"Chromium's log chromium.log)")
        self.addCleanup(cleanup)

    def where(self):
        return f" (screenshot: {self.work / 'shot.png'}, page: {self.work / 'report.html'}, log: {self.work / 'chromium.log'})"

    def screenshot(self, page: Path, window=WINDOW, scale=None):
        shot = self.work / "shot.png"
        status, log = run_chromium(page, shot, self.work, window, scale)
        (self.work / "chromium.log").write_text(log)
        self.assertIsNotNone(status, f"chromium did not finish within {BROWSER_TIMEOUT:g}s" + self.where())
        self.assertEqual(status, 0, f"chromium exited with status {status}" + self.where())
        self.assertTrue(shot.is_file(), "chromium wrote no screenshot" + self.where())
        return shot, log

    def test_a_run_report_renders_with_table_and_timelines(self):
        tree = fakes.FakeTree()
        self.addCleanup(tree.cleanup)
        tree.add_case("2.1-first", body=TIMELINE_BODY, title="two writers, one map", section="2.1")
        tree.add_case("clone-second", group="family", body=TIMELINE_BODY, title="clone while <writing>")
        tree.add_case("control-third", group="control", variants="control", title="never fails")
        (tree.root / "docs" / "cases").mkdir(parents=True)
        (tree.root / "docs" / "cases" / "2.1-first.md").write_text("# First\n\nWhy it fails.\n")
        page = self.work / "report.html"
        proc = tree.run("--runs", "3", "--mode", "both", "--html", str(page))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

        shot, log = self.screenshot(page)
        errors = console_errors(log, page)
        self.assertEqual(errors, [], "console errors from the page" + self.where())

        width, height, bpp, rows = decode_png(shot.read_bytes())
        self.assertEqual((width, height), WINDOW, self.where())
        colours = set()
        for row in rows[::40]:
            for x in range(0, len(row), bpp * 8):
                colours.add(row[x:x + 3])
        self.assertGreater(len(colours), 8, "the screenshot is (nearly) blank" + self.where())
        # The table: its 'pass' verdict cells are one block of green rows.
        table_rows = rows_with(rows, bpp, hex_rgb("#c6f6d5"), at_least=20)
        self.assertTrue(table_rows, "no verdict cells in the screenshot" + self.where())
        self.assertEqual(clusters(table_rows, 30), 1, self.where())
        # One timeline per case with a bad run, below the table, each with a
        # write-window bar and a detection mark inside it.
        drawn = timelines(rows, bpp)
        self.assertEqual(len(drawn), 2, f"expected two timelines, found rows {drawn}" + self.where())
        bar_rows = rows_with(rows, bpp, hex_rgb(timeline.WINDOW_COLOUR), at_least=5)
        red_rows = rows_with(rows, bpp, hex_rgb(timeline.DETECT_COLOUR), at_least=2)
        for y0, y1 in drawn:
            self.assertGreater(y0, table_rows[-1], self.where())
            self.assertGreater(y1 - y0, 80, f"timeline at rows {y0}-{y1} is too small" + self.where())
            self.assertTrue(any(y0 <= y <= y1 for y in bar_rows), f"no write window in rows {y0}-{y1}" + self.where())
            self.assertTrue(any(y0 <= y <= y1 for y in red_rows), f"no detection in rows {y0}-{y1}" + self.where())
        self.passed = True

    @unittest.skipIf(build_dir() is None, "no build of the real cases (build/cases): the full-run report is not checked")
    def test_the_report_of_a_full_run(self):
        # Every case of the real catalogue, forced, twice: one timeline per
        # case whose bad variant matched (a nil-map panic has no map and so
        # no timeline), and no console errors.
        page, js = self.work / "report.html", self.work / "runs.json"
        proc = subprocess.run(
            [sys.executable, str(fakes.RUNNER), "--no-build", "--build-dir", str(build_dir()), "--runs", "2",
             "--timeout", "20", "--html", str(page), "--json", str(js)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
        self.assertIn(proc.returncode, (0, 1), proc.stdout + proc.stderr)
        summary = json.loads(js.read_text())["summary"]
        with_timeline = {u["case"] for u in summary if u["variant"] == "bad" and u["matched"]
                         and not u["expected"].startswith("panic:")}
        self.assertTrue(with_timeline, "no bad case matched")
        # A full report is about 10,000 CSS pixels tall: shot at half scale.
        shot, log = self.screenshot(page, window=(1280, 16000), scale=0.5)
        self.assertEqual(console_errors(log, page), [], "console errors from the page" + self.where())
        width, height, bpp, rows = decode_png(shot.read_bytes())
        table_rows = rows_with(rows, bpp, hex_rgb("#c6f6d5"), at_least=10)
        self.assertTrue(table_rows, "no verdict cells in the screenshot" + self.where())
        drawn = timelines(rows, bpp)
        self.assertEqual(len(drawn), len(with_timeline),
                         f"expected {len(with_timeline)} timelines ({', '.join(sorted(with_timeline))}), "
                         f"found {len(drawn)}" + self.where())
        self.assertTrue(all(y0 > table_rows[-1] for y0, _ in drawn), self.where())
        widths = self.layout(page, (1280, 1200))
        self.assertLessEqual(widths["scrollWidth"], widths["clientWidth"], f"{widths}" + self.where())
        self.passed = True

    def test_the_against_go_cards(self):
        # --against-go on a fake tree with a fake toolchain: one case agrees
        # with its twin, one does not (its twin prints another message); each
        # card shows its mark, and the page has no console errors.
        tree = fakes.FakeTree()
        self.addCleanup(tree.cleanup)
        go = tree.fake_go()
        tree.add_case("2.1-agrees", body=TIMELINE_BODY, title="two writers, one map", section="2.1")
        tree.add_twin("2.1-agrees")
        tree.add_case("2.2-differs", body=TIMELINE_BODY, title="two writers, another message", section="2.2")
        tree.add_twin("2.2-differs", body=fakes.GOOD_TWIN_BODY.replace("map writes", "map read and map write"))
        env = {"GO": str(go)}
        proc = tree.run("--go", "--runs", "1", "--variant", "fixed", env=env, build=True)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        page = self.work / "report.html"
        proc = tree.run("--against-go", "--runs", "3", "--html", str(page), env=env)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("real Go, same program", page.read_text())
        shot, log = self.screenshot(page)
        self.assertEqual(console_errors(log, page), [], "console errors from the page" + self.where())
        width, height, bpp, rows = decode_png(shot.read_bytes())
        agree = rows_with(rows, bpp, hex_rgb(fakes.html.AGREE_BACKGROUND), at_least=5)
        disagree = rows_with(rows, bpp, hex_rgb(fakes.html.DISAGREE_BACKGROUND), at_least=5)
        # 2.1's card: agree marks for bad and fixed (one block of rows);
        # 2.2's: a disagreement for bad, then agree for fixed.
        self.assertEqual(clusters(disagree, 10), 1, self.where())
        self.assertEqual(clusters(agree, 10), 2, self.where())
        self.assertLess(agree[0], disagree[0], self.where())
        self.assertGreater(agree[-1], disagree[-1], self.where())
        self.passed = True

    def layout(self, page: Path, window):
        widths = measure_layout(page, self.work, window)
        self.assertIsNotNone(widths, f"chromium measured nothing at {window}" + self.where())
        return widths

    def test_the_page_fits_the_window(self):
        # The widest things a page holds: explore rows (13 columns) and
        # natural rows with long expected lines, a long observed first line,
        # a write-up with a table and a long code line, lane charts.
        report = fakes.html
        long_line = "fatal error: concurrent map iteration and map write"
        units = [report.UnitResult("4.4-testmain-parallel-subtests", "bad", "explore", long_line, 1, 1, 0, 0, 0,
                                   800.0, "pass", explore_cells=("12345", "yes", "678", "9012", "345", "12345",
                                                                 "0", "1234.5")),
                 report.UnitResult("clone-while-writing", "fixed", "explore", "no report, no overlap", 1, 1, 0,
                                   0, 0, 800.0, "pass", explore_cells=("2920", "yes", "-", "0", "0", "2920", "0",
                                                                       "2.2"))]
        plain = [report.UnitResult("4.4-testmain-parallel-subtests", "bad", "natural", long_line, 200, 150, 50, 0,
                                   0, 12345.6, "pass", {long_line + " and a very long tail " * 3: 150})]
        writeup = ("# Wide\n\n| operation | Go | core | nil or empty map |\n|---|---|---|---|\n"
                   + "| `m[k]`, `v, ok := m[k]` | `mapaccess1`, `mapaccess2` (+ `_fast64`, `_faststr`) "
                     "| `map_access` (`gomap_i64_get`, `gomap_str_get`, ...) | returns before the check |\n" * 3
                   + "\n```\n" + "x := veryLongIdentifier(" * 12 + "\n```\n")
        stderr = ("fatal error: concurrent map writes\n\nmap timeline, oldest first (GOMAP_TIMELINE=1):\n"
                  '  +0.000us thread 2 "writer" map write: entered\n'
                  '  +0.100us thread 2 "writer" map write: write flag set\n'
                  '  +50.000us thread 3 "a-thread-with-a-long-name" map iteration: entered\n'
                  '  +50.200us thread 3 "a-thread-with-a-long-name" map iteration: detected\n')
        card = report.CaseCard("4.4-testmain-parallel-subtests", "article", "4.4", "parallel subtests", "-", "-",
                               long_line, writeup=writeup, sample_stderr=stderr)
        for name, page_units in (("explore.html", units), ("natural.html", plain)):
            page = self.work / name
            page.write_text(report.render_page(page_units, [card], {"seed": 1}))
            # At 1280 pixels every table fits; the page never scrolls sideways.
            widths = self.layout(page, (1280, 1200))
            self.assertLessEqual(widths["scrollWidth"], widths["clientWidth"], f"{name}: {widths} (page: {page})")
            self.assertEqual(widths["outside"], [], f"{name}: {widths} (page: {page})")
            for cls, right in widths["tables"]:
                if "results" in cls.split():
                    self.assertLessEqual(right, widths["clientWidth"], f"{name}: {widths} (page: {page})")
            # Narrower, a table scrolls in its own box; the page still does not.
            widths = self.layout(page, (700, 1200))
            self.assertLessEqual(widths["scrollWidth"], widths["clientWidth"], f"{name}: {widths} (page: {page})")
            self.assertEqual(widths["outside"], [], f"{name}: {widths} (page: {page})")
        self.passed = True

    def test_the_blind_spot_chart_shows_the_overlap(self):
        # An explore card: the blind-spot ordering's chart draws the missed
        # read (solid from its entry) and shades the overlap, and the
        # writer's window bar lies inside the shaded time.
        from test_html import BLIND_SPOT  # the replay of 2.1's schedule 8:1
        report = fakes.html
        card = report.CaseCard("2.1-read-write-pair", "article", "2.1", "reads and writes", "0/100", "-",
                               "fatal error: concurrent map read and map write")
        card.explore_examples = [("an ordering Go misses: bad blind spot schedule 8:1 (no report)", BLIND_SPOT, True)]
        unit = report.UnitResult("2.1-read-write-pair", "bad", "explore", "x", 1, 1, 0, 0, 0, 1.0, "pass",
                                 explore_cells=("698", "yes", "68", "238", "170", "630", "0", "0.3"))
        page = self.work / "report.html"
        page.write_text(report.render_page([unit], [card]))
        shot, log = self.screenshot(page, window=(1280, 900))
        self.assertEqual(console_errors(log, page), [], "console errors from the page" + self.where())
        width, height, bpp, rows = decode_png(shot.read_bytes())
        [(y0, y1)] = timelines(rows, bpp)

        def xs(colour):
            rgb, found = hex_rgb(colour), set()
            for row in rows[y0:y1 + 1]:
                found.update(x // bpp for x in range(0, len(row), bpp) if row[x:x + 3] == rgb)
            return found
        read, band, bars = xs(timeline.MISSED_COLOUR), xs(timeline.OVERLAP_COLOUR), xs(timeline.WINDOW_COLOUR)
        self.assertTrue(read and band and bars, f"read {len(read)}, overlap {len(band)}, windows {len(bars)} "
                                                "pixel columns" + self.where())
        self.assertLess(min(read), min(band), "the read does not start before the overlap" + self.where())
        inside = {x for x in bars if min(band) <= x <= max(band)}
        self.assertGreater(len(inside), 10, "no write window inside the overlap" + self.where())
        self.assertGreater(max(band) - min(band), 60, "the overlap is too narrow to see" + self.where())
        self.passed = True

    def test_console_errors_are_noticed(self):
        # The check above must be able to fail: a page that throws is caught.
        page = self.work / "report.html"
        page.write_text("<!DOCTYPE html><html><body><p>broken</p><script>no_such_function();</script></body></html>")
        _, log = self.screenshot(page, window=(400, 300))
        self.assertTrue(console_errors(log, page), "an uncaught exception was not noticed" + self.where())
        self.passed = True


class PngDecoderTests(unittest.TestCase):
    """The decoder itself, on PNGs built here with every filter type."""

    def make_png(self, width, height, pixels, filters):
        def chunk(kind, body):
            return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        bpp, stride = 3, width * 3
        raw, prev = bytearray(), bytes(stride)
        for y in range(height):
            line = bytes(c for px in pixels[y] for c in px)
            f = filters[y % len(filters)]
            enc = bytearray(line)
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                if f == 1:
                    pred = a
                elif f == 2:
                    pred = b
                elif f == 3:
                    pred = (a + b) >> 1
                elif f == 4:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                else:
                    pred = 0
                enc[i] = (line[i] - pred) & 0xFF
            raw += bytes([f]) + enc
            prev = line
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b""))

    def test_round_trip_through_every_filter(self):
        w, h = 7, 10
        pixels = [[((x * 37 + y * 11) % 256, (x * y * 5) % 256, (255 - x * 19 - y) % 256) for x in range(w)]
                  for y in range(h)]
        data = self.make_png(w, h, pixels, [0, 1, 2, 3, 4])
        width, height, bpp, rows = decode_png(data)
        self.assertEqual((width, height, bpp), (w, h, 3))
        self.assertEqual([[tuple(r[i:i + 3]) for i in range(0, len(r), 3)] for r in rows], pixels)
        self.assertEqual(rows_with(rows, 3, bytes(pixels[4][2]), at_least=1)[0], 4)

    def test_corruption_is_noticed(self):
        data = bytearray(self.make_png(2, 2, [[(1, 2, 3)] * 2] * 2, [0]))
        data[40] ^= 0xFF
        with self.assertRaises(ValueError):
            decode_png(bytes(data))
        with self.assertRaises(ValueError):
            decode_png(b"GIF89a")


if __name__ == "__main__":
    unittest.main()
