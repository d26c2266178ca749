"""Script mode end to end: instrument torch, run the user's script as ``__main__``, restore
torch, and turn what was seen into the same result dictionary task mode produces."""

from __future__ import annotations

import torch

from gate.harness.checks import active_checks
from gate.harness.contract import ResultRecord
from gate.harness.diagnose import likely_cause
from gate.harness.loop import LoopOutcome
from gate.harness.outcome import judged, make_monitor
from gate.harness.runtime import log, seed_everything
from gate.harness.script import command, early, launchers
from gate.harness.script.guard import GateInternalError, StopScript
from gate.harness.script.patches import instrumented
from gate.harness.script.rerun import NAME, input_dependence
from gate.harness.script.session import Session
from gate.harness.script.summary import Ending
from gate.harness.spec import Spec


def run_script(spec: Spec, started: float) -> ResultRecord:
    target = command.parse(spec.command)
    seed_everything(spec.seed)
    monitor = make_monitor(spec, None)
    checks = active_checks(spec, "script")
    launch = launchers.describe(target.launch) if target.launch else ""
    session = Session(spec, monitor, checks, log, launch=launch)
    log(
        f"overfit-gate harness: script {target.describe()} {' '.join(target.args)}  torch {torch.__version__}  "
        f"seed {spec.seed}  pin {spec.pin}  steps {spec.steps}"
    )
    ending = _run(session, target)
    error = session.guard.internal_error
    if error is not None:
        return early.internal_error(session.summary(), error, started)
    return _result(spec, session, started, ending, target)


def _run(session: Session, target: command.Target) -> Ending:
    """Run the script under the instrumentation, until it ends or the gate stops it."""
    with instrumented(session):
        try:
            command.run(target)
            return Ending("returned")
        except (StopScript, GateInternalError):
            pass
        except SystemExit as exc:
            return Ending("stopped" if session.guard.stopping else "exited", exc.code)
        except Exception:
            if not session.guard.stopping:  # a crash after our stop (cleanup code) does not change the verdict
                raise
    return Ending("stopped")


def _result(spec: Spec, session: Session, started: float, ending: Ending, target: command.Target) -> ResultRecord:
    facts = session.end()
    if facts.not_applicable:
        session.read_back()  # the losses still on the device, for the curve
        return early.not_applicable(session.summary(), spec.command, started)
    decided = early.built_wrong(facts, spec.command, started) or early.never_trained(facts, ending, started)
    if decided is not None:
        return decided
    if not facts.stopping:
        session.sync()  # the losses still on the device
    facts, monitor = session.summary(), session.monitor
    if not facts.stopping and monitor.decision is None:
        # The script ended itself first: at the target it passes; its epochs ran out while the
        # loss still fell (or too soon to tell) is not applicable; flat for its second half, stalled.
        monitor.ended_at_target(ending.said()) or monitor.ended_early(ending.said())
    outcome = LoopOutcome(monitor.finish(), facts.steps, facts.losses, facts.loop_s, facts.stopped_by)
    checks = session.dispatch.finish()
    if spec.enabled(NAME):  # task mode's version needs a fresh model; here the script makes it again
        checks = [input_dependence(session, target) if c["name"] == NAME else c for c in checks]
    cause = likely_cause(outcome.decision, checks, session.spy, session.dropout, monitor)
    return {
        **judged(outcome, checks, monitor, spec, cause, started, facts.device),
        "mode": "script",
        "pinning": facts.pinning,
        "command": list(spec.command),
        "notes": facts.notes,
    }
