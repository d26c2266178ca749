"""Build a result's ``baseline`` block and apply the ``on-regression`` policy: the one path
``run``, ``publish`` and ``compare`` share, so CI and a laptop decide alike.

The comparison is advisory machinery around the verdict, so it must never change the exit
code by accident: every failure to compare (no baseline, an unreadable one, an API error, a
bug here) becomes a ``skipped`` block that says why, and only an explicit regression under
``on-regression: fail`` turns a pass into a fail.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gate.baseline.compare import compare
from gate.baseline.model import BaselineBlock, Override, Policy, RunSummary, Source
from gate.baseline.summary import from_result
from gate.errors import GateError
from gate.result import Result, load_result

OFF = "off"


def policy_of(cfg: Any) -> Policy:
    """The thresholds from a Config (or anything with the same attributes)."""
    return Policy(
        regression_factor=cfg.regression_factor,
        first_loss_tolerance=cfg.first_loss_tolerance,
        on_regression=cfg.on_regression,
    )


def skipped(message: str, policy: Policy, source: Source = "", label: str = "base") -> BaselineBlock:
    return BaselineBlock(
        status="skipped", message=f"baseline skipped: {message}", source=source, label=label, policy=policy
    )


def against(
    head: Result, base: RunSummary, policy: Policy, *, source: Source, label: str = "base", **where: Any
) -> BaselineBlock:
    """Compare ``head`` with a base summary; ``where``: sha, distance, url of the base."""
    outcome = compare(from_result(head), base, policy, label)
    return BaselineBlock(
        status=outcome.status,
        message=outcome.message,
        source=source,
        label=label,
        policy=policy,
        findings=outcome.findings,
        base=base,
        **where,
    )


def from_folder(head: Result, folder: Path, policy: Policy) -> BaselineBlock:
    """A local report folder as the base (``run --baseline DIR``, ``compare BASE HEAD``)."""
    try:
        base = load_result(folder)
    except GateError as exc:
        return skipped(f"cannot read the base report folder: {exc.message}", policy, "folder")
    return against(head, from_result(base), policy, source="folder")


def guarded(build: Callable[[], BaselineBlock], policy: Policy) -> BaselineBlock:
    """``build()``, or a skipped block if it raised: a bug in the comparison is never the pipeline's."""
    try:
        return build()
    except Exception as exc:
        return skipped(f"the comparison failed unexpectedly ({type(exc).__name__}: {exc}); the verdict stands", policy)


def restore(result: Result) -> None:
    """Undo a previous comparison's override (``publish`` re-compares a folder's result)."""
    old = result.baseline
    # Only what `apply` can have done: a pass turned into a fail (a folder is data; anything
    # else in it is not taken as a verdict).
    if old is not None and old.overrode is not None and old.overrode.verdict == "pass" and result.verdict == "fail":
        result.verdict = "pass"
        result.reason = old.overrode.reason
    result.baseline = None


def apply(result: Result, block: BaselineBlock | None) -> Result:
    """Attach ``block``; under ``on-regression: fail`` a regression turns a pass into a fail."""
    restore(result)
    result.baseline = block
    if block is None or block.status != "regression" or block.policy.on_regression != "fail":
        return result
    if result.verdict == "pass":
        block.overrode = Override(verdict=result.verdict, reason=result.reason)
        result.verdict = "fail"
        result.reason = f"{result.reason}, but it is a {block.message}"
    return result


def resolve_folder(value: str, cwd: Path | None = None) -> Path:
    return ((cwd or Path.cwd()) / value).resolve()
