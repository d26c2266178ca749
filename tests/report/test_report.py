"""Reports from a Result alone: report.md structure and limits, the Mermaid chart, junit.xml,
the helpers. Golden-structure tests: they parse what was written, not compare bytes."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from gate.report import write_reports
from gate.report.junit import write_junit
from gate.report.markdown import render_markdown
from gate.report.mermaid import number, xychart
from gate.report.series import envelope, pick_indices, sparkline, use_log
from gate.result import CheckResult, ErrorInfo, Result

# ---------------------------------------------------------------- sample results


def curve(n: int, first: float = 2.3, rate: float = 0.05) -> list[float | None]:
    return [first * math.exp(-rate * i) + 1e-4 for i in range(n)]


def passing(n: int = 120, **kw: Any) -> Result:
    losses = curve(n)
    target = 0.01 * (losses[0] or 0.0)
    hit = next((i for i, v in enumerate(losses) if v is not None and v <= target), None)
    fields: dict[str, Any] = dict(
        verdict="pass",
        reason=f"the loss reached the target {target:.4g} at step {hit} and stayed there for 20 steps",
        steps=n,
        losses=losses,
        initial_loss=losses[0],
        final_loss=losses[-1],
        best_loss=losses[-1],
        best_step=n - 1,
        target=target,
        floor=0.0,
        target_step=hit,
        duration_s=3.25,
        device="cpu",
        torch_version="2.13.0+cpu",
        entrypoint="examples/mlp_classifier.py:make_task",
        seed=0,
        gate_version="0.1.0",
        config={"entrypoint": "examples/mlp_classifier.py:make_task", "steps": 500, "working_directory": "."},
        checks=[
            CheckResult(name="gradient_flow", status="pass", message="every parameter received a gradient"),
            CheckResult(
                name="batch_mixing",
                status="warn",
                message="output row 0 depends on input row 3 | odd",
                hint="look at the `view` in <Model.forward>",
            ),
            CheckResult(name="causality", status="skip", message="no causal_dim declared"),
        ],
    )
    fields.update(kw)
    return Result(**fields)


def nan_fail(n: int = 80, bad: int = 57) -> Result:
    losses: list[float | None] = [*curve(bad, rate=0.02), *([None] * (n - bad))]
    return passing(
        verdict="fail",
        reason=f"the loss became nan at step {bad} (last finite best 0.7)",
        steps=n,
        losses=losses,
        final_loss=None,
        target_step=None,
        event_step=bad,
        best_step=bad - 1,
        checks=[
            CheckResult(
                name="label_leak",
                status="fail",
                message="the labels are computed from the output",
                hint="detach nothing; compute labels from the batch",
            )
        ],
    )


def diverged(n: int = 40) -> Result:
    losses: list[float | None] = [2.0 * (1.6**i) for i in range(n)]
    return passing(
        verdict="fail",
        reason="the loss diverged to 1e+08 at step 39, over 10x its first value 2",
        steps=n,
        losses=losses,
        final_loss=losses[-1],
        target_step=None,
        event_step=n - 1,
        best_step=0,
        checks=[],
    )


def errored() -> Result:
    tb = (
        "Traceback (most recent call last):\n"
        + "".join(f'  File "train.py", line {i}, in step\n    loss = model(x)\n' for i in range(40))
        + "ValueError: shape mismatch in my_loss: expected [16, 3], got [16, 4]\n"
    )
    return passing(
        verdict="error",
        reason="the pipeline raised ValueError: shape mismatch in my_loss",
        steps=3,
        losses=curve(3),
        final_loss=None,
        target_step=None,
        checks=[],
        error=ErrorInfo(
            type="ValueError", message="shape mismatch in my_loss: expected [16, 3], got [16, 4]", traceback=tb
        ),
    )


def with_baseline(n: int = 150) -> Result:
    base = [2.3 * math.exp(-0.004 * i) for i in range(n)]
    check = CheckResult(
        name="input_dependence",
        status="pass",
        message="with the inputs replaced the loss stalls at 2.0 (real inputs: 0.02)",
        data={"losses": base},
    )
    r = passing(n)
    r.checks.append(check)
    return r


def huge() -> Result:
    """100,000 steps, 400 wordy checks, a giant traceback and config: must still fit."""
    n = 100_000
    r = passing(n)
    r.verdict = "error"
    r.checks = [
        CheckResult(
            name=f"check_{i}",
            status=("fail", "warn", "pass", "skip")[i % 4],
            message="m" * 900 + " | pipes | and\nnewlines",
            hint="h" * 900,
        )
        for i in range(400)
    ]
    r.error = ErrorInfo(type="RuntimeError", message="x" * 5000, traceback="frame line\n" * 20_000)
    r.config = {f"key_{i}": "v" * 200 for i in range(300)}
    return r


# ---------------------------------------------------------------- structure parsers

MERMAID_NUM = r"[+-]?(?:\d+(?:\.\d+)?|\.\d+)"  # Mermaid's xychart lexer: no exponent


def mermaid_blocks(md: str) -> list[str]:
    return re.findall(r"^```mermaid\n(.*?)\n```$", md, flags=re.S | re.M)


def parse_xychart(block: str) -> list[list[float]]:
    """The lines of an ``xychart-beta`` block, checked line by line against its grammar."""
    lines = block.split("\n")
    assert lines[0] == "xychart-beta"
    series = []
    for line in lines[1:]:
        s = line.strip()
        if s.startswith("line ["):
            body = re.fullmatch(r"line \[(.*)\]", s)
            assert body, s
            nums = [x.strip() for x in body.group(1).split(",")]
            assert all(re.fullmatch(MERMAID_NUM, x) for x in nums), s
            series.append([float(x) for x in nums])
        else:
            assert re.fullmatch(rf'(title "[^"]*"|x-axis "[^"]*" {MERMAID_NUM} --> {MERMAID_NUM}|y-axis "[^"]*")', s), s
    return series


def table_rows(md: str) -> list[list[list[str]]]:
    """Every Markdown table as rows of cells; asserts each table is whole and rectangular."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*md.split("\n"), ""]:
        if line.startswith("|"):
            assert line.endswith("|"), f"a table row was cut: {line!r}"
            current.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
        elif current:
            assert len(current) >= 2 and all(re.fullmatch(r"-+", c) for c in current[1]), current[:2]
            assert len({len(r) for r in current}) == 1, "ragged table"
            tables.append(current)
            current = []
    return tables


def assert_well_formed(md: str) -> None:
    table_rows(md)
    fence = ""  # CommonMark: a fence closes only on a bare line of at least as many backticks
    for line in md.split("\n"):
        run = re.match(r"`{3,}", line)
        if not fence and run:
            fence = run.group(0)
        elif fence and run and line.strip() == run.group(0) and len(run.group(0)) >= len(fence):
            fence = ""
    assert not fence, "unclosed code fence"
    assert md.count("<details>") == md.count("</details>")


# ---------------------------------------------------------------- report.md


def test_pass_report_structure() -> None:
    r = passing()
    md = render_markdown(r)
    assert md.startswith("## ✅ overfit-gate: pass\n")
    assert "The loss reached the target" in md
    checks = table_rows(md)[0]
    assert checks[0] == ["", "Check", "Result", "Hint"]
    # failures and warnings first, then passes, then skips; pipes and tags escaped
    assert [row[1] for row in checks[2:]] == ["`batch_mixing`", "`gradient_flow`", "`causality`"]
    assert checks[2][0] == "⚠️" and "\\|" in checks[2][2] and "&lt;Model.forward&gt;" in checks[2][3]
    (block,) = mermaid_blocks(md)
    (points,) = parse_xychart(block)
    assert len(points) == 100  # 120 steps downsampled to the cap
    assert "log10(loss)" in block  # 2.3 -> 0.006 spans over two decades
    assert points[0] == pytest.approx(math.log10(r.losses[0]), abs=1e-3)  # type: ignore[arg-type]
    assert re.search(r"`[▁▂▃▄▅▆▇█]{40}` first \*\*2\.3", md)
    assert "| 120 / 500 | 3.2 s | cpu | 2.13.0+cpu | task | 0 |" in md
    assert "<details><summary>Resolved config</summary>" in md and "Traceback" not in md
    assert_well_formed(md)


def test_short_run_keeps_every_point() -> None:
    (block,) = mermaid_blocks(render_markdown(passing(n=37)))
    (points,) = parse_xychart(block)
    assert len(points) == 37
    assert 'x-axis "step" 0 --> 36' in block


def test_fail_report_marks_nan_and_failed_check() -> None:
    md = render_markdown(nan_fail())
    assert md.startswith("## ❌ overfit-gate: fail\n")
    assert "The loss became nan at step 57" in md
    rows = table_rows(md)[0]
    assert rows[2][:2] == ["❌", "`label_leak`"] and "compute labels" in rows[2][3]
    (points,) = parse_xychart(mermaid_blocks(md)[0])
    assert len(points) == 57  # the finite prefix only
    assert "**non-finite from step 57**" in md and "✕" in md


def test_hint_column_only_when_a_check_has_a_hint() -> None:
    r = passing(checks=[CheckResult(name="finite", status="pass", message="all finite")])
    assert table_rows(render_markdown(r))[0][:3] == [
        ["", "Check", "Result"],
        ["---", "---", "---"],
        ["✅", "`finite`", "all finite"],
    ]


def test_error_report_has_traceback_and_error_line() -> None:
    md = render_markdown(errored())
    assert md.startswith("## 💥 overfit-gate: error\n")
    assert "**Error:** `ValueError`: shape mismatch in my_loss" in md
    assert "<details><summary>Traceback</summary>" in md
    assert "ValueError: shape mismatch in my_loss: expected [16, 3], got [16, 4]\n```" in md
    assert "_No checks ran._" in md
    assert_well_formed(md)


def test_image_url_and_baseline_line() -> None:
    md = render_markdown(with_baseline(), image_url="https://example.test/loss.png")
    assert "![loss curve](https://example.test/loss.png)" in md
    loss, base = parse_xychart(mermaid_blocks(md)[0])
    assert len(loss) == len(base) == 100
    assert "Inputs replaced (`input_dependence`) (the chart's second line)" in md


def test_huge_result_fits_github_limit_without_breaking_structure() -> None:
    r = huge()
    md = render_markdown(r)
    assert len(md) <= 65535
    assert_well_formed(md)
    assert md.startswith("## 💥 overfit-gate: error")
    rows = table_rows(md)[0][2:]
    assert rows and all(row[0] == "❌" for row in rows[:5])  # failures kept first
    assert "more checks (" in md  # the rest named, not silently lost
    (points,) = parse_xychart(mermaid_blocks(md)[0])
    assert len(points) == 100


@pytest.mark.parametrize("limit", [60000, 20000, 8000, 3000, 1500, 400, 120])
def test_smaller_limits_degrade_cleanly(limit: int) -> None:
    md = render_markdown(huge(), max_chars=limit)
    assert len(md) <= limit
    assert_well_formed(md)
    assert md.startswith("## 💥 overfit-gate: error")


def test_backticks_in_traceback_cannot_close_the_fence() -> None:
    r = errored()
    assert r.error is not None
    r.error.traceback = "line one\n```\n## not a heading\n"
    md = render_markdown(r)
    assert "````text\nline one\n```\n## not a heading\n````" in md
    assert_well_formed(md)


def test_mermaid_numbers_never_use_exponents() -> None:
    assert number(1.234e-7) == "0.0000001234"
    assert number(3.0e12) == "3000000000000"
    assert number(-0.5) == "-0.5" and number(0.0) == "0" and number(2.0) == "2"
    chart = xychart([1e-7 * (1 + i % 3) for i in range(10)])
    assert chart is not None
    parse_xychart(chart)


def test_no_chart_for_a_single_finite_step() -> None:
    assert xychart([1.0]) is None
    assert xychart([None, None]) is None


# ---------------------------------------------------------------- helpers


def test_pick_indices_spacing() -> None:
    idx = pick_indices(100_000, 100)
    assert len(idx) == 100 and idx[0] == 0 and idx[-1] == 99_999
    gaps = {b - a for a, b in itertools.pairwise(idx)}
    assert max(gaps) - min(gaps) <= 1
    assert pick_indices(5, 100) == [0, 1, 2, 3, 4] and pick_indices(0, 10) == []


def test_envelope_keeps_spikes_and_gaps() -> None:
    values: list[float | None] = [1.0] * 10_000
    values[4321] = 99.0
    values[7000] = None
    xs, ys = envelope(values, 100)
    assert len(xs) <= 300
    assert 99.0 in ys and 4321 in xs
    assert ys[xs.index(7000)] is None
    assert xs == sorted(xs)


def test_sparkline_and_log_choice() -> None:
    assert sparkline([3.0, 2.0, 1.0], log=False) == "█▅▁"
    assert sparkline([1.0, None]) == "▅✕"
    assert len(sparkline(curve(1000))) == 40
    assert use_log(curve(200)) and not use_log([1.0, 0.5]) and not use_log([1.0, -1.0, 1e-5])


# ---------------------------------------------------------------- junit.xml


def _junit(tmp_path: Path, r: Result) -> ET.Element:
    path = write_junit(r, tmp_path / "junit.xml")
    return ET.parse(path).getroot()


def test_junit_pass_counts(tmp_path: Path) -> None:
    root = _junit(tmp_path, passing())
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
    root = _junit(tmp_path, nan_fail())
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
    root = _junit(tmp_path, r)
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("failures"), suite.get("errors")) == ("0", "1")
    err = suite.find("testcase/error")
    assert err is not None and err.get("type") == "ValueError"
    assert "[31mred" in (err.text or "") and "Traceback (most recent call last)" in (err.text or "")


# ---------------------------------------------------------------- write_reports


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


def not_applicable() -> Result:
    return Result(
        verdict="not_applicable",
        reason="not applicable: 2 optimizers over separate parameters take turns, each stepping on a loss of its "
        "own (adversarial training such as a GAN); gate a supervised component in task mode instead",
        steps=6,
        losses=[1.4, 0.9, 1.6, 0.7, 1.9, 0.8],
        initial_loss=1.4,
        final_loss=0.8,
        mode="script",
    )


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
    suite = _junit(tmp_path, r).find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    failure = suite.find("testcase[@name='verdict']/failure")
    assert failure is not None and failure.get("type") == "not_applicable"
    assert outputs(r, tmp_path, {})["verdict"] == "not_applicable"
    assert any(line.startswith("::error ") and "not_applicable" in line for line in annotation_lines(r, {}))
