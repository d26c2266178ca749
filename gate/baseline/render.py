"""Show the comparison: the Markdown section (PR comment, check-run and job summaries), the
terminal line, the Mermaid chart's second line and the PNG's dashed overlay.

Everything here reads ``result.baseline`` alone, so ``overfit-gate report`` re-draws it from
``result.json``."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from gate.baseline.model import BaselineBlock, RunSummary
from gate.baseline.summary import curve_points
from gate.harness.verdict import fmt
from gate.report.series import first_nonfinite
from gate.report.untrusted import inline
from gate.result import Result

ICON = {"no_change": "✅", "regression": "⚠️", "not_comparable": "ℹ️", "skipped": "ℹ️"}


def title(block: BaselineBlock) -> str:
    """``main @ abc1234`` (``, 3 commits back``), or ``base run`` for a local folder."""
    if not block.sha:
        return "base run" if block.label == "base" else block.label
    back = f", {block.distance} commit{'s' * (block.distance != 1)} before the PR's base" if block.distance else ""
    return f"{block.label} @ {block.short_sha}{back}"


def _icon(block: BaselineBlock) -> str:
    if block.status == "regression" and block.overrode is not None:
        return "❌"
    return ICON[block.status]


def _checks(statuses: Sequence[str]) -> str:
    counts = {s: sum(x == s for x in statuses) for s in ("fail", "warn", "pass", "skip")}
    return " · ".join(f"{n} {s}" for s, n in counts.items() if n) or "none"


def _steps(target_step: int | None, run_steps: int) -> str:
    return str(target_step) if target_step is not None else f"not reached ({run_steps} run)"


def table(result: Result, base: RunSummary, block: BaselineBlock) -> str:
    head_name = "this PR" if block.source == "github" else "this run"
    ratio = ""
    if result.target_step is not None and base.target_step is not None:
        ratio = f" ({result.target_step / max(base.target_step, 1):.1f}×)"
    rows = [
        f"| | {head_name} | {_esc(title(block)).replace('|', '&#124;')} |",
        "|---|---|---|",
        f"| Steps to target | {_steps(result.target_step, result.steps)}{ratio} | {_steps(base.target_step, base.steps)} |",
        f"| First loss | {fmt(result.initial_loss)} | {fmt(base.first_loss)} |",
        f"| Best loss | {fmt(result.best_loss)} | {fmt(base.best_loss)} |",
        f"| Checks | {_checks([c.status for c in result.checks])} | {_checks(list(base.checks.values()))} |",
    ]
    return "\n".join(rows)


def markdown(result: Result) -> str:
    """The report's comparison section ('' when no comparison was due)."""
    block = result.baseline
    if block is None:
        return ""
    named = title(block) if block.base is not None or block.label != "base" else "the base run"
    head = f"### Compared with {named}"
    text = block.message[0].upper() + block.message[1:]
    if block.status == "regression":
        done = "it fails the gate" if block.overrode is not None else "reported only"
        text += f" ({done}: `on-regression: {block.policy.on_regression}`, factor {block.policy.regression_factor:g}×)."
    parts = [head, f"{_icon(block)} {_esc(text)}"]
    if block.base is not None and block.status in ("no_change", "regression"):
        parts.append(table(result, block.base, block))
    if block.url:
        parts.append(f"Base run: {block.url}")
    return "\n\n".join(parts)


def _esc(text: str) -> str:
    # The message quotes the run's check names: untrusted (a fork's report folder), made inert.
    return inline(text)


def terminal(result: Result) -> str:
    block = result.baseline
    if block is None:
        return ""
    where = f" ({title(block)})" if block.base is not None else ""
    return f"  baseline{where}: {block.message}"


def overlay(result: Result) -> tuple[list[int], list[float | None], str] | None:
    """The base curve for the PNG: steps, losses and the legend label; None without one."""
    block = result.baseline
    if block is None or block.base is None or block.status not in ("no_change", "regression"):
        return None
    points = curve_points(block.base.curve)
    if len(points) < 2:
        return None
    reached = block.base.target_step
    label = title(block) + (f", target @ step {reached}" if reached is not None else "")
    return [s for s, _ in points], [v for _, v in points], label


def _at(steps: list[int], values: list[float | None], step: int) -> float | None:
    """The base loss at ``step``: linear between stored points, held after the last."""
    i = bisect_left(steps, step)
    if i >= len(steps):
        return values[-1]
    if steps[i] == step or i == 0:
        return values[i]
    v0, v1 = values[i - 1], values[i]
    if v0 is None or v1 is None:
        return v1
    return v0 + (v1 - v0) * (step - steps[i - 1]) / (steps[i] - steps[i - 1])


def chart_pair(result: Result) -> tuple[list[float | None], list[float | None]] | None:
    """This run's and the base's curves on one step grid, for the Mermaid chart's two lines.

    A run that stopped earlier (the gate stops once the verdict is certain) is held at its last
    value; a run that went non-finite is not extended (the chart stops at the first NaN)."""
    got = overlay(result)
    if got is None or not result.losses:
        return None
    steps, values, _ = got
    head: list[float | None] = list(result.losses)
    length = max(len(head), steps[-1] + 1)
    if first_nonfinite(head) is None:
        head += [head[-1]] * (length - len(head))
    base = [_at(steps, values, i) for i in range(len(head))]
    return head, base
