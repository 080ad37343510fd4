"""Expected files: expected/<id>.<variant>.expect (the format: expected/FORMAT.md).

The only parser of the format. The runner's signature judge, the HTML
cards, --explain and the ThreadSanitizer judge (which reads the bad
variant's first line) all read expectations through load_expectation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from ..base import DEFAULT_GENERATION, GENERATIONS, UsageError


@dataclass
class Pattern:
    text: str
    regex: "re.Pattern[str]"
    lineno: int


@dataclass
class Expectation:
    path: Path
    exit: int
    first_line: Optional[str] = None
    stdout: Optional[str] = None
    natural_also: List[str] = field(default_factory=list)
    natural_also_match: List[Pattern] = field(default_factory=list)
    contains: List[Pattern] = field(default_factory=list)
    absent: List[Pattern] = field(default_factory=list)
    # Lines a Go twin's traceback must have (go-contains); the C report's
    # contains/absent do not apply to Go's output.
    go_contains: List[Pattern] = field(default_factory=list)
    # First lines a Go twin's natural run may also end with
    # (go-natural-also-match): Go's own map code faulting on a table racing
    # writers broke, which the C core reports as damage instead.
    go_natural_also_match: List[Pattern] = field(default_factory=list)
    # The map generation the file was read for: lines limited to another
    # generation (`key[swiss]: ...`) were left out.
    generation: str = DEFAULT_GENERATION

    def summary(self) -> str:
        """The expectation in a few words, for tables and messages."""
        if self.exit == 2:
            return self.first_line or ""
        return f"exit 0, {self.stdout}" if self.stdout else "exit 0"


_SINGLE_KEYS = ("exit", "first-line", "stdout")
_REPEAT_KEYS = ("natural-also", "natural-also-match", "contains", "absent", "go-contains",
                "go-natural-also-match")


def expect_path(expected_dir: Path, case_id: str, variant: str) -> Path:
    """Where a case's variant keeps its expected file."""
    return expected_dir / f"{case_id}.{variant}.expect"


# A repeatable key limited to one map generation: `natural-also[swiss]`.
_GENERATION_KEY_RE = re.compile(r"([a-z-]+)\[([^\]]*)\]")


def parse_expect_text(text: str, path: Path, generation: str = DEFAULT_GENERATION) -> Expectation:
    """Parse the text of an expected file for one map generation; `path` is
    only used in messages.

    A directive is `key: value`; the value is the rest of the line with
    surrounding blanks removed. A repeatable key may carry a generation in
    brackets (`natural-also[swiss]: ...`): the line then holds for that
    generation only, and is checked but left out for the others. Raises
    UsageError naming file and line.
    """
    single: Dict[str, Tuple[str, int]] = {}
    natural_also: List[str] = []
    natural_also_match: List[Pattern] = []
    contains: List[Pattern] = []
    absent: List[Pattern] = []
    go_contains: List[Pattern] = []
    go_natural_also_match: List[Pattern] = []
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip("\r")
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        where = f"{path}:{lineno}"
        key, sep, value = line.partition(":")
        key = key.strip()
        value = value.strip()
        if not sep:
            raise UsageError(f"{where}: expected 'key: value', found {stripped!r}")
        limited = _GENERATION_KEY_RE.fullmatch(key)
        other_generation = False
        if limited:
            key, only = limited.group(1), limited.group(2)
            if only not in GENERATIONS:
                raise UsageError(f"{where}: unknown map generation {only!r} in '{key}[{only}]' "
                                 f"(known: {', '.join(GENERATIONS)})")
            if key not in _REPEAT_KEYS:
                raise UsageError(f"{where}: only the repeatable keys ({', '.join(_REPEAT_KEYS)}) can be "
                                 f"limited to one generation, not '{key}'")
            other_generation = only != generation
        if key in _SINGLE_KEYS:
            if key in single:
                raise UsageError(f"{where}: '{key}' given twice (first on line {single[key][1]})")
            single[key] = (value, lineno)
        elif key == "natural-also":
            if not value:
                raise UsageError(f"{where}: 'natural-also' needs a first line")
            if not other_generation:
                natural_also.append(value)
        elif key in ("contains", "absent", "natural-also-match", "go-contains", "go-natural-also-match"):
            try:
                regex = re.compile(value)
            except re.error as e:
                raise UsageError(f"{where}: bad regular expression {value!r}: {e}") from None
            dest = {"contains": contains, "absent": absent, "natural-also-match": natural_also_match,
                    "go-contains": go_contains, "go-natural-also-match": go_natural_also_match}[key]
            if not other_generation:
                dest.append(Pattern(value, regex, lineno))
        else:
            known = ", ".join(_SINGLE_KEYS + _REPEAT_KEYS)
            raise UsageError(f"{where}: unknown key {key!r} (known: {known})")
    if "exit" not in single:
        raise UsageError(f"{path}: no 'exit:' line (every expected file says how the run ends)")
    exit_text, exit_line = single["exit"]
    if exit_text not in ("0", "2"):
        raise UsageError(f"{path}:{exit_line}: exit must be 0 or 2, not {exit_text!r}")
    exp = Expectation(
        path=path,
        exit=int(exit_text),
        natural_also=natural_also,
        natural_also_match=natural_also_match,
        contains=contains,
        absent=absent,
        go_contains=go_contains,
        go_natural_also_match=go_natural_also_match,
        generation=generation,
    )
    if exp.exit == 2:
        if "first-line" not in single:
            raise UsageError(f"{path}: 'exit: 2' needs a 'first-line:' line")
        if "stdout" in single:
            raise UsageError(f"{path}:{single['stdout'][1]}: 'stdout' goes only with 'exit: 0'")
        exp.first_line = single["first-line"][0]
        if not exp.first_line:
            raise UsageError(f"{path}:{single['first-line'][1]}: empty first line")
    else:
        for key in ("first-line",):
            if key in single:
                raise UsageError(f"{path}:{single[key][1]}: '{key}' goes only with 'exit: 2'")
        if natural_also or natural_also_match or go_contains or go_natural_also_match:
            key = ("natural-also" if natural_also else "natural-also-match" if natural_also_match
                   else "go-contains" if go_contains else "go-natural-also-match")
            raise UsageError(f"{path}: '{key}' goes only with 'exit: 2'")
        if "stdout" in single:
            exp.stdout = single["stdout"][0]
    return exp


def load_expectation(path: Path, generation: str = DEFAULT_GENERATION) -> Expectation:
    """Read and parse one expected file for a map generation; UsageError when missing or malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: expected file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: cannot read: {e}") from None
    return parse_expect_text(text, path, generation)
