"""Layer 2: building the catalogue with CMake.

Two builds: the preset `default` (build/, the compiler CMake finds) and the
preset `tsan` (build-tsan/, clang -fsanitize=thread). A judge names the
preset it needs. A build directory without a CMake cache is configured
first (with the preset when it is the preset's own directory, with the
equivalent cache variables otherwise); then `cmake --build` brings it up to
date, which costs well under a second when nothing is stale. Build output is
shown only when a step fails.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Tuple

from .base import INSTALL_HINT, UsageError, display_path


@dataclass(frozen=True)
class Preset:
    name: str  # in CMakePresets.json
    build_dir: str  # the preset's binary directory, relative to the source tree
    cache_args: Tuple[str, ...]  # what the preset sets, for another build directory
    compiler: Optional[str]  # a compiler the preset requires, None for any C compiler
    label: str  # for messages: "building (ThreadSanitizer)"


DEFAULT = Preset("default", "build", (), None, "")
TSAN = Preset("tsan", "build-tsan", ("-DCMAKE_C_COMPILER=clang", "-DGOMAP_SANITIZER=thread",
                                     "-DCMAKE_BUILD_TYPE=RelWithDebInfo"), "clang", "ThreadSanitizer")
PRESETS = {p.name: p for p in (DEFAULT, TSAN)}


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
    """The build directory: --build-dir when given, else the preset's own."""
    return (given or root / preset.build_dir).absolute()


def ensure_built(root: Path, build_dir: Path, preset: Preset, jobs: int, err) -> None:
    """Configure `build_dir` for `preset` if needed, then bring it up to date."""
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
        if _same_path(build_dir, root / preset.build_dir) and (root / "CMakePresets.json").is_file():
            run_quietly([cmake, "--preset", preset.name], root, f"configuring (cmake --preset {preset.name})")
        else:
            run_quietly([cmake, "-S", str(root), "-B", str(build_dir), *preset.cache_args], None,
                        f"configuring{suffix}")
    label = f" ({preset.label})" if preset.label else ""
    run_quietly([cmake, "--build", str(build_dir), "-j", str(jobs)], None, f"building{label}")
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
