"""Script-mode results decided before any loss verdict: by how the program is built (an overfit
test does not fit it, no module is called as the model, the optimizer holds only frozen
parameters), by the gate's own instrumentation failing, or because the script never trained
(it exited with an error, never called backward, never stepped the model's optimizer)."""

from __future__ import annotations

import time

from gate.harness import output
from gate.harness.check_api import result
from gate.harness.contract import ErrorKind, ResultRecord, Verdict
from gate.harness.not_applicable import sentence
from gate.harness.script.summary import Ending, ScriptSummary

LIGHTNING_HINT = (
    "training_step must return the loss (or a dict with a 'loss' key): when it returns None, Lightning "
    "skips backward and optimizer.step for that batch without an error (only a warning), so nothing trains"
)


def error(facts: ScriptSummary, started: float, kind: str, reason: str) -> ResultRecord:
    return {
        "verdict": "error",
        "reason": reason,
        "error": {"type": kind, "message": reason, "traceback": ""},
        "steps": facts.steps,
        "losses": facts.losses,
        "duration_s": round(time.perf_counter() - started, 3),
        "mode": "script",
        "pinning": facts.pinning or None,
    }


def internal_error(facts: ScriptSummary, exc: BaseException, started: float) -> ResultRecord:
    """The gate's own instrumentation failed: say so, never blame the pipeline."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    reason = (
        f"overfit-gate internal error, not your pipeline: the gate's instrumentation raised {type(exc).__name__} "
        f"({first}); please report it to overfit-gate with the traceback in result.json"
    )
    out = error(facts, started, ErrorKind.GATE_INTERNAL, reason)
    out["error"] = output.error_info(exc, ErrorKind.GATE_INTERNAL) | {"message": reason}
    return out


def _decided(facts: ScriptSummary, command: list[str], started: float, verdict: Verdict, reason: str) -> ResultRecord:
    """A result decided by how the program is built, before any check ran."""
    return {
        "verdict": verdict,
        "reason": reason,
        "steps": facts.steps,
        "losses": facts.losses,
        "duration_s": round(time.perf_counter() - started, 3),
        "device": facts.device,
        "mode": "script",
        "pinning": facts.pinning or None,
        "command": list(command),
    }


def not_applicable(facts: ScriptSummary, command: list[str], started: float) -> ResultRecord:
    """Never a pass, never a bug diagnosis: the checks do not run on such a program."""
    assert facts.not_applicable is not None
    return _decided(facts, command, started, "not_applicable", sentence(facts.not_applicable))


def built_wrong(facts: ScriptSummary, command: list[str], started: float) -> ResultRecord | None:
    """No model to pin or check, or a model its optimizer cannot train."""
    if facts.model_missing:
        return error(
            facts,
            started,
            ErrorKind.MODEL_NOT_FOUND,
            "optimizer.step() ran after backward, but no module with trainable parameters was ever called as "
            "model(x) with gradients on, so there is no model to pin or check (a forward() called directly?); "
            "call the model as model(x), or gate it in task mode",
        )
    if facts.frozen_model is not None:
        frozen = _decided(
            facts,
            command,
            started,
            "fail",
            f"the optimizer holds only frozen parameters (requires_grad=False): none of {facts.frozen_model}'s "
            "trainable parameters is updated, so nothing can learn; build the optimizer from the trainable ones, "
            "e.g. [p for p in model.parameters() if p.requires_grad]",
        )
        frozen["event_kind"] = "frozen_optimizer"
        return frozen
    return None


def never_trained(facts: ScriptSummary, ending: Ending, started: float) -> ResultRecord | None:
    """The script exited with an error, or no training step of the model was seen."""
    if ending.how == "exited" and ending.exit_code not in (None, 0):
        return error(
            facts,
            started,
            ErrorKind.SCRIPT_EXIT,
            f"the training script exited with code {ending.exit_code!r} after {facts.steps} steps",
        )
    if facts.backwards == 0:
        return _no_backward(facts, ending, started)
    if facts.steps == 0:
        return error(
            facts,
            started,
            ErrorKind.NO_OPTIMIZER_STEP,
            f"the script called .backward() {facts.backwards} times but optimizer.step() never ran on an optimizer "
            "holding the model's parameters (a custom optimizer that is not a torch.optim.Optimizer?)",
        )
    return None


def _no_backward(facts: ScriptSummary, ending: Ending, started: float) -> ResultRecord:
    if facts.loss_problem:
        return error(
            facts,
            started,
            ErrorKind.LOSS_NOT_FOUND,
            f"could not find the loss: {facts.loss_problem}; the gate reads the loss from the scalar tensor "
            ".backward() is called on",
        )
    unused = _loss_never_backpropagated(facts, started)
    if unused is not None:
        return unused
    elsewhere = (
        f"; it started {facts.children} other process(es) (subprocess / multiprocessing), and training that runs "
        "there is out of the gate's reach: gate the training command itself (`-- python train.py`, "
        "`-- torchrun --nproc_per_node=1 train.py`; mp.spawn and torch.multiprocessing.Process workers "
        "are run in-process), or a task-mode entry point"
        if facts.children
        else ""
    )
    how = "it ended on its own" if ending.how != "stopped" else "it was stopped"
    return error(
        facts,
        started,
        ErrorKind.NO_BACKWARD,
        "the training script never called .backward(), so there is no loss to watch "
        f"({how}, optimizer.step() ran {facts.unmatched_steps} times){elsewhere}; "
        "is this the training entry point, and does it train with loss.backward()?",
    )


def _loss_never_backpropagated(facts: ScriptSummary, started: float) -> ResultRecord | None:
    """A loss was computed with gradients and optimizer.step() ran, but nothing ever called
    backward: the silent no-training bug (Lightning's training_step without ``return loss``),
    not a pipeline error."""
    if facts.loss_name is None or facts.unmatched_steps == 0:
        return None
    reason = (
        f"a loss ({facts.loss_name}) was computed and optimizer.step() ran {facts.unmatched_steps} times, but "
        ".backward() was never called: the model never trains"
    )
    hint = LIGHTNING_HINT if facts.lightning else "call loss.backward() before optimizer.step()"
    return {
        "verdict": "fail",
        "reason": reason + (" (Lightning: training_step returned None)" if facts.lightning else ""),
        "checks": [result("loss_direction", "fail", reason, hint)],
        "steps": 0,
        "losses": [],
        "duration_s": round(time.perf_counter() - started, 3),
        "mode": "script",
        "pinning": facts.pinning or None,
        "event_kind": "no_backward",
    }
