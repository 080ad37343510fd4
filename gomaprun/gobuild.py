"""Layer 2: the Go toolchain and the Go twins' build (cases/go.md).

Each case's Go twin (cases/<id>.go, or cases/<id>_test.go for a test
binary) is built with the files cases/go.md names into
<build>/go/cases/<id>, where catalogue/command.py finds a case's executable
(case_binary with the Go build directory), so a twin takes the same command
line as the C case. Each core generation has its Go (GO_FOR_GENERATION):
the bucket core is set beside Go 1.19, the last map it ports being Go
1.23's. The toolchain is the generation's variable (`$GO119`) when set,
else `$GO`, else the Go that Debian's golang-1.19-go installs, else `go` on
PATH; its version is `go env GOVERSION`, and the twins print both it and
their map (`--banner`).

`go build` ignores build constraints on files named on its command line, so
the constraint line of each twin (`//go:build go1.21`) is read and
evaluated here first: a twin that needs a newer Go is not built and its
units are skipped with the reason ("needs Go 1.21").

A twin is rebuilt when one of its sources is newer than its executable or
the toolchain's version changed since the last build (a stamp file in the
output directory). GOCACHE is the user's unless Go has none (HOME unset,
GOCACHE=off): then it lies inside the build tree.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from .base import GO_INSTALL_HINT, UsageError, display_path
from .build import tail

# The twins' build directory below the source tree; executables are
# <GO_BUILD_DIR>/cases/<id> (catalogue.command.case_binary).
GO_BUILD_DIR = "build/go"
# Built into every twin: the shared command line.
TWIN_MAIN = "twin_main.go"
# The plugin twin 4.3 loads, and the name the host opens beside itself.
PLUGIN_HOST = "4.3-plugin-global-map"
PLUGIN_SOURCE = "plugin/4.3-plugin-store.go"
PLUGIN_OUTPUT = "4.3-plugin-store.so"
# Flags of every build; the 4.3 host and its plugin must share them.
BUILD_FLAGS = ("-trimpath",)
STAMP = ".goversion"


# Per core generation: the environment variable naming its Go, and where
# that Go is usually installed. Go 1.19 (Debian's golang-1.19-go) runs the
# bucket map the bucket core ports; Go 1.24 and later run Swiss tables.
GO_FOR_GENERATION = {
    "bucket": ("GO119", ("/usr/lib/go-1.19/bin/go",)),
}
# The first Go release whose map is Swiss tables.
SWISS_MAP_MINOR = 24


@dataclass(frozen=True)
class Toolchain:
    go: str  # the executable
    version: str  # go env GOVERSION, e.g. go1.19.8
    minor: int  # 19 for go1.19.8
    goos: str
    goarch: str
    cgo: bool
    cache_off: bool  # go env GOCACHE is empty or off

    @property
    def map_generation(self) -> str:
        """The map this Go runs: "bucket" before Go 1.24, "swiss" from it on."""
        return "bucket" if self.minor < SWISS_MAP_MINOR else "swiss"


def _named_go(environ: Mapping[str, str], generation: str) -> Optional[Tuple[str, str]]:
    """(variable, value) of the variable that names the Go to use, if any is set."""
    for var in (GO_FOR_GENERATION[generation][0], "GO"):
        value = environ.get(var, "").strip()
        if value:
            return var, value
    return None


def find_go(environ: Optional[Mapping[str, str]] = None, generation: str = "bucket") -> Optional[str]:
    """The Go toolchain's executable for a core generation: its variable
    ($GO119), else $GO, else its usual install path, else `go` on PATH; None
    when none of them is an executable."""
    environ = os.environ if environ is None else environ
    named = _named_go(environ, generation)
    if named:
        value = named[1]
        return shutil.which(value, path=environ.get("PATH")) if os.sep not in value else (
            value if os.access(value, os.X_OK) else None)
    for path in GO_FOR_GENERATION[generation][1]:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("go", path=environ.get("PATH"))


def missing_toolchain_message(environ: Optional[Mapping[str, str]] = None, generation: str = "bucket") -> str:
    environ = os.environ if environ is None else environ
    named = _named_go(environ, generation)
    var = GO_FOR_GENERATION[generation][0]
    where = (f"{named[0]}={named[1]} is not an executable" if named
             else f"no `go` on PATH (and neither {var} nor GO is set)")
    return (f"the Go twins need a Go toolchain: {where}; install it ({GO_INSTALL_HINT}) "
            f"or set {var}=/path/to/go")


def _go_minor(version: str) -> Optional[int]:
    m = re.match(r"go1\.(\d+)", version)
    return int(m.group(1)) if m else None


def toolchain(environ: Optional[Mapping[str, str]] = None) -> Toolchain:
    """Find the toolchain and ask its version; UsageError (exit 2) when missing or broken."""
    environ = dict(os.environ if environ is None else environ)
    go = find_go(environ)
    if go is None:
        raise UsageError(missing_toolchain_message(environ))
    try:
        proc = subprocess.run([go, "env", "GOVERSION", "GOOS", "GOARCH", "CGO_ENABLED", "GOCACHE"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=environ, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise UsageError(f"{go} env GOVERSION could not run: {e}; {GO_INSTALL_HINT}") from None
    lines = proc.stdout.decode("utf-8", "replace").split("\n")
    if proc.returncode != 0 or len(lines) < 5:
        raise UsageError(f"{go} env GOVERSION failed (exit status {proc.returncode}): "
                         f"{tail(proc.stderr.decode('utf-8', 'replace'), 5)}")
    version, goos, goarch, cgo, cache = (x.strip() for x in lines[:5])
    minor = _go_minor(version)
    if minor is None:
        raise UsageError(f"{go} env GOVERSION printed {version!r}, not a Go version like go1.19.8")
    return Toolchain(go, version, minor, goos, goarch, cgo == "1", cache in ("", "off"))


# --------------------------------------------------------------------------
# Build constraints
# --------------------------------------------------------------------------

_CONSTRAINT_RE = re.compile(r"^//go:build\s+(.+?)\s*$")
_TOKEN_RE = re.compile(r"\s*(\(|\)|&&|\|\||!|[A-Za-z0-9_.]+)")
_UNIX = {"aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "linux", "netbsd",
         "openbsd", "solaris"}


def build_constraint(source: Path) -> Optional[str]:
    """The `//go:build` expression of a Go file (before its package clause), or None."""
    try:
        text = source.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith("package "):
            return None
        m = _CONSTRAINT_RE.match(stripped)
        if m:
            return m.group(1)
    return None


def _tag_true(tag: str, tc: Toolchain) -> bool:
    minor = _go_minor(tag) if re.fullmatch(r"go1\.\d+", tag) else None
    if minor is not None:
        return minor <= tc.minor
    return tag in (tc.goos, tc.goarch, "gc") or (tag == "cgo" and tc.cgo) or (tag == "unix" and tc.goos in _UNIX)


def constraint_holds(expr: str, tc: Toolchain) -> bool:
    """Evaluate a //go:build expression (tags, !, &&, || and parentheses) for `tc`."""
    tokens = []
    pos = 0
    while pos < len(expr):
        m = _TOKEN_RE.match(expr, pos)
        if not m:
            raise UsageError(f"cannot read the build constraint {expr!r}")
        tokens.append(m.group(1))
        pos = m.end()
        while pos < len(expr) and expr[pos].isspace():
            pos += 1

    def parse_or(i: int) -> Tuple[bool, int]:
        value, i = parse_and(i)
        while i < len(tokens) and tokens[i] == "||":
            rhs, i = parse_and(i + 1)
            value = value or rhs
        return value, i

    def parse_and(i: int) -> Tuple[bool, int]:
        value, i = parse_not(i)
        while i < len(tokens) and tokens[i] == "&&":
            rhs, i = parse_not(i + 1)
            value = value and rhs
        return value, i

    def parse_not(i: int) -> Tuple[bool, int]:
        if i >= len(tokens):
            raise UsageError(f"cannot read the build constraint {expr!r}")
        if tokens[i] == "!":
            value, i = parse_not(i + 1)
            return not value, i
        if tokens[i] == "(":
            value, i = parse_or(i + 1)
            if i >= len(tokens) or tokens[i] != ")":
                raise UsageError(f"cannot read the build constraint {expr!r}")
            return value, i + 1
        if tokens[i] in (")", "&&", "||"):
            raise UsageError(f"cannot read the build constraint {expr!r}")
        return _tag_true(tokens[i], tc), i + 1

    value, end = parse_or(0)
    if end != len(tokens):
        raise UsageError(f"cannot read the build constraint {expr!r}")
    return value


def skip_reason(expr: str, tc: Toolchain) -> Optional[str]:
    """Why a twin with this constraint cannot be built by `tc` ("needs Go 1.21"), or None."""
    if constraint_holds(expr, tc):
        return None
    wanted = [_go_minor(t) for t in re.findall(r"\bgo1\.\d+\b", expr)]
    newer = [m for m in wanted if m is not None and m > tc.minor]
    if newer:
        return f"needs Go 1.{max(newer)}"
    return f"build constraint `{expr}` does not hold for {tc.version} {tc.goos}/{tc.goarch}"


# --------------------------------------------------------------------------
# The twins
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Twin:
    case_id: str
    main_source: Path  # cases/<id>.go or cases/<id>_test.go
    is_test: bool
    plugin_source: Optional[Path]  # the plugin the twin loads, if any

    @property
    def sources(self) -> List[Path]:
        extra = [self.plugin_source] if self.plugin_source else []
        return [self.main_source, self.main_source.parent / TWIN_MAIN] + extra


def find_twin(root: Path, case_id: str) -> Optional[Twin]:
    """A case's Go twin in the source tree, or None when it has none."""
    cases = root / "cases"
    plugin = cases / PLUGIN_SOURCE if case_id == PLUGIN_HOST else None
    main = cases / f"{case_id}.go"
    if main.is_file():
        return Twin(case_id, main, False, plugin)
    test = cases / f"{case_id}_test.go"
    if test.is_file():
        return Twin(case_id, test, True, plugin)
    return None


def build_commands(tc: Toolchain, twin: Twin, out_dir: Path) -> List[List[str]]:
    """The commands that build one twin into out_dir (cases/go.md, "Building")."""
    main_src = str(twin.main_source)
    shared = str(twin.main_source.parent / TWIN_MAIN)
    out = str(out_dir / twin.case_id)
    cmds = []
    if twin.plugin_source is not None:
        cmds.append([tc.go, "build", *BUILD_FLAGS, "-buildmode=plugin", "-o", str(out_dir / PLUGIN_OUTPUT),
                     str(twin.plugin_source)])
    if twin.is_test:
        cmds.append([tc.go, "test", "-c", *BUILD_FLAGS, "-o", out, main_src, shared])
    else:
        cmds.append([tc.go, "build", *BUILD_FLAGS, "-o", out, main_src, shared])
    return cmds


def _stale(twin: Twin, out_dir: Path, version_changed: bool) -> bool:
    outputs = [out_dir / twin.case_id] + ([out_dir / PLUGIN_OUTPUT] if twin.plugin_source else [])
    try:
        built = min(p.stat().st_mtime for p in outputs)
    except OSError:
        return True
    if version_changed:
        return True
    try:
        return max(p.stat().st_mtime for p in twin.sources) > built
    except OSError:
        return True


def go_environment(tc: Toolchain, build_dir: Path, environ: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """The environment of the go commands: GOCACHE inside the build tree when Go has none,
    and no GOFLAGS (the flags are this module's, as cases/go.md gives them)."""
    env = dict(os.environ if environ is None else environ)
    if tc.cache_off:
        env["GOCACHE"] = str(build_dir / "cache")
    env.pop("GOFLAGS", None)
    return env


@dataclass
class GoBuild:
    """What the build step found: the toolchain, and the twins it could not build, with why."""

    toolchain: Toolchain
    out_dir: Path  # the executables' directory, <build>/go/cases
    skipped: Dict[str, str]  # case id -> reason (needs Go 1.21, no twin)


def build_twins(root: Path, build_dir: Path, case_ids: Sequence[str], jobs: int, err,
                no_build: bool = False, environ: Optional[Mapping[str, str]] = None) -> GoBuild:
    """Build every twin of `case_ids` that the toolchain can build (at most `jobs` at once).

    Twins whose build constraint does not hold are skipped, with the reason;
    a failing build is a UsageError showing the command and its output.
    With `no_build`, nothing is built; the constraints are still read, so
    skipped twins are reported as such.
    """
    tc = toolchain(environ)
    out_dir = build_dir / "cases"
    skipped: Dict[str, str] = {}
    todo: List[Twin] = []
    stamp = out_dir / STAMP
    try:
        version_changed = stamp.read_text().strip() != tc.version
    except OSError:
        version_changed = True
    for cid in case_ids:
        twin = find_twin(root, cid)
        if twin is None:
            skipped[cid] = f"no Go twin (cases/{cid}.go)"
            continue
        expr = build_constraint(twin.main_source)
        reason = skip_reason(expr, tc) if expr else None
        if reason is not None:
            skipped[cid] = reason
            continue
        if not no_build and _stale(twin, out_dir, version_changed):
            todo.append(twin)
    if no_build or not todo:
        return GoBuild(tc, out_dir, skipped)
    t0 = time.monotonic()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create {display_path(out_dir)}: {e.strerror or e}") from None
    env = go_environment(tc, build_dir, environ)
    # A twin's commands run in order (the plugin before its host); twins run side by side.
    queue = [build_commands(tc, t, out_dir) for t in todo]
    running: List[Tuple[subprocess.Popen, List[str], List[List[str]]]] = []
    failure: Optional[str] = None
    while (queue or running) and failure is None:
        while queue and len(running) < max(1, jobs):
            cmds = queue.pop(0)
            running.append(_start(cmds[0], root, env) + (cmds[1:],))
        proc, argv, rest = running.pop(0)
        output, _ = proc.communicate()
        if proc.returncode != 0:
            failure = (f"building a Go twin failed (exit status {proc.returncode}): "
                       f"{' '.join(shlex.quote(a) for a in argv)}\n{tail(output.decode('utf-8', 'replace'))}")
        elif rest:
            running.insert(0, _start(rest[0], root, env) + (rest[1:],))
    for proc, _, _ in running:
        proc.kill()
        proc.wait()
    if failure is not None:
        raise UsageError(failure)
    try:
        stamp.write_text(tc.version + "\n")
    except OSError:
        pass
    err.write(f"built {len(todo)} Go twins with {tc.version} ({tc.map_generation} map): {display_path(out_dir)} "
              f"({time.monotonic() - t0:.1f}s)\n")
    return GoBuild(tc, out_dir, skipped)


def _start(argv: List[str], cwd: Path, env: Mapping[str, str]) -> Tuple[subprocess.Popen, List[str]]:
    try:
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, env=dict(env))
    except OSError as e:
        raise UsageError(f"{argv[0]} could not start: {e.strerror or e}; {GO_INSTALL_HINT}") from None
    return proc, argv
