"""Sample results the report tests render (pass, nan fail, divergence, error, a huge one, not
applicable), and parsers that check the structure of what was written (tables whole and
rectangular, fences closed, Mermaid charts in their grammar) rather than compare bytes."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from gate.report.junit import write_junit
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


def junit_root(tmp_path: Path, r: Result) -> ET.Element:
    """junit.xml written for ``r`` and parsed back: its root element."""
    path = write_junit(r, tmp_path / "junit.xml")
    return ET.parse(path).getroot()


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
