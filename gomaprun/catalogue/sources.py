"""A case's own texts: its C source's header comment and its write-up."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional


def source_path(root: Path, case_id: str) -> Path:
    return root / "cases" / f"{case_id}.c"


def writeup_path(root: Path, case_id: str) -> Path:
    return root / "docs" / "cases" / f"{case_id}.md"


def read_writeup(root: Path, case_id: str) -> Optional[str]:
    """The case's write-up, or None when it has none."""
    try:
        return writeup_path(root, case_id).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def source_header(text: str) -> Optional[str]:
    """The leading /* ... */ comment of a C file, without its decoration."""
    s = text.lstrip()
    if not s.startswith("/*"):
        return None
    end = s.find("*/")
    if end < 0:
        return None
    lines = [re.sub(r"^\s*\*(?: |$)", "", line).rstrip() for line in s[2:end].split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def fix_from_header(header: str) -> Optional[str]:
    """The paragraph of a case header labelled 'Fix:' (or 'The fix:'), without its label.

    The label normally starts a line; a header whose lines were reflowed may
    have it mid-line. The paragraph runs to a blank line or to the next line
    that starts with a label of its own.
    """
    lines = header.split("\n")
    at_start = re.compile(r"^\s*(?:the\s+)?fix(?:ed)?\s*:\s*", re.IGNORECASE)
    inline = re.compile(r"\bFix:\s*")
    other_label = re.compile(r"^[A-Z][\w ,'()-]{0,30}:\s")
    for pattern in (at_start, inline):
        for i, line in enumerate(lines):
            m = pattern.search(line)
            if m:
                para = [line[m.end():].strip()]
                for more in lines[i + 1:]:
                    if not more.strip() or other_label.match(more):
                        break
                    para.append(more.strip())
                return " ".join(p for p in para if p)
    return None
