"""The registry: cases/manifest.tsv.

One line per case, tab-separated, with the columns of MANIFEST_COLUMNS:
the id (also the source name cases/<id>.c and the executable
<build>/cases/<id>), the group, the article's section, the variants, the
title, real Go's figures for the article's example, and the case's traits
(TRAITS, comma-separated, `-` for none): facts about a case that change how
it is judged, stated here once instead of naming the case in each judge. CMake builds the
cases listed here, the runner selects from here, and the registry test
(tests/runner/test_registry.py) checks that sources, expected files and the
executables' --list-variants agree with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

from ..base import VARIANTS, UsageError

GROUPS = ("article", "family", "control")

MANIFEST_COLUMNS = ("id", "group", "section", "variants", "title", "go_article", "go_signature", "traits")

# A data race the map's detector cannot see by design (len() racing
# writes): ThreadSanitizer must report it, the built-in detector never, and
# an exploration of it may overlap map operations.
UNCHECKED_RACE = "unchecked-race"
TRAITS = (UNCHECKED_RACE,)
CASE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass
class Case:
    id: str
    group: str
    section: str
    variants: List[str]
    title: str
    go_article: str
    go_signature: str
    traits: List[str] = field(default_factory=list)

    @property
    def unchecked_race(self) -> bool:
        """Whether the case is a data race the detector cannot see (UNCHECKED_RACE)."""
        return UNCHECKED_RACE in self.traits


def load_manifest(path: Path) -> List[Case]:
    """Return the cases listed in a manifest, in file order.

    Raises UsageError, naming the file and line, for anything malformed.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: manifest not found (is --root or --manifest right?)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: cannot read the manifest: {e}") from None
    cases: List[Case] = []
    seen: Dict[str, int] = {}
    header_seen = False
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        where = f"{path}:{lineno}"
        if not header_seen:
            if tuple(fields) != MANIFEST_COLUMNS:
                raise UsageError(
                    f"{where}: the header must be the tab-separated columns {' '.join(MANIFEST_COLUMNS)}"
                )
            header_seen = True
            continue
        if len(fields) != len(MANIFEST_COLUMNS):
            raise UsageError(
                f"{where}: expected {len(MANIFEST_COLUMNS)} tab-separated columns, found {len(fields)}"
            )
        cid, group, section, variants, title, go_article, go_signature, traits = fields
        if not CASE_ID_RE.match(cid):
            raise UsageError(f"{where}: bad case id {cid!r} (letters, digits, '.', '_' and '-' only)")
        if cid in seen:
            raise UsageError(f"{where}: case {cid} is already listed on line {seen[cid]}")
        if group not in GROUPS:
            raise UsageError(f"{where}: group must be one of {', '.join(GROUPS)}, not {group!r}")
        vlist = [v.strip() for v in variants.split(",")]
        if not vlist or any(v not in VARIANTS for v in vlist) or len(set(vlist)) != len(vlist):
            raise UsageError(f"{where}: variants must be 'bad,fixed' or 'control', not {variants!r}")
        tlist = [] if traits == "-" else [t.strip() for t in traits.split(",")]
        unknown = [t for t in tlist if t not in TRAITS]
        if unknown or len(set(tlist)) != len(tlist):
            raise UsageError(f"{where}: traits must be '-' or a comma-separated list of {', '.join(TRAITS)}, "
                             f"not {traits!r}")
        seen[cid] = lineno
        cases.append(Case(cid, group, section, vlist, title, go_article, go_signature, tlist))
    if not header_seen:
        raise UsageError(f"{path}: empty manifest (no header line)")
    return cases
