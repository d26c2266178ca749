"""The report folder (gate/report/__init__.py): every file written, one broken writer never loses
the others, the event named on the plot, and a not-applicable result never reads as a pass.
report.md, junit.xml and the series helpers have their own test files beside this one."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.report import write_reports
from gate.report.markdown import render_markdown
from gate.result import Result
from tests.report.samples import assert_well_formed, diverged, junit_root, nan_fail, not_applicable, passing


def test_write_reports_writes_every_file(tmp_path: Path) -> None:
    r = nan_fail()
    written = write_reports(r, tmp_path)
    assert [p.name for p in written] == ["loss.csv", "loss.png", "report.md", "junit.xml"]
    csv = (tmp_path / "loss.csv").read_text().splitlines()
    assert csv[0] == "step,loss" and len(csv) == 81 and csv[58] == "57,"
    assert (tmp_path / "report.md").read_text() == render_markdown(r)


def test_one_broken_writer_does_not_lose_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import gate.report as report

    def boom(result: Result, path: Path) -> None:
        raise RuntimeError("no matplotlib here")

    monkeypatch.setitem(report.WRITERS, "loss.png", boom)
    written = write_reports(passing(), tmp_path)
    assert [p.name for p in written] == ["loss.csv", "report.md", "junit.xml"]
    assert "could not write" in capsys.readouterr().err


def test_event_label_prefers_the_recorded_kind() -> None:
    from gate.report.plot import event_label

    stalled = diverged().model_copy(update={"event_kind": "stalled", "reason": "anything at all"})
    assert event_label(stalled) == "stalled @ step 39"
    # A result written before `event_kind` existed: read off the reason and the losses.
    assert event_label(diverged()) == "diverged @ step 39"
    assert event_label(nan_fail()) == "non-finite loss @ step 57"
    assert event_label(passing()) is None


@pytest.mark.slow
def test_harness_records_the_event_kind(gate_cli) -> None:
    code, result, _ = gate_cli(
        "run",
        "--entrypoint",
        "tests/tasks/broken.py:diverges",
        "--skip-checks",
        "loss_direction",
        "--skip-checks",
        "finite",
    )
    assert code == 1 and result["event_kind"] == "diverged" and result["event_step"] is not None


def test_not_applicable_reports_are_never_a_pass(tmp_path: Path) -> None:
    from gate.report.actions import annotation_lines, outputs
    from gate.report.plot import title
    from gate.report.terminal import summary

    r = not_applicable()
    write_reports(r, tmp_path)
    assert (tmp_path / "loss.png").is_file()
    assert "NOT APPLICABLE" in summary(r) and "not applicable: 2 optimizers" in summary(r)
    assert "NOT APPLICABLE" in title(r)
    md = render_markdown(r)
    assert md.startswith("## 🚫 overfit-gate: not_applicable")
    assert_well_formed(md)
    suite = junit_root(tmp_path, r).find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    failure = suite.find("testcase[@name='verdict']/failure")
    assert failure is not None and failure.get("type") == "not_applicable"
    assert outputs(r, tmp_path, {})["verdict"] == "not_applicable"
    assert any(line.startswith("::error ") and "not_applicable" in line for line in annotation_lines(r, {}))
