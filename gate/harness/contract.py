"""The ``result.json`` contract, harness side (standard library only).

Every result the harness writes is built as these records; the controller validates the file
with the pydantic models in ``gate/result.py``. ``tests/harness/test_contract.py`` keeps the two field
lists equal, and the models forbid unknown keys, so a field written here and not modelled
there (or the reverse) fails the tests instead of being dropped or kept unchecked.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

SCHEMA: Literal[1] = 1

# not_applicable (exit 4): the program is not one an overfit test fits (policy gradients,
# adversarial losses, layer-local losses): never a pass, never a bug diagnosis.
Verdict = Literal["pass", "fail", "error", "not_applicable"]
CheckStatus = Literal["pass", "fail", "warn", "skip"]


class ErrorKind:
    """``error.type`` values that decide behaviour somewhere (exit code, check-run conclusion,
    report wording). Other types are the exception's class name (``RuntimeError``, ...)."""

    # The user's input was wrong: exit 2, not "the pipeline broke" (see USAGE_ERRORS).
    ENTRYPOINT = "EntrypointError"
    CONFIG = "ConfigError"
    USAGE = "UsageError"
    # Stopped from outside: the check run concludes `cancelled` / `timed_out`.
    CANCELLED = "Cancelled"
    TIMEOUT = "Timeout"
    OUT_OF_MEMORY = "OutOfMemory"
    LOSS_CONTRACT = "LossContractError"
    # Script mode: the script never produced a run to judge.
    SCRIPT_EXIT = "ScriptExit"
    LOSS_NOT_FOUND = "LossNotFound"
    NO_BACKWARD = "NoBackward"
    NO_OPTIMIZER_STEP = "NoOptimizerStep"
    MODEL_NOT_FOUND = "ModelNotFound"  # optimizers step, but no module is ever called as model(x)
    # The gate's own instrumentation raised: never reported as the pipeline's error.
    GATE_INTERNAL = "GateInternalError"
    # Controller side: what the runner left behind could not be read.
    HARNESS_CRASHED = "HarnessCrashed"
    RESULT = "ResultError"
    # The controller itself failed (a bug, an out folder it cannot write): exit 3.
    CONTROLLER = "ControllerError"


USAGE_ERRORS = frozenset({ErrorKind.ENTRYPOINT, ErrorKind.CONFIG, ErrorKind.USAGE})


class CheckRecord(TypedDict):
    name: str
    status: CheckStatus
    message: str
    hint: str
    data: dict[str, Any]  # machine-readable evidence (culprit names, steps, a comparison curve)


class ErrorRecord(TypedDict):
    type: str
    message: str
    traceback: str


class ResultRecord(TypedDict, total=False):
    """One run's result. ``verdict`` and ``reason`` are always set; the rest as known."""

    schema: int
    verdict: Verdict
    reason: str
    steps: int
    initial_loss: float | None
    final_loss: float | None
    best_loss: float | None
    losses: list[float | None]
    checks: list[CheckRecord]
    duration_s: float
    loop_s: float  # seconds in the training loop itself (benchmarks compare it with a bare loop)
    device: str
    torch_version: str
    mode: Literal["task", "script"]
    error: ErrorRecord | None
    name: str
    gate_version: str  # stamped by the controller
    target: float | None
    floor: float | None
    target_step: int | None
    event_step: int | None
    event_kind: str | None
    best_step: int | None
    entrypoint: str | None
    command: list[str] | None
    pinning: str | None
    notes: list[str]  # what the gate changed or derived for the run (dropout off, a loss floor)
    seed: int | None
    config: dict[str, Any]  # stamped by the controller: the resolved config
    config_changes: list[str]  # stamped by the controller: what the PR changed in the gate config
    nonce: str | None  # the spec's one-time value, echoed by the harness; the controller drops it
    baseline: dict[str, Any] | None  # stamped by the controller: the base-branch comparison (gate/baseline/model.py)
