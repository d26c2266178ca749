"""Turn what a runner left behind into a validated Result, whatever happened: a clean
result.json, a harness killed at the timeout, a process that died without a word."""

from __future__ import annotations

import csv
import signal
from pathlib import Path
from typing import Any

from gate import __version__
from gate.errors import ResultError
from gate.harness import phase
from gate.harness.contract import ErrorKind
from gate.result import RESULT_FILE, ErrorInfo, Result, load_result
from gate.runners.base import Outcome

MAX_PARTIAL_ROWS = 1_000_000  # a loss.csv is one row per step; more is not ours


def _loss(cell: str | None) -> float | None:
    try:
        return float(cell) if cell else None
    except ValueError:
        return None


def _partial_losses(out_dir: Path) -> list[float | None]:
    """The curve so far, for an error result; a malformed or hostile loss.csv gives what it can."""
    path = out_dir / "loss.csv"
    if path.is_symlink() or not path.is_file():
        return []
    losses: list[float | None] = []
    try:
        with path.open(encoding="utf-8", errors="replace", newline="") as fh:
            for row in csv.DictReader(fh):
                if len(losses) >= MAX_PARTIAL_ROWS:
                    break
                losses.append(_loss(row.get("loss") if isinstance(row.get("loss"), str) else None))
    except (OSError, csv.Error):
        return losses
    return losses


def _signal_name(outcome: Outcome) -> str | None:
    """The signal that ended the harness, if one did (local: -N; docker with an init: 128+N)."""
    code = outcome.exit_code
    number = outcome.signal or (code - 128 if code is not None and 128 < code < 128 + 65 else None)
    if number is None:
        return None
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _died(outcome: Outcome) -> str:
    name = _signal_name(outcome)
    if name == "SIGKILL":
        return "the harness was killed (SIGKILL) without writing a result: out of memory? (the kernel's OOM killer sends SIGKILL)"
    if name == "SIGSEGV":
        return "the harness crashed with SIGSEGV (segmentation fault) without writing a result: a bug in native code (a C/C++/CUDA extension)?"
    if name is not None:
        return f"the harness was ended by {name} without writing a result"
    if outcome.exit_code is None:
        return "the harness ended without an exit status or a result"
    return f"the harness exited with code {outcome.exit_code} without writing a result"


def _forged(existing: Result, outcome: Outcome, nonce: str | None) -> str | None:
    """Why a result.json cannot be this run's harness's own verdict, if it cannot."""
    if nonce and existing.nonce != nonce:
        return "result.json was not written by this run's harness (its nonce does not match the spec's); ignoring it"
    if existing.verdict == "pass" and (outcome.exit_code not in (0, None) or outcome.signal is not None):
        return f"result.json says pass but the harness exited with {_exit_text(outcome)}; not trusting it"
    return None


def _exit_text(outcome: Outcome) -> str:
    name = _signal_name(outcome)
    return name if name else f"code {outcome.exit_code}"


def collect(outcome: Outcome, out_dir: Path, base: dict[str, Any], timeout: float, nonce: str | None = None) -> Result:
    """``base`` carries the fields the controller knows regardless (mode, name, config, ...);
    ``nonce`` is the spec's, which a genuine result echoes."""
    existing: Result | None = None
    if (out_dir / RESULT_FILE).is_file():
        try:
            existing = load_result(out_dir)
        except ResultError as exc:
            return _error(base, ErrorKind.RESULT, exc.message, outcome.log_tail, out_dir)
        forged = None if outcome.timed_out or outcome.cancelled else _forged(existing, outcome, nonce)
        if forged:
            return _error(base, ErrorKind.RESULT, forged, outcome.log_tail, out_dir)
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
        merged.pop("nonce", None)  # used up; it proves nothing to a later reader
        return Result.model_validate(merged)
    if outcome.cancelled:
        return _error(base, ErrorKind.CANCELLED, "the run was cancelled", outcome.log_tail, out_dir)
    return _error(base, ErrorKind.HARNESS_CRASHED, _died(outcome) + _phase_note(out_dir), outcome.log_tail, out_dir)


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
    fields.pop("nonce", None)
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
