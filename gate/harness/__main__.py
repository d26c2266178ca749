"""``python -m gate.harness --spec spec.json``: the process the runners start.

Always leaves a ``result.json`` behind when it can: a crash in user code becomes an
``error`` result with the traceback, never a silent non-zero exit.
Exit codes mirror the controller's: 0 pass, 1 fail, 2 bad entry point, 3 error, 4 not applicable.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from gate.harness import output, phase
from gate.harness.contract import ErrorKind, ResultRecord
from gate.harness.spec import Spec

EXIT = {"pass": 0, "fail": 1, "error": 3, "not_applicable": 4}


class Cancelled(BaseException):
    """SIGTERM from the runner (timeout) or a cancelled workflow."""


def _on_term(signum: int, frame: FrameType | None) -> None:
    raise Cancelled(f"received signal {signum}")


def _error_result(kind: str, exc: BaseException, reason: str, started: float) -> ResultRecord:
    return {
        "verdict": "error",
        "reason": reason,
        "error": output.error_info(exc, kind),
        "duration_s": round(time.perf_counter() - started, 3),
    }


def _classify(exc: BaseException) -> tuple[str, str]:
    """A one-sentence reason and an error type for an exception out of the pipeline."""
    import torch

    from gate.harness.loop import LossContractError

    if type(exc).__name__ == "GateInternalError":  # the gate's own fault, whatever it wraps
        return (
            ErrorKind.GATE_INTERNAL,
            f"overfit-gate internal error, not your pipeline: {exc}; please report it to overfit-gate",
        )
    if isinstance(exc, (torch.cuda.OutOfMemoryError, MemoryError)) or "out of memory" in str(exc).lower():
        where = phase.current()
        return (
            ErrorKind.OUT_OF_MEMORY,
            f"{'the pipeline' if where == phase.TRAINING else where} ran out of memory "
            f"(during {where}): {str(exc).splitlines()[0] if str(exc) else type(exc).__name__} "
            "(use a smaller batch or model for the gate)",
        )
    if isinstance(exc, LossContractError):
        return ErrorKind.LOSS_CONTRACT, str(exc)
    first = str(exc).splitlines()[0] if str(exc) else ""
    return type(exc).__name__, f"the pipeline raised {type(exc).__name__}" + (f": {first}" if first else "")


def _run_mode(spec: Spec, started: float) -> ResultRecord:
    """Task or script mode, with the optimizers' weight decay off (one global hook, so both modes,
    the input_dependence rerun and launchers' in-process workers alike; see weight_decay.py)."""
    from gate.harness.weight_decay import WeightDecaySwitch

    weight_decay = WeightDecaySwitch(spec.keep_weight_decay).install()
    try:
        if spec.mode == "script":
            from gate.harness.script import run_script

            result = run_script(spec, started)
        else:
            from gate.harness.run_task import run

            result = run(spec, started)
    finally:
        weight_decay.remove()
    if weight_decay.note:
        result["notes"] = [*result.get("notes", []), weight_decay.note]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gate.harness")
    parser.add_argument("--spec", required=True, type=Path)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    spec = Spec.load(args.spec)
    # The spec is read; the training code (same user, same folder) has no business reading the nonce.
    args.spec.unlink(missing_ok=True)
    out = Path(spec.out)
    phase.setup(out)
    signal.signal(signal.SIGTERM, _on_term)

    base: ResultRecord = {"mode": spec.mode, "seed": spec.seed, "name": spec.name, "nonce": spec.nonce or None}
    if spec.entrypoint:
        base["entrypoint"] = spec.entrypoint
    if spec.command:
        base["command"] = spec.command
    try:
        import torch

        base["torch_version"] = torch.__version__
        result = _run_mode(spec, started)
    except Cancelled as exc:
        result = _error_result(ErrorKind.CANCELLED, exc, f"the run was stopped from outside ({exc})", started)
    except KeyboardInterrupt as exc:
        result = _error_result(ErrorKind.CANCELLED, exc, "the run was interrupted", started)
    except BaseException as exc:
        from gate.harness.task import TaskError

        if isinstance(exc, TaskError):
            result = _error_result(ErrorKind.ENTRYPOINT, exc, str(exc), started)
            phase.finish()
            output.write(out, base | result)
            print(f"overfit-gate harness: {exc}", file=sys.stderr, flush=True)
            return 2
        if isinstance(exc, SystemExit) and spec.mode == "task":
            exc = RuntimeError(f"the task called sys.exit({exc.code})")
        kind, reason = _classify(exc)
        result = _error_result(kind, exc, reason, started)
        print(output.error_info(exc)["traceback"], file=sys.stderr, flush=True)
    phase.finish()
    output.write(out, base | result)
    return EXIT[result["verdict"]]


if __name__ == "__main__":
    sys.exit(main())
