"""report.md from a Result alone (gate/report/markdown.py, mermaid.py): structure, GitHub's size
limit, fences that untrusted text cannot close, the Mermaid chart. Golden-structure tests: they
parse what was written, not compare bytes."""

from __future__ import annotations

import math
import re

import pytest

from gate.report.markdown import render_markdown
from gate.report.mermaid import number, xychart
from gate.result import CheckResult
from tests.report.samples import (
    assert_well_formed,
    errored,
    huge,
    mermaid_blocks,
    nan_fail,
    parse_xychart,
    passing,
    table_rows,
    with_baseline,
)


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
