"""Fake source trees for the runner's tests.

A fake tree has the layout the runner expects (cases/manifest.tsv,
expected/<id>.<variant>.expect, build/cases/<id>) but its cases are tiny
shell scripts, so the tests do not depend on the real catalogue or on a build.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import textwrap
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
RUNNER = REPO / "runner.py"

sys.path.insert(0, str(REPO))
# The runner's layers, as the tests use them.
from gomaprun import base, cmdline, execution  # noqa: E402
from gomaprun import main as entry  # noqa: E402
from gomaprun.catalogue import expect, manifest, sources  # noqa: E402
from gomaprun.judges import recorder, signature, tsan  # noqa: E402
from gomaprun.reports import html, json_report, junit, matrix, text, timeline  # noqa: E402
from gomaprun.runloop import units  # noqa: E402

MANIFEST_HEADER = "id\tgroup\tsection\tvariants\ttitle\tgo_article\tgo_signature\n"

# Parses the shared command line of a case into $variant, $mode and $seed.
SCRIPT_PROLOGUE = """#!/bin/sh
variant=bad mode=forced seed=0
while [ $# -gt 0 ]; do
  case "$1" in
    --variant) variant=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) echo "bad argument $1" >&2; exit 64 ;;
  esac
done
"""

# A case that behaves like a good one: bad prints a report and exits 2, the
# fixed and control variants print DONE.
GOOD_BODY = """
if [ "$variant" = bad ]; then
  printf 'fatal error: concurrent map writes\\n\\nthread 3 "writer" [running]:\\ngomap_set(...)\\n\\t/src/core/map.c:88 +0x5a\\n\\nwrite flag held by thread 2 "other" [map write]:\\ngomap_set(...)\\n' >&2
  exit 2
fi
echo DONE
"""

BAD_EXPECT = """# the detector fires on the second writer
exit: 2
first-line: fatal error: concurrent map writes
contains: ^thread N .*\\[running\\]:$
contains: held by thread N .*map write
absent: ^panic:
"""

FIXED_EXPECT = """exit: 0
stdout: DONE
absent: fatal error
"""

# A case whose bad variant fails with a wrong first line when its seed is odd.
SEED_PARITY_BODY = """
if [ "$variant" = bad ]; then
  if [ $((seed % 2)) -eq 0 ]; then
    printf 'fatal error: concurrent map writes\\n\\nthread 3 "w" [running]:\\n\\nwrite flag held by thread 2 "o" [map write]:\\n' >&2
  else
    printf 'fatal error: concurrent map read and map write (seed %s)\\n' "$seed" >&2
  fi
  exit 2
fi
echo DONE
"""


# A stand-in for the Go toolchain: `go env ...` prints the version and
# platform the runner asks for; `go build`/`go test -c` "build" a fake twin by
# copying the first .go file named (a shell script) to -o's path; every
# command is logged to go.log beside the script.
FAKE_GO = """#!/bin/sh
here=$(dirname "$0")
echo "$*" >> "$here/go.log"
case "$1" in
  env) echo "{version}"; echo linux; echo amd64; echo 1; echo "$here/cache" ;;
  build|test)
    out= src=
    while [ $# -gt 0 ]; do
      case "$1" in
        -o) out=$2; shift 2 ;;
        *.go) [ -z "$src" ] && src=$1; shift ;;
        *) shift ;;
      esac
    done
    case "$out" in *.so) : > "$out"; exit 0 ;; esac
    cp "$src" "$out" && chmod +x "$out" ;;
  *) echo "fake go: unknown command $1" >&2; exit 2 ;;
esac
"""

# A Go twin that behaves like GOOD_BODY's case in Go's words: bad ends with
# Go's fatal error and a goroutine traceback, the others print DONE.
GOOD_TWIN_BODY = """
if [ "$variant" = bad ]; then
  printf 'fatal error: concurrent map writes\n\ngoroutine 7 [running]:\nruntime.throw({0x4b7c2e?, 0x0?})\nmain.writer()\n' >&2
  exit 2
fi
echo DONE
"""


class FakeTree:
    """A temporary source tree with fake cases; removed by cleanup()."""

    def __init__(self, name="tree"):
        self.tmp = Path(tempfile.mkdtemp(prefix="runner-test-"))
        self.root = self.tmp / name
        self.cases_dir = self.root / "cases"
        self.expected_dir = self.root / "expected"
        self.bin_dir = self.root / "build" / "cases"
        for d in (self.cases_dir, self.expected_dir, self.bin_dir):
            d.mkdir(parents=True)
        self.rows = []

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def add_case(self, cid, group="article", variants="bad,fixed", body=GOOD_BODY, expects=None,
                 title="a fake case", section="-"):
        """Add a case whose executable is a shell script running `body`."""
        self.rows.append("\t".join([cid, group, section, variants, title, "-", "-"]) + "\n")
        self.write_manifest()
        if expects is None:
            expects = {}
            for v in variants.split(","):
                expects[v] = BAD_EXPECT if v == "bad" else FIXED_EXPECT
        for v, text in expects.items():
            (self.expected_dir / f"{cid}.{v}.expect").write_text(textwrap.dedent(text))
        if body is not None:
            self.write_script(cid, body)

    def write_script(self, cid, body):
        exe = self.bin_dir / cid
        exe.write_text(SCRIPT_PROLOGUE + textwrap.dedent(body))
        exe.chmod(0o755)

    def add_twin(self, cid, body=GOOD_TWIN_BODY, constraint=None, test=False):
        """Add a case's Go twin: cases/<id>.go (or <id>_test.go), a shell script
        the fake toolchain copies; `constraint` adds a //go:build line."""
        name = f"{cid}_test.go" if test else f"{cid}.go"
        head = SCRIPT_PROLOGUE
        if constraint:
            # The constraint line sits in a here-document the shell ignores.
            head = head.replace("#!/bin/sh\n", f"#!/bin/sh\n: <<'GOHEADER'\n//go:build {constraint}\n\n"
                                               "package main\nGOHEADER\n", 1)
        (self.cases_dir / name).write_text(head + textwrap.dedent(body))
        (self.cases_dir / "twin_main.go").write_text("package main\n")

    def fake_go(self, version="go1.19.8"):
        """Write the fake toolchain; return its path (pass it as GO=...)."""
        d = self.tmp / "toolchain"
        d.mkdir(exist_ok=True)
        go = d / "go"
        go.write_text(FAKE_GO.replace("{version}", version))
        go.chmod(0o755)
        return go

    def write_manifest(self, text=None):
        (self.cases_dir / "manifest.tsv").write_text(text if text is not None else MANIFEST_HEADER + "".join(self.rows))

    def argv(self, *args, build=False):
        """The runner's command line for this tree; --no-build unless `build`."""
        return [sys.executable, str(RUNNER), "--root", str(self.root), *([] if build else ["--no-build"]), *args]

    def run(self, *args, timeout=60, env=None, build=False, **kw):
        """Run the runner on this tree; return the CompletedProcess (text)."""
        full_env = dict(os.environ)
        full_env.pop("COLUMNS", None)
        if env:
            full_env.update(env)
        return subprocess.run(self.argv(*args, build=build), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=timeout, env=full_env, **kw)


class TreeTestCase(unittest.TestCase):
    """A test case with a fresh fake tree in self.tree."""

    def setUp(self):
        self.tree = FakeTree()
        self.addCleanup(self.tree.cleanup)

    def assertNoTraceback(self, proc):
        self.assertNotIn("Traceback", proc.stderr)
        self.assertNotIn("Traceback", proc.stdout)

    def assertClosingLine(self, proc, passed, failed, skipped=0):
        lines = proc.stdout.rstrip("\n").split("\n")
        want = f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "")
        self.assertEqual(lines[-1], want, proc.stdout + proc.stderr)


def pid_alive(pid):
    """Whether a process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def still_alive(pid, patience=3.0):
    """Whether a process is still alive after waiting up to `patience` seconds
    for it to die (a killed process takes a moment to go)."""
    deadline = time.monotonic() + patience
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return True
        time.sleep(0.01)
    return False


# ---------------------------------------------------------------------------
# Explore mode (runner.py --mode explore)
# ---------------------------------------------------------------------------

# The command line of an exploration and of a replay: also --bound and
# --schedule, recorded in $bound and $schedule.
EXPLORE_PROLOGUE = """#!/bin/sh
variant=bad mode=forced seed=0 bound= schedule=
while [ $# -gt 0 ]; do
  case "$1" in
    --variant) variant=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --bound) bound=$2; shift 2 ;;
    --schedule) schedule=$2; shift 2 ;;
    *) echo "bad argument $1" >&2; exit 64 ;;
  esac
done
"""

# A replay's flight-recorder block: a writer and a reader on one map.
FAKE_TIMELINE = """
map timeline, oldest first (GOMAP_TIMELINE=1):
  +0.000us thread 2 "writer" map write: entered
  +0.500us thread 2 "writer" map write: write flag set
  +1.000us thread 3 "reader" map read: entered
"""


def explore_summary(variant="bad", schedules=10, exhausted=True, ends=None, overlapping=4, blind_spots=2,
                    shortest="5:2", blind="8:1", other_ends=(), max_schedules=1000000, bound=2, cut_short=0):
    """An exploration's summary line, shaped as harness/harness.h documents it."""
    import json
    if ends is None:
        ends = {"clean": 6, "fatal error: concurrent map writes": 4} if variant == "bad" else {"clean": schedules}
    reported = sum(n for e, n in ends.items() if e.startswith(("fatal error: ", "panic: ")))
    clean = ends.get("clean", 0)
    return json.dumps({
        "case": "x", "variant": variant, "mode": "explore", "bound": bound, "max_schedules": max_schedules,
        "seed": 1, "loops": 2, "threads": 2, "size": 4, "schedules": schedules, "exhausted": exhausted,
        "elapsed_s": 0.25, "schedules_per_s": 40, "ends": ends, "clean": clean, "reported": reported,
        "overlapping": overlapping, "blind_spots": blind_spots, "other": schedules - clean - reported,
        "cut_short": cut_short, "other_ends": [dict(o) for o in other_ends],
        "shortest_detecting": shortest if reported else None, "blind_spot_example": blind if blind_spots else None,
        "max_choice_points": 9}, separators=(",", ":"))


def explore_body(summaries, status=0, detect_line="fatal error: concurrent map writes", detect_status=2,
                 blind_status=0, log=None):
    """A case program for explore mode: per variant, `summaries[variant]`
    is its summary line (exit `status`); --schedule 5:2 replays a detecting
    ordering (first line `detect_line`, exit `detect_status`) and 8:1 a
    blind spot (exit `blind_status`), both with a timeline under
    GOMAP_TIMELINE=1. `log`: a file each command line is appended to."""
    lines = []
    if log:
        lines.append(f'echo "$variant $mode $bound $schedule $GOMAP_TIMELINE" >> {log}')
    lines.append('if [ "$mode" != explore ]; then echo "fake: only explore mode" >&2; exit 64; fi')
    lines.append('if [ "$schedule" = 5:2 ]; then')
    lines.append(f"  printf '%s\\n\\nthread 3 \"reader\" [running]:\\n' '{detect_line}' >&2")
    lines.append(f"  [ \"$GOMAP_TIMELINE\" = 1 ] && cat >&2 <<'TL'\n{FAKE_TIMELINE}TL")
    lines.append(f"  exit {detect_status}\nfi")
    lines.append('if [ "$schedule" = 8:1 ]; then')
    lines.append("  echo 'explore: an unprotected overlap on the map ended without a report' >&2")
    lines.append(f"  [ \"$GOMAP_TIMELINE\" = 1 ] && cat >&2 <<'TL'\n{FAKE_TIMELINE}TL")
    lines.append(f"  echo DONE; exit {blind_status}\nfi")
    lines.append('case "$variant" in')
    for v, line in summaries.items():
        lines.append(f"  {v}) cat <<'SUMMARY'\n{line}\nSUMMARY\n  ;;")
    lines.append("esac")
    lines.append(f"exit {status}")
    return "\n".join(lines) + "\n"


def add_explore_case(tree, cid, summaries, group="article", expects=None, **kw):
    """A case of `tree` whose program explores (see explore_body)."""
    variants = ",".join(summaries)
    tree.add_case(cid, group=group, variants=variants, body=None, expects=expects)
    exe = tree.bin_dir / cid
    exe.write_text(EXPLORE_PROLOGUE + explore_body(summaries, **kw))
    exe.chmod(0o755)
