"""Layer 2: building the catalogue with CMake.

Two builds: the preset `default` (build/, the compiler CMake finds) and the
preset `tsan` (build-tsan/, clang -fsanitize=thread). A judge names the
preset it needs. A build directory without a CMake cache is configured
first (with the preset when it is the preset's own directory, with the
equivalent cache variables otherwise); then `cmake --build` brings it up to
date. Build output is shown only when a step fails.

`cmake --build` on a build with nothing to do still costs seconds (make
walks every target), so a successful build leaves a stamp in the build
directory: when no file of the source tree (build directories, hidden
directories and __pycache__ aside, and the Python and Markdown files, which
no build step compiles) nor the build's CMakeCache.txt is newer than the
stamp, and the executables the run needs exist, the build is
up to date and cmake is not called at all.

Each map generation (base.GENERATIONS) has builds of its own: the bucket
map's are the presets' directories (build/, build-tsan/), the swiss map's the
same with `-swiss` (build-swiss/, build-tsan-swiss/), configured with
GOMAP_GENERATION=swiss (preset_for). What a build really holds is asked of
its programs: a case program's --banner names its generation (no name: a
core from before the swiss generation, the bucket map); a build that holds
another generation than the one asked for is refused (check_generation).

A build directory belongs to one source tree (its CMakeCache.txt names it,
CMAKE_HOME_DIRECTORY): a tree copied with its build directory would build
the other tree's sources, so such a build directory is refused.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

from .base import DEFAULT_GENERATION, INSTALL_HINT, UsageError, display_path


@dataclass(frozen=True)
class Preset:
    name: str  # in CMakePresets.json
    build_dir: str  # the preset's binary directory, relative to the source tree
    cache_args: Tuple[str, ...]  # what the preset sets, for another build directory
    compiler: Optional[str]  # a compiler the preset requires, None for any C compiler
    label: str  # for messages: "building (ThreadSanitizer)"
    generation: str = DEFAULT_GENERATION  # the map generation it builds (GOMAP_GENERATION)


DEFAULT = Preset("default", "build", (), None, "")
TSAN = Preset("tsan", "build-tsan", ("-DCMAKE_C_COMPILER=clang", "-DGOMAP_SANITIZER=thread",
                                     "-DCMAKE_BUILD_TYPE=RelWithDebInfo"), "clang", "ThreadSanitizer")
PRESETS = {p.name: p for p in (DEFAULT, TSAN)}

# The banner line a case program prints first with --banner (harness.c).
_BANNER_RE = re.compile(r"^case \S+ variant \S+ mode \S+ seed \d+(?: generation (\S+))?$")
BANNER_TIMEOUT = 20.0


def preset_for(preset: Preset, generation: str) -> Preset:
    """`preset` building the map `generation`: itself for the default one;
    for another, the preset named `<name>-<generation>` (`default`: just
    `<generation>`) in `build-...-<generation>`, with GOMAP_GENERATION set."""
    if generation == preset.generation:
        return preset
    name = generation if preset.name == DEFAULT.name else f"{preset.name}-{generation}"
    label = f"{preset.label}, {generation} map" if preset.label else f"{generation} map"
    return Preset(name, f"{preset.build_dir}-{generation}",
                  preset.cache_args + (f"-DGOMAP_GENERATION={generation}",) if preset.cache_args
                  else ("-DCMAKE_BUILD_TYPE=RelWithDebInfo", f"-DGOMAP_GENERATION={generation}"),
                  preset.compiler, label, generation)


def _preset_defined(root: Path, name: str) -> bool:
    """Whether CMakePresets.json defines the configure preset `name`."""
    try:
        data = json.loads((root / "CMakePresets.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return any(isinstance(p, dict) and p.get("name") == name for p in data.get("configurePresets", ()))


def built_generation(build_dir: Path, probe: Sequence[str]) -> str:
    """The map generation a build holds, asked of one of its case programs:
    `probe` is a race-free run's argument vector, --banner is added; its
    first stderr line names the generation (a banner without one: the bucket
    map, the only one before generations had names). UsageError when the
    program prints no banner."""
    argv = list(probe) + ["--banner"]
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              timeout=BANNER_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise UsageError(f"cannot ask {display_path(Path(argv[0]))} its map generation (--banner): {e}") from None
    first = proc.stderr.decode("utf-8", "replace").split("\n", 1)[0]
    m = _BANNER_RE.match(first)
    if m is None:
        raise UsageError(f"{display_path(Path(argv[0]))} --banner printed {first!r}, not its banner "
                         "('case ID variant V mode M seed N generation G'); is it a case program of this tree?")
    return m.group(1) or DEFAULT_GENERATION


def check_generation(build_dir: Path, generation: str, probe: Sequence[str]) -> None:
    """UsageError when the build in `build_dir` holds another map generation than `generation`."""
    found = built_generation(build_dir, probe)
    if found == generation:
        return
    cached = cache_value(build_dir, "GOMAP_GENERATION")
    hint = (f"; its CMakeCache.txt says GOMAP_GENERATION={cached}, which this tree's CMake does not act on "
            f"(the tree has no {generation} core)") if cached == generation else ""
    raise UsageError(f"{display_path(build_dir)} holds the {found} map, not the {generation} map asked for: "
                     f"its case programs' --banner says generation {found}{hint}")


def tail(text: str, n: int = 40) -> str:
    return "\n".join(text.rstrip("\n").split("\n")[-n:])


def run_quietly(argv: List[str], cwd: Optional[Path], what: str) -> None:
    """Run a build command; show the tail of its output only when it fails."""
    try:
        proc = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    except OSError as e:
        raise UsageError(f"{what} could not start ({argv[0]}): {e.strerror or e}") from None
    if proc.returncode != 0:
        output = proc.stdout.decode("utf-8", "replace")
        raise UsageError(
            f"{what} failed (exit status {proc.returncode}): {' '.join(shlex.quote(a) for a in argv)}\n"
            f"{tail(output)}\n"
            f"(missing packages? {INSTALL_HINT})"
        )


def find_c_compiler() -> Optional[str]:
    cc = os.environ.get("CC")
    if cc:
        try:
            words = shlex.split(cc)
        except ValueError:
            words = []
        return shutil.which(words[0]) if words else None
    for name in ("cc", "gcc", "clang"):
        found = shutil.which(name)
        if found:
            return found
    return None


def build_dir_of(given: Optional[Path], root: Path, preset: Preset) -> Path:
    """The build directory: --build-dir when given, else the preset's own
    (pass the preset of the generation: preset_for)."""
    return (given or root / preset.build_dir).absolute()


# Left in a build directory by a successful build; its mtime is when that
# build started.
STAMP = ".runner-built"
# Directories of the source tree whose files are never a build's input.
_NOT_SOURCES = ("__pycache__", "node_modules")
# Files no build step compiles: the runner itself, its tests, the documents.
# (A new tests/runner/test_*.py is registered with ctest by the next
# cmake --build, which ctest's own workflow runs.)
_NOT_BUILT = (".py", ".pyc", ".md")


def newest_source_ns(root: Path, skip: Iterable[Path] = ()) -> int:
    """The newest mtime (ns) of the files of the source tree `root`, leaving
    out hidden directories, __pycache__ and every build directory (one with
    a CMakeCache.txt, or named build*)."""
    skipped = {os.path.abspath(p) for p in skip}
    top = os.path.abspath(root)
    newest = 0
    stack = [top]
    while stack:
        d = stack.pop()
        try:
            entries = list(os.scandir(d))
        except OSError:
            continue
        if d != top and any(e.name == "CMakeCache.txt" for e in entries):
            continue
        for e in entries:
            try:
                if e.is_dir(follow_symlinks=False):
                    if e.name.startswith(".") or e.name in _NOT_SOURCES or e.path in skipped \
                            or (d == top and e.name.startswith("build")):
                        continue
                    stack.append(e.path)
                elif not e.name.endswith(_NOT_BUILT):
                    newest = max(newest, e.stat().st_mtime_ns)
            except OSError:
                continue
    return newest


def up_to_date(root: Path, build_dir: Path, needed: Iterable[Path] = ()) -> bool:
    """Whether the last build of `build_dir` is newer than every source and
    its cache, and every executable in `needed` exists: no need to call cmake."""
    try:
        stamp = (build_dir / STAMP).stat().st_mtime_ns
        cache = (build_dir / "CMakeCache.txt").stat().st_mtime_ns
    except OSError:
        return False
    if cache >= stamp or not all(os.access(p, os.X_OK) for p in needed):
        return False
    return newest_source_ns(root, skip=(build_dir,)) < stamp


def cache_value(build_dir: Path, name: str) -> Optional[str]:
    """A variable of a build directory's CMakeCache.txt, None when absent."""
    try:
        text = (build_dir / "CMakeCache.txt").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.split(":", 1)[0] == name:
            return value
    return None


def check_source_tree(root: Path, build_dir: Path) -> None:
    """UsageError when `build_dir` was configured for another source tree."""
    home = cache_value(build_dir, "CMAKE_HOME_DIRECTORY")
    if home is None or os.path.realpath(home) == os.path.realpath(root):
        return
    raise UsageError(f"{display_path(build_dir)} was configured for the source tree {home}, not this one "
                     f"({root}); building it would compile that tree's sources. Remove it "
                     f"(rm -rf {shlex.quote(display_path(build_dir))}) to configure it afresh here, "
                     "or give another --build-dir")


def ensure_built(root: Path, build_dir: Path, preset: Preset, jobs: int, err,
                 needed: Iterable[Path] = ()) -> None:
    """Configure `build_dir` for `preset` if needed, then bring it up to date
    (nothing to do when its stamp says so and the executables in `needed` exist)."""
    check_source_tree(root, build_dir)
    needed = list(needed)
    if up_to_date(root, build_dir, needed):
        return
    cmake = shutil.which("cmake")
    if cmake is None:
        raise UsageError(f"cmake not found on PATH; install the build tools: {INSTALL_HINT}")
    if preset.compiler is not None and shutil.which(preset.compiler) is None:
        raise UsageError(f"{preset.compiler} not found on PATH: the {preset.label} build (preset {preset.name}) "
                         f"needs it (apt-get install {preset.compiler})")
    t0 = time.monotonic()
    configured = (build_dir / "CMakeCache.txt").is_file()
    suffix = f" the {preset.label} build" if preset.label else ""
    if not configured:
        if preset.compiler is None and find_c_compiler() is None:
            raise UsageError(f"no C compiler found (cc, gcc, clang or $CC); install one: {INSTALL_HINT}")
        if _same_path(build_dir, root / preset.build_dir) and _preset_defined(root, preset.name):
            run_quietly([cmake, "--preset", preset.name], root, f"configuring (cmake --preset {preset.name})")
        else:
            run_quietly([cmake, "-S", str(root), "-B", str(build_dir), *preset.cache_args], None,
                        f"configuring{suffix}")
    label = f" ({preset.label})" if preset.label else ""
    started = time.time_ns()
    run_quietly([cmake, "--build", str(build_dir), "-j", str(jobs)], None, f"building{label}")
    _write_stamp(build_dir, started)
    what = "configured and built" if not configured else "brought up to date"
    err.write(f"{what}: {display_path(build_dir)} ({time.monotonic() - t0:.1f}s)\n")


def check_executables(paths: Iterable[Path], no_build: bool, builder: str = "cmake --build") -> None:
    """UsageError naming every executable that is missing or not executable;
    `builder` says what makes them."""
    missing = sorted({str(p) for p in paths if not os.access(p, os.X_OK)})
    if missing:
        hint = f"build them ({builder}) or drop --no-build" if no_build else \
            "the build did not produce them; is every case listed in cases/manifest.tsv built?"
        raise UsageError("missing case executables: " + ", ".join(display_path(Path(m)) for m in missing)
                         + f"; {hint}")


def _same_path(a: Path, b: Path) -> bool:
    return os.path.abspath(a) == os.path.abspath(b)


def _write_stamp(build_dir: Path, started_ns: int) -> None:
    """Mark a successful build; the stamp's mtime is when the build started,
    so that a source saved during the build makes the next run build again."""
    stamp = build_dir / STAMP
    try:
        stamp.write_text("written by runner.py after a successful build; its mtime is when the build started\n")
        os.utime(stamp, ns=(started_ns, started_ns))
    except OSError:
        pass
