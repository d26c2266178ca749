"""``junit.xml``: one test case per check plus one for the verdict, so existing test-report
tooling (GitLab, Jenkins, test-reporter actions) shows the gate beside the unit tests.

A failing check is a ``<failure>``, so is a not-applicable verdict (never a pass); a pipeline that errored is an ``<error>`` on the verdict
case (a fail and an error are different things); a skipped check is ``<skipped>``; a warning
passes with its message in ``<system-out>``."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from gate.result import Result

# XML 1.0 cannot carry most control characters (ANSI colour codes in a traceback, say);
# a parser rejects the whole file, so they are dropped.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
CLASSNAME = "overfit-gate"


def _text(s: str) -> str:
    return _INVALID_XML.sub("", s)


def build(result: Result) -> ET.Element:
    suite_name = f"overfit-gate [{result.name}]"
    suite = ET.Element("testsuite", name=_text(suite_name))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}

    verdict = ET.SubElement(suite, "testcase", classname=CLASSNAME, name="verdict", time=f"{result.duration_s:.3f}")
    counts["tests"] += 1
    if result.verdict in ("fail", "not_applicable"):
        # Not applicable is never a pass: a failure of its own type, so tooling shows it red.
        counts["failures"] += 1
        el = ET.SubElement(verdict, "failure", message=_text(result.reason), type=result.verdict)
        el.text = _text(result.reason)
    elif result.verdict == "error":
        counts["errors"] += 1
        err = result.error
        el = ET.SubElement(
            verdict,
            "error",
            message=_text(err.message if err else result.reason),
            type=_text(err.type if err else "error"),
        )
        el.text = _text((err.traceback or err.message) if err else result.reason)
    ET.SubElement(verdict, "system-out").text = _text(result.reason)

    for c in result.checks:
        case = ET.SubElement(suite, "testcase", classname=f"{CLASSNAME}.checks", name=_text(c.name), time="0")
        counts["tests"] += 1
        body = _text(c.message + (f"\nhint: {c.hint}" if c.hint else ""))
        if c.status == "fail":
            counts["failures"] += 1
            ET.SubElement(case, "failure", message=_text(c.message), type="fail").text = body
        elif c.status == "skip":
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=_text(c.message))
        elif c.status == "warn":
            ET.SubElement(case, "system-out").text = "warning: " + body
        else:
            ET.SubElement(case, "system-out").text = body

    suite.set("time", f"{result.duration_s:.3f}")
    for k, v in counts.items():
        suite.set(k, str(v))
    root = ET.Element("testsuites", name="overfit-gate", time=f"{result.duration_s:.3f}")
    for k, v in counts.items():
        if k != "skipped":
            root.set(k, str(v))
    root.append(suite)
    return root


def write_junit(result: Result, path: Path) -> Path:
    tree = ET.ElementTree(build(result))
    ET.indent(tree)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return path
