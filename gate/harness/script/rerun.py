"""input_dependence in script mode: the script builds its own model, so the second run the
check needs is the script itself, run again from the same seed with the top-level
module's inputs zeroed at every training call (targets passed to it, such as nanoGPT's
``targets``, are left alone). Same rule as task mode: reaching the real run's target
without inputs means the loss does not depend on them."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from gate.harness import phase
from gate.harness.check_api import result
from gate.harness.checks.input_dependence import LEAK, NAME, Tracker, covered, leak_message, zeroed_run_monitor
from gate.harness.contract import CheckRecord
from gate.harness.runtime import log, seed_everything
from gate.harness.script import command
from gate.harness.script.guard import GateInternalError, StopScript
from gate.harness.script.patches import instrumented
from gate.harness.script.pinning import qualname
from gate.harness.script.session import Session
from gate.harness.script.summary import ScriptSummary
from gate.harness.verdict import Monitor, fmt


def input_dependence(real: Session, target: command.Target) -> CheckRecord:
    mon, ctx, top = real.monitor, real.dispatch.ctx, real.modules.top
    if ctx is None or top is None:
        return result(NAME, "skip", "no top-level module was found whose inputs could be zeroed")
    if mon.target_step is None or mon.target is None or mon.first is None:
        return result(NAME, "skip", "the real run did not reach its target, so there is nothing to compare")
    if not ctx.input_keys:
        return result(NAME, "skip", f"{type(ctx.model).__name__} is called with no input tensors to zero")
    monitor = zeroed_run_monitor(mon)
    spec = replace(real.spec, steps=monitor.budget, sync_every=max(1, min(real.spec.sync_every, 8)))
    probe = Session(
        spec,
        monitor,
        [Tracker(real.summary().losses, mon.first - mon.target)],
        log=lambda line: None,
        launch=real.launch,  # a launcher's worker runs the same way again
        zero=(qualname(top), set(ctx.input_keys)),
    )
    model = type(ctx.model).__name__
    log(
        f"overfit-gate harness: input_dependence: running the script again with the inputs of "
        f"{model} zeroed (at most {monitor.budget} steps)"
    )
    seed_everything(spec.seed)
    failed = _rerun(probe, target)
    if failed is not None:
        return failed
    if not probe.guard.stopping:
        probe.sync()
    return _judge(mon, monitor, probe.summary(), model)


def _rerun(probe: Session, target: command.Target) -> CheckRecord | None:
    """Run the script again under ``probe``; a record when the second run could not be compared."""
    with instrumented(probe):
        try:
            with phase.within("the gate's input_dependence rerun of the script (inputs zeroed)"):
                command.run(target)
        except (StopScript, SystemExit):
            pass
        except GateInternalError as exc:
            return result(
                NAME, "warn", f"could not run: the gate's own instrumentation failed in the second run ({exc})"
            )
        except Exception as exc:
            if not probe.guard.stopping:
                return result(NAME, "skip", f"the second run (inputs zeroed) raised {type(exc).__name__}: {exc}")
    return None


def _judge(mon: Monitor, monitor: Monitor, probe: ScriptSummary, model: str) -> CheckRecord:
    """Reaching the real run's target with the inputs zeroed means the loss does not depend on them."""
    assert mon.target is not None
    data: dict[str, Any] = {"losses": probe.losses, "steps": probe.steps, "budget": monitor.budget}
    data |= {"target": mon.target, "covered": covered(mon, monitor.best)}
    if monitor.target_step is not None:
        return result(
            NAME,
            "fail",
            leak_message(mon, monitor, f"the inputs of {model}"),
            "the targets or the loss come from something other than the inputs: labels computed from the model's "
            "own output, a loss that ignores the prediction, or a forward that ignores its input",
            **data,
        )
    if monitor.best is None or not math.isfinite(monitor.best):
        return result(
            NAME, "skip", "with the inputs zeroed the loss was not finite, so the runs cannot be compared", **data
        )
    return result(
        NAME,
        "pass",
        f"with the inputs zeroed the loss stayed at {fmt(monitor.best)}, {covered(mon, monitor.best):.0%} of the way "
        f"to the target {fmt(mon.target)} (real run: at step {mon.target_step}; a leak gets {LEAK:.0%} of the way "
        "or more)",
        **data,
    )
