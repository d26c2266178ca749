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
from gate.harness.script.patches import Patcher, install
from gate.harness.script.pinning import qualname
from gate.harness.script.session import GateInternalError, Session, StopScript
from gate.harness.verdict import fmt


def input_dependence(real: Session, target: command.Target) -> CheckRecord:
    mon, ctx = real.monitor, real.ctx
    if ctx is None or real.modules.top is None:
        return result(NAME, "skip", "no top-level module was found whose inputs could be zeroed")
    if mon.target_step is None or mon.target is None or mon.first is None:
        return result(NAME, "skip", "the real run did not reach its target, so there is nothing to compare")
    if not ctx.input_keys:
        return result(NAME, "skip", f"{type(ctx.model).__name__} is called with no input tensors to zero")
    monitor = zeroed_run_monitor(mon)
    budget = monitor.budget
    spec = replace(real.spec, steps=budget, sync_every=max(1, min(real.spec.sync_every, 8)))
    probe = Session(spec, monitor, [Tracker(real.losses, mon.first - mon.target)], log=lambda line: None)
    probe.modules.zero = (qualname(real.modules.top), set(ctx.input_keys))
    probe.launch = real.launch  # a launcher's worker runs the same way again
    log(
        f"overfit-gate harness: input_dependence: running the script again with the inputs of "
        f"{type(ctx.model).__name__} zeroed (at most {budget} steps)"
    )
    seed_everything(spec.seed)
    patcher = Patcher()
    try:
        install(probe, patcher, pin_loaders=spec.pin in ("auto", "dataloader"))
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
            if not probe.stopping:
                return result(NAME, "skip", f"the second run (inputs zeroed) raised {type(exc).__name__}: {exc}")
    finally:
        patcher.restore()
    if not probe.stopping:
        probe.sync()
    data: dict[str, Any] = {"losses": probe.losses, "steps": probe.step, "budget": budget, "target": mon.target}
    data["covered"] = covered(mon, monitor.best)
    if monitor.target_step is not None:
        return result(
            NAME,
            "fail",
            leak_message(mon, monitor, f"the inputs of {type(ctx.model).__name__}"),
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
