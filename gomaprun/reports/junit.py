"""The JUnit XML report: one test case per case, variant and mode."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Optional, Sequence

from .explore import explore_line
from ..base import DEFAULT_GENERATION, FAIL, INCOMPLETE, NOT_REPRODUCED, NOT_RUN, OUTCOME_LABELS, OUTCOMES, SKIPPED

_XML_BAD = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
DEFAULT_SUITE = "gomap-catalogue"


def _xml_text(s: str) -> str:
    return _XML_BAD.sub("?", s)


def test_name(u) -> str:
    """A unit's test name: `bad.forced`, and `.swiss` for another map
    generation than the default (the default's names predate generations)."""
    return f"{u.variant}.{u.mode}" + (f".{u.generation}" if u.generation != DEFAULT_GENERATION else "")


def junit_report(master_seed: int, units: Sequence, suite_name: Optional[str] = None) -> bytes:
    """The report's bytes; the suite is named by the units' judge unless `suite_name`."""
    if suite_name is None:
        suite_name = units[0].judge.suite if units else DEFAULT_SUITE
    failures = sum(1 for u in units if u.verdict() == FAIL)
    skipped = sum(1 for u in units if u.verdict() in (INCOMPLETE, NOT_RUN, SKIPPED))
    suites = ET.Element("testsuites")
    suite = ET.SubElement(suites, "testsuite", name=suite_name, tests=str(len(units)),
                          failures=str(failures), errors="0", skipped=str(skipped),
                          time=f"{sum(sum(u.times) for u in units) / 1000.0:.3f}")
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="seed", value=str(master_seed))
    generations = []
    for u in units:
        if u.generation not in generations:
            generations.append(u.generation)
    ET.SubElement(props, "property", name="map generations", value="+".join(generations) or DEFAULT_GENERATION)
    for u in units:
        tc = ET.SubElement(suite, "testcase", classname=f"{u.case.group}.{u.case.id}",
                           name=test_name(u), time=f"{sum(u.times) / 1000.0:.3f}")
        verdict = u.verdict()
        tally = ", ".join(f"{OUTCOME_LABELS[o][1]} {u.counts[o]}" for o in OUTCOMES)
        if u.explored is not None:
            tally = explore_line(u)
        if verdict == FAIL:
            first = u.failing[0] if u.failing else None
            actual = first.first_line if first else "(no run matched)"
            msg = f"expected: {u.expect.summary()} | actual: {actual}"
            if first:
                msg += f" | replay: {u.replay_text(first.seed)}"
            body = [u.failure_reason(), f"policy: {u.policy}", f"runs {u.done}: {tally}"]
            for r in u.failing:
                body.append(f"run {r.index} seed {r.seed}: {r.outcome}: {r.reason}")
                body.append(f"  first line: {r.first_line}")
                body.append(f"  replay: {u.replay_text(r.seed)}")
            fail = ET.SubElement(tc, "failure", message=_xml_text(msg),
                                 type=first.outcome if first else NOT_REPRODUCED)
            fail.text = _xml_text("\n".join(body))
        elif verdict == SKIPPED:
            ET.SubElement(tc, "skipped", message=_xml_text(u.skipped))
        elif verdict in (INCOMPLETE, NOT_RUN):
            ET.SubElement(tc, "skipped", message=f"{verdict}: {u.done} of {u.runs} runs")
        else:
            # Passing units show their counts too, so accepted outcomes of a
            # natural trigger (not reproduced, unseen corruption) are visible.
            ET.SubElement(tc, "system-out").text = f"policy: {u.policy}; runs {u.done}: {tally}"
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"
