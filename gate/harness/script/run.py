"""Script mode end to end: instrument torch, run the user's script as ``__main__``, restore
torch, and turn what was seen into the same result dictionary task mode produces."""

from __future__ import annotations

import time
from typing import Any

import torch

from gate.harness import output
from gate.harness.check_api import result
from gate.harness.checks import active_checks
from gate.harness.contract import CheckRecord, ErrorKind, ResultRecord, Verdict
from gate.harness.diagnose import likely_cause
from gate.harness.loop import LoopOutcome
from gate.harness.not_applicable import sentence
from gate.harness.outcome import decide, loss_fields, make_monitor
from gate.harness.runtime import log, seed_everything
from gate.harness.script import command, launchers
from gate.harness.script.context import pinning_sentence
from gate.harness.script.patches import Patcher, install
from gate.harness.script.rerun import NAME, input_dependence
from gate.harness.script.session import GateInternalError, Session, StopScript
from gate.harness.spec import Spec


def run_script(spec: Spec, started: float) -> ResultRecord:
    target = command.parse(spec.command)
    seed_everything(spec.seed)
    monitor = make_monitor(spec, None)
    checks = active_checks(spec, "script")
    session = Session(spec, monitor, checks, log)
    session.launch = launchers.describe(target.launch) if target.launch else ""
    log(
        f"overfit-gate harness: script {target.describe()} {' '.join(target.args)}  torch {torch.__version__}  "
        f"seed {spec.seed}  pin {spec.pin}  steps {spec.steps}"
    )
    ended = "stopped"
    exit_code: Any = None
    patcher = Patcher()
    try:
        install(session, patcher, pin_loaders=spec.pin in ("auto", "dataloader"))
        try:
            command.run(target)
            ended = "returned"
        except (StopScript, GateInternalError):
            pass
        except SystemExit as exc:
            exit_code = exc.code
            ended = "stopped" if session.stopping else "exited"
        except Exception:
            if not session.stopping:  # a crash after our stop (cleanup code) does not change the verdict
                raise
    finally:
        patcher.restore()
    if session.internal_error is not None:
        return _internal_error(session, started)
    session.flush()
    return _result(spec, session, started, ended, exit_code, target)


def _internal_error(session: Session, started: float) -> ResultRecord:
    """The gate's own instrumentation failed: say so, never blame the pipeline."""
    exc = session.internal_error
    assert exc is not None
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    reason = (
        f"overfit-gate internal error, not your pipeline: the gate's instrumentation raised {type(exc).__name__} "
        f"({first}); please report it to overfit-gate with the traceback in result.json"
    )
    out = _error(session, started, ErrorKind.GATE_INTERNAL, reason)
    out["error"] = output.error_info(exc, ErrorKind.GATE_INTERNAL) | {"message": reason}
    return out


def _error(session: Session, started: float, kind: str, reason: str) -> ResultRecord:
    return {
        "verdict": "error",
        "reason": reason,
        "error": {"type": kind, "message": reason, "traceback": ""},
        "steps": session.step,
        "losses": session.losses,
        "duration_s": round(time.perf_counter() - started, 3),
        "mode": "script",
        "pinning": session.pinning or None,
    }


def _decided(session: Session, started: float, verdict: Verdict, reason: str) -> ResultRecord:
    """A result decided by how the program is built, before any check ran."""
    return {
        "verdict": verdict,
        "reason": reason,
        "steps": session.step,
        "losses": session.losses,
        "duration_s": round(time.perf_counter() - started, 3),
        "device": str(session.device),
        "mode": "script",
        "pinning": session.pinning or None,
        "command": list(session.spec.command),
    }


def _not_applicable(session: Session, started: float, why: str) -> ResultRecord:
    """Never a pass, never a bug diagnosis: the checks do not run on such a program."""
    return _decided(session, started, "not_applicable", sentence(why))


def _special(session: Session, started: float) -> ResultRecord | None:
    """Outcomes decided by how the program is built, before any loss verdict."""
    if session.not_applicable:
        session.stream.sync()  # the losses still on the device, for the curve
        return _not_applicable(session, started, session.not_applicable)
    if session.model_missing:
        return _error(
            session,
            started,
            ErrorKind.MODEL_NOT_FOUND,
            "optimizer.step() ran after backward, but no module with trainable parameters was ever called as "
            "model(x) with gradients on, so there is no model to pin or check (a forward() called directly?); "
            "call the model as model(x), or gate it in task mode",
        )
    if session.modules.frozen_optimizer:
        top = type(session.modules.top).__name__
        frozen = _decided(
            session,
            started,
            "fail",
            f"the optimizer holds only frozen parameters (requires_grad=False): none of {top}'s trainable "
            "parameters is updated, so nothing can learn; build the optimizer from the trainable ones, e.g. "
            "[p for p in model.parameters() if p.requires_grad]",
        )
        frozen["event_kind"] = "frozen_optimizer"
        return frozen
    return None


def _result(
    spec: Spec, session: Session, started: float, ended: str, exit_code: Any, target: command.Target
) -> ResultRecord:
    if session.pinning:  # what was pinned is only fully known now (targets, short batches)
        session.pinning = pinning_sentence(session)
    special = _special(session, started)
    if special is not None:
        return special
    if ended == "exited" and exit_code not in (None, 0):
        return _error(
            session,
            started,
            ErrorKind.SCRIPT_EXIT,
            f"the training script exited with code {exit_code!r} after {session.step} steps",
        )
    if session.backwards == 0:
        if session.loss_problem:
            return _error(
                session,
                started,
                ErrorKind.LOSS_NOT_FOUND,
                f"could not find the loss: {session.loss_problem}; the gate reads the loss from the scalar tensor .backward() is called on",
            )
        unused = _loss_never_backpropagated(session, started)
        if unused is not None:
            return unused
        children = session.workers.children
        elsewhere = (
            f"; it started {children} other process(es) (subprocess / multiprocessing), and training that runs "
            "there is out of the gate's reach: gate the training command itself (`-- python train.py`, "
            "`-- torchrun --nproc_per_node=1 train.py`; mp.spawn and torch.multiprocessing.Process workers "
            "are run in-process), or a task-mode entry point"
            if children
            else ""
        )
        return _error(
            session,
            started,
            ErrorKind.NO_BACKWARD,
            "the training script never called .backward(), so there is no loss to watch "
            f"({'it ended on its own' if ended != 'stopped' else 'it was stopped'}, optimizer.step() ran {session.unmatched_steps} times){elsewhere}; "
            "is this the training entry point, and does it train with loss.backward()?",
        )
    if session.step == 0:
        return _error(
            session,
            started,
            ErrorKind.NO_OPTIMIZER_STEP,
            f"the script called .backward() {session.backwards} times but optimizer.step() never ran on an optimizer "
            "holding the model's parameters (a custom optimizer that is not a torch.optim.Optimizer?)",
        )
    if not session.stopping:
        session.sync()  # the losses still on the device
    if not session.stopping and session.monitor.decision is None:
        # The script ended itself first: at the target it passes; its epochs ran out while the
        # loss still fell (or too soon to tell) is not applicable; flat for its second half, stalled.
        how = (
            "returned"
            if ended == "returned"
            else f"called sys.exit({exit_code!r})"
            if exit_code is not None
            else "called sys.exit()"
        )
        session.monitor.ended_at_target(how) or session.monitor.ended_early(how)
    outcome = LoopOutcome(
        session.monitor.finish(), session.step, session.losses, time.perf_counter() - session.t0, session.stopped_by
    )
    checks = _finish_checks(session)
    if spec.enabled(NAME):  # task mode's version needs a fresh model; here the script makes it again
        checks = [input_dependence(session, target) if c["name"] == NAME else c for c in checks]
    cause = likely_cause(outcome.decision, checks, session.spy, session.dropout, session.monitor)
    verdict, reason = decide(outcome, checks, spec.fail_on_warn, cause)
    return {
        **loss_fields(outcome, session.monitor),
        "verdict": verdict,
        "reason": reason,
        "checks": checks,
        "duration_s": round(time.perf_counter() - started, 3),
        "device": str(session.device),
        "mode": "script",
        "pinning": session.pinning,
        "command": list(spec.command),
        "notes": [n for n in [*session.notes, session.dropout.note] if n],
    }


LIGHTNING_HINT = (
    "training_step must return the loss (or a dict with a 'loss' key): when it returns None, Lightning "
    "skips backward and optimizer.step for that batch without an error (only a warning), so nothing trains"
)


def _lightning(session: Session) -> bool:
    """A LightningModule was called (checked by class name: the harness never imports lightning)."""
    return any(
        c.__name__ == "LightningModule" and c.__module__.split(".")[0] in ("lightning", "pytorch_lightning")
        for m in session.modules.seen()
        for c in type(m).__mro__
    )


def _loss_never_backpropagated(session: Session, started: float) -> ResultRecord | None:
    """A loss was computed with gradients and optimizer.step() ran, but nothing ever called
    backward: the silent no-training bug (Lightning's training_step without ``return loss``),
    not a pipeline error."""
    if not session.spy.calls or session.unmatched_steps == 0:
        return None
    name = session.spy.calls[0].name
    reason = (
        f"a loss ({name}) was computed and optimizer.step() ran {session.unmatched_steps} times, but .backward() "
        "was never called: the model never trains"
    )
    hint = LIGHTNING_HINT if _lightning(session) else "call loss.backward() before optimizer.step()"
    check = result("loss_direction", "fail", reason, hint)
    return {
        "verdict": "fail",
        "reason": reason + (" (Lightning: training_step returned None)" if _lightning(session) else ""),
        "checks": [check],
        "steps": 0,
        "losses": [],
        "duration_s": round(time.perf_counter() - started, 3),
        "mode": "script",
        "pinning": session.pinning or None,
        "event_kind": "no_backward",
    }


def _finish_checks(session: Session) -> list[CheckRecord]:
    out: list[CheckRecord] = []
    for c in session.checks:
        if session.ctx is None:
            out.append(
                result(c.name, "skip", "no top-level module with trainable parameters was found to run this check on")
            )
            continue
        error = session.check_errors.get(c.name)
        if error is None:
            try:
                out.extend(c.finish(session.ctx))
                continue
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
        out.append(result(c.name, "skip", f"this check could not run in script mode ({error})"))
    return out
