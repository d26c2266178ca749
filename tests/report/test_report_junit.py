"""junit.xml from a Result alone (gate/report/junit.py): a fail is a failure, an error an error,
and control characters never make the XML invalid."""

from __future__ import annotations

from pathlib import Path

from tests.report.samples import errored, junit_root, nan_fail, passing


def test_junit_pass_counts(tmp_path: Path) -> None:
    root = junit_root(tmp_path, passing())
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["verdict", "gradient_flow", "batch_mixing", "causality"]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        "4",
        "0",
        "0",
        "1",
    )
    assert root.get("tests") == "4" and root.get("failures") == "0"
    assert cases[3].find("skipped") is not None
    assert "warning: output row 0" in (cases[2].findtext("system-out") or "")


def test_junit_fail_counts_failures(tmp_path: Path) -> None:
    root = junit_root(tmp_path, nan_fail())
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "2", "0")
    failures = suite.findall("testcase/failure")
    assert (failures[0].get("message") or "").startswith("the loss became nan")
    assert "hint: detach nothing" in (failures[1].text or "")


def test_junit_error_is_an_error_not_a_failure(tmp_path: Path) -> None:
    r = errored()
    assert r.error is not None
    r.error.traceback += "\x1b[31mred\x1b[0m \x00 control chars\n"  # invalid in XML 1.0
    root = junit_root(tmp_path, r)
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("failures"), suite.get("errors")) == ("0", "1")
    err = suite.find("testcase/error")
    assert err is not None and err.get("type") == "ValueError"
    assert "[31mred" in (err.text or "") and "Traceback (most recent call last)" in (err.text or "")
