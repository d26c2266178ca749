"""The plain-text verdict block printed at the end of a run (CI logs, terminals)."""

from __future__ import annotations

from pathlib import Path

from gate.harness.verdict import fmt
from gate.result import Result

MARK = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "warn": "WARN", "skip": "SKIP"}


def summary(result: Result, out_dir: Path | None = None) -> str:
    bar = "=" * 72
    lines = [bar, f"overfit-gate [{result.name}]: {MARK[result.verdict]}  {result.reason}"]
    if result.steps:
        lines.append(
            f"  steps {result.steps}   loss first {fmt(result.initial_loss)}  best {fmt(result.best_loss)}  "
            f"final {fmt(result.final_loss)}  target {fmt(result.target)}"
        )
    facts = [
        f"mode {result.mode}",
        f"device {result.device or 'n/a'}",
        f"torch {result.torch_version or 'n/a'}",
        f"{result.duration_s:.1f}s",
    ]
    lines.append("  " + "   ".join(facts))
    if result.pinning:
        lines.append(f"  batch: {result.pinning}")
    for c in result.checks:
        lines.append(f"  [{MARK[c.status]:>4}] {c.name}: {c.message}")
        if c.hint and c.status in ("fail", "warn"):
            lines.append(f"         hint: {c.hint}")
    if result.error is not None:
        lines.append(f"  error: {result.error.type}: {result.error.message}")
    if result.baseline is not None:
        from gate.baseline.render import terminal

        lines.append(terminal(result))
    if out_dir is not None:
        lines.append(f"  report: {out_dir}")
    lines.append(bar)
    return "\n".join(lines)
