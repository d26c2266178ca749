"""The pydantic model of ``result.json`` (schema 1): the only thing that crosses from the
harness to the controller, and what ``report``/``publish`` work from.

Non-finite losses are written as ``null`` (JSON has no NaN); the reason says what happened.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gate.baseline.model import BaselineBlock
from gate.errors import ResultError
from gate.harness.contract import SCHEMA, CheckStatus, Verdict

RESULT_FILE = "result.json"
# `publish` reads a result.json an untrusted job produced: a real one is a few kB plus ~20 bytes
# per step, so 8 MB is ample and keeps a hostile one from costing memory, time or API calls.
MAX_RESULT_BYTES = 8 * 1024 * 1024


class _Model(BaseModel):
    # Unknown keys are rejected: harness and controller ship together, and every field the
    # harness writes is modelled here (gate/harness/contract.py; tests/harness/test_contract.py).
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CheckResult(_Model):
    name: str
    status: CheckStatus
    message: str
    hint: str = ""
    # Machine-readable evidence (culprit names, steps, a comparison curve) for reports.
    data: dict[str, Any] = Field(default_factory=dict)


class ErrorInfo(_Model):
    type: str
    message: str
    traceback: str = ""


class Result(_Model):
    schema_version: Literal[1] = Field(default=SCHEMA, alias="schema")
    verdict: Verdict
    reason: str
    steps: int = 0
    initial_loss: float | None = None
    final_loss: float | None = None
    best_loss: float | None = None
    losses: list[float | None] = Field(default_factory=list)
    checks: list[CheckResult] = Field(default_factory=list)
    duration_s: float = 0.0
    loop_s: float | None = None  # seconds in the training loop itself
    device: str = ""
    torch_version: str = ""
    mode: Literal["task", "script"] = "task"
    error: ErrorInfo | None = None

    # Beyond the contract's required keys; all optional so old results still load.
    name: str = "overfit-gate"
    gate_version: str = ""
    target: float | None = None
    floor: float | None = None
    target_step: int | None = None  # first step at which the loss reached the target
    event_step: int | None = None  # step where a fail happened (first NaN, divergence, ...)
    event_kind: str | None = None  # what happened there: nonfinite, below_floor, diverged, stalled, budget
    best_step: int | None = None
    entrypoint: str | None = None
    command: list[str] | None = None
    pinning: str | None = None  # script mode: how the batch was pinned
    # What the gate changed or derived for the overfit run (dropout turned off, a loss floor).
    notes: list[str] = Field(default_factory=list)
    seed: int | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    # Echo of the spec's one-time nonce: proves the harness of *this* run wrote the file.
    nonce: str | None = None
    # Pull requests under `config-source: base`: what the PR's file changes in the verdict keys
    # (applied only after merge), one "`key`: base → head" line each, for reviewers.
    config_changes: list[str] = Field(default_factory=list)
    # The comparison with the base branch's run (docs/baseline.md); None: no comparison was due.
    baseline: BaselineBlock | None = None

    @property
    def failed_checks(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == "fail"]

    def dump(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, mode="json")

    def write(self, out_dir: Path) -> Path:
        from gate import outdir

        # Atomic (a reader never sees half a result), and never through a planted symlink.
        return outdir.write_text(out_dir / RESULT_FILE, json.dumps(self.dump(), indent=2, allow_nan=False) + "\n")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (the harness writes null for a non-finite loss)")


def load_result(out_dir: Path) -> Result:
    """Read and validate ``out_dir/result.json``; a clear ResultError otherwise, whatever the
    file holds (it may come from an untrusted job: huge, nested, not UTF-8, not a file)."""
    path = Path(out_dir) / RESULT_FILE
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_RESULT_BYTES + 1)
    except FileNotFoundError:
        raise ResultError(
            f"no {RESULT_FILE} in {out_dir}",
            hint="run `overfit-gate run --out DIR` first, or point --out at the downloaded report folder",
        ) from None
    except OSError as exc:
        raise ResultError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    if len(data) > MAX_RESULT_BYTES:
        raise ResultError(f"{path} is larger than {MAX_RESULT_BYTES // 2**20} MB; refusing to read it")
    try:
        raw = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise ResultError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise ResultError(f"{path} is nested too deeply to be a result") from None
    except ValueError as exc:  # JSONDecodeError, NaN, an integer over Python's digit limit
        raise ResultError(f"{path} is not valid JSON: {str(exc)[:200]}") from None
    return parse_result(raw, source=str(path))


def parse_result(raw: Any, source: str = RESULT_FILE) -> Result:
    try:
        return Result.model_validate(raw)
    except RecursionError:
        raise ResultError(f"{source} is nested too deeply to be a result") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()[:5])
        problems = problems if len(problems) <= 500 else problems[:499] + "…"
        raise ResultError(
            f"{source} does not match the result schema: {problems}",
            hint="the harness and controller versions may differ; re-run the gate",
        ) from None
