"""The plain-text verdict block printed at the end of a run (CI logs, terminals).

Every text in it comes from the code under test (or from a report folder ``publish`` was
handed), so each goes through ``one_line``: a newline in a reason could otherwise start a
workflow command in the job's log."""

from __future__ import annotations

from pathlib import Path

from gate.harness.verdict import fmt
from gate.report.actions import one_line as _l
from gate.result import Result

MARK = {
    "pass": "PASS",
    "fail": "FAIL",
    "error": "ERROR",
    "not_applicable": "NOT APPLICABLE",
    "warn": "WARN",
    "skip": "SKIP",
}


def summary(result: Result, out_dir: Path | None = None) -> str:
    bar = "=" * 72
    lines = [bar, f"overfit-gate [{_l(result.name)}]: {MARK[result.verdict]}  {_l(result.reason)}"]
    if result.steps:
        lines.append(
            f"  steps {result.steps}   loss first {fmt(result.initial_loss)}  best {fmt(result.best_loss)}  "
            f"final {fmt(result.final_loss)}  target {fmt(result.target)}"
        )
    facts = [
        f"mode {result.mode}",
        f"device {_l(result.device or 'n/a')}",
        f"torch {_l(result.torch_version or 'n/a')}",
        f"{result.duration_s:.1f}s",
    ]
    lines.append("  " + "   ".join(facts))
    if result.pinning:
        lines.append(f"  batch: {_l(result.pinning)}")
    lines += [f"  note: {_l(n)}" for n in result.notes]
    for c in result.checks:
        lines.append(f"  [{MARK[c.status]:>4}] {_l(c.name)}: {_l(c.message)}")
        if c.hint and c.status in ("fail", "warn"):
            lines.append(f"         hint: {_l(c.hint)}")
    if result.error is not None:
        lines.append(f"  error: {_l(result.error.type)}: {_l(result.error.message)}")
    if result.baseline is not None:
        from gate.baseline.render import terminal

        lines.append(terminal(result))
    if out_dir is not None:
        lines.append(f"  report: {out_dir}")
    lines.append(bar)
    return "\n".join(lines)
