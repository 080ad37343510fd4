"""Choosing cases and variants from the command line."""

from __future__ import annotations

import fnmatch
from typing import List, Optional, Sequence

from ..base import VARIANTS, UsageError
from .manifest import GROUPS, Case


def select_cases(cases: Sequence[Case], patterns: Sequence[str]) -> List[Case]:
    """The cases named by ids, globs or group names, in manifest order."""
    if not patterns:
        return list(cases)
    chosen = set()
    for pat in patterns:
        if pat == "all":
            hits = [c.id for c in cases]
        elif pat in GROUPS or pat == "controls":
            group = "control" if pat == "controls" else pat
            hits = [c.id for c in cases if c.group == group]
        else:
            hits = [c.id for c in cases if fnmatch.fnmatchcase(c.id, pat)]
        if not hits:
            known = "\n  ".join(c.id for c in cases) or "(the manifest lists no cases)"
            what = (f"the pattern {pat!r} matches no case" if any(ch in pat for ch in "*?[")
                    else f"unknown case {pat!r}")
            raise UsageError(
                f"{what}; the known cases are:\n  {known}\n"
                f"groups: {', '.join(GROUPS)}, all"
            )
        chosen.update(hits)
    return [c for c in cases if c.id in chosen]


def parse_variants(values: Optional[Sequence[str]]) -> Optional[List[str]]:
    """--variant values (repeated or comma-separated) as a list; None when not given."""
    if not values:
        return None
    out = []
    for v in values:
        for part in v.split(","):
            part = part.strip()
            if part not in VARIANTS:
                raise UsageError(f"unknown variant {part!r}; the variants are {', '.join(VARIANTS)}")
            out.append(part)
    return out
