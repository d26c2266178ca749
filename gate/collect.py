"""Turn what a runner left behind into a validated Result, whatever happened: a clean
result.json, a harness killed at the timeout, a process that died without a word."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from gate import __version__
from gate.errors import ResultError
from gate.harness import phase
from gate.harness.contract import ErrorKind
from gate.result import RESULT_FILE, ErrorInfo, Result, load_result
from gate.runners.base import Outcome


def _partial_losses(out_dir: Path) -> list[float | None]:
    path = out_dir / "loss.csv"
    if not path.is_file():
        return []
    with path.open() as fh:
        return [float(r["loss"]) if r.get("loss") else None for r in csv.DictReader(fh)]


def collect(outcome: Outcome, out_dir: Path, base: dict[str, Any], timeout: float) -> Result:
    """``base`` carries the fields the controller knows regardless (mode, name, config, ...)."""
    existing: Result | None = None
    if (out_dir / RESULT_FILE).is_file():
        try:
            existing = load_result(out_dir)
        except ResultError as exc:
            return _error(base, ErrorKind.RESULT, exc.message, outcome.log_tail, out_dir)
    if outcome.timed_out:
        # The harness may have written a 'Cancelled' result on SIGTERM; the cause is ours to name.
        reason = (
            f"the run did not finish within the {timeout:g}s timeout and was stopped "
            "(a hang, a deadlock, or too many steps for the budget?)"
        )
        return _error(base, ErrorKind.TIMEOUT, reason, outcome.log_tail, out_dir, existing)
    if outcome.error is not None:
        return _error(base, outcome.error_type, outcome.error, outcome.log_tail, out_dir, existing)
    if existing is not None:
        merged = existing.model_dump(by_alias=True)
        merged.update({k: v for k, v in base.items() if k not in merged or not merged[k]})
        merged["config"] = base.get("config", merged.get("config", {}))
        merged["config_changes"] = base.get("config_changes", [])  # the controller's finding, never the harness's
        merged["gate_version"] = __version__
        return Result.model_validate(merged)
    if outcome.cancelled:
        return _error(base, ErrorKind.CANCELLED, "the run was cancelled", outcome.log_tail, out_dir)
    code = outcome.exit_code
    why = f"the harness exited with code {code} without writing a result"
    if code is None or code in (137, -9):
        why = "the harness was killed (SIGKILL) without writing a result: out of memory?"
    return _error(base, ErrorKind.HARNESS_CRASHED, why + _phase_note(out_dir), outcome.log_tail, out_dir)


def _phase_note(out_dir: Path) -> str:
    """Which phase the harness died in (it keeps the phase file up to date), so an
    out-of-memory kill says whether the training step or the gate's own probe ran out."""
    where = phase.read(out_dir)
    if where is None:
        return ""
    if where == phase.TRAINING:
        return f" (it died during {where}: the training itself, not the gate's probes)"
    return f" (it died during {where}: the gate's own work, not your training step; skip that check or report it)"


def _error(
    base: dict[str, Any], kind: str, message: str, log_tail: str, out_dir: Path, existing: Result | None = None
) -> Result:
    fields: dict[str, Any] = existing.model_dump(by_alias=True) if existing else {}
    fields.update(base)
    fields.update(
        verdict="error",
        reason=message,
        error=ErrorInfo(type=kind, message=message, traceback=log_tail).model_dump(),
        gate_version=__version__,
    )
    if not fields.get("losses"):
        fields["losses"] = _partial_losses(out_dir)
    return Result.model_validate(fields)
