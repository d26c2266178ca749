"""input_dependence (Karpathy's input-independent baseline): overfit the same batch again
with the model's inputs zeroed. If that reaches the target just as well, the loss does not
depend on the input: targets computed from the model's own output, a loss that ignores
the prediction, labels leaked through something other than the inputs.

The inputs are zeroed at the model's door (a forward pre-hook on the model), so targets
stored in the same tensor as the inputs (a language model's token batch) stay intact.
Without its input the model learns along another path (only biases see a gradient at
first), so the zeroed run may take up to twice the steps the real run needed to reach
its target; it stops as soon as it falls clearly behind the real curve slowed down by
that factor, which on a healthy pipeline is the first sync."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch

from gate.harness.batch import get_inputs, replace_inputs
from gate.harness.check_api import Check, Context, FreshFactory, result
from gate.harness.contract import CheckRecord
from gate.harness.loop import LoopOutcome, train
from gate.harness.verdict import Monitor, fmt

NAME = "input_dependence"
# The zeroed run is judged on how far down it gets, not on a race to the exact target: a
# healthy pipeline without inputs stalls near the label entropy (measured: 0.2-0.6 of the
# real run's way down, e.g. a masked LM whose positions still tell labels apart ~0.8), while
# a leak gets all the way (the b13 case: 99 %, 1.36 -> 0.0146 against a 0.0136 target).
LEAK = 0.95  # fail when the zeroed run covers this much of the real run's first -> target


def leak_target(mon: Monitor) -> float:
    """The loss the zeroed run must not reach: LEAK of the way from the first loss to the target."""
    assert mon.first is not None and mon.target is not None
    return mon.target + (1 - LEAK) * (mon.first - mon.target)


def zeroed_run_monitor(mon: Monitor) -> Monitor:
    """The monitor of the second run (inputs zeroed), in task and script mode alike: SLOWDOWN times
    the real run's steps to target, stopping as soon as the loss gets LEAK of the way there."""
    assert mon.target_step is not None
    budget = SLOWDOWN * (mon.target_step + 1)
    return Monitor(
        steps=budget,
        target_loss=leak_target(mon),
        floor=mon.floor,
        confirm_steps=1,
        divergence_factor=1e9,
        patience=budget + 1,
    )


def covered(mon: Monitor, best: float | None) -> float:
    assert mon.first is not None and mon.target is not None
    gap = mon.first - mon.target
    return (mon.first - best) / gap if best is not None and gap > 0 else 0.0


def leak_message(mon: Monitor, zeroed: Monitor, what: str) -> str:
    return (
        f"with {what} zeroed the loss still fell to {fmt(zeroed.best)} (step {zeroed.target_step}), "
        f"{covered(mon, zeroed.best):.0%} of the way from {fmt(mon.first)} to the target {fmt(mon.target)} "
        f"(the real run reached it at step {mon.target_step}): the loss does not depend on the input"
    )


SLOWDOWN = 2  # the zeroed run may need this many times the real run's steps
BEHIND = 0.25  # stop once it trails the slowed-down real curve by this fraction of the gap
STALL = 0.01  # ... or improved by less than this fraction of the gap over one sync window


def zeroed(x: Any) -> Any:
    return torch.zeros_like(x) if isinstance(x, torch.Tensor) else x


class Tracker(Check):
    """Stops the zeroed run once it is clearly behind the real one, slowed down SLOWDOWN x."""

    name = "input_dependence.tracker"

    def __init__(self, real: list[float | None], gap: float) -> None:
        self.best_real: list[float] = []
        best = float("inf")
        for v in real:
            best = min(best, v) if v is not None else best
            self.best_real.append(best)
        self.gap = gap
        self.behind = False

    def on_sync(self, ctx: Context, step: int) -> bool:
        mine = [v for v in ctx.losses if v is not None]
        if not mine:
            return False
        ref = self.best_real[max(1, min(step // SLOWDOWN, len(self.best_real))) - 1]
        window = max(1, ctx.spec.sync_every)
        earlier = min(mine[:-window]) if len(mine) > window else mine[0]
        stalled = earlier - min(mine) < STALL * self.gap  # the no-input plateau (label entropy)
        self.behind = min(mine) > ref + BEHIND * self.gap or stalled
        return self.behind


class InputDependence(Check):
    name = NAME

    def finish(self, ctx: Context) -> list[CheckRecord]:
        mon = ctx.monitor
        if ctx.make_fresh is None:
            return [result(NAME, "skip", "needs a fresh model for a second run (task mode)")]
        if mon.target_step is None or mon.target is None or mon.first is None:
            return [result(NAME, "skip", "the real run did not reach its target, so there is nothing to compare")]
        monitor = zeroed_run_monitor(mon)
        outcome = _zeroed_run(ctx, ctx.make_fresh, monitor, mon.first - mon.target)
        if not isinstance(outcome, LoopOutcome):
            return [outcome]  # the zeroed run could not run: a skip
        return [_verdict(mon, monitor, outcome)]


def _zeroed_run(ctx: Context, make_fresh: FreshFactory, monitor: Monitor, gap: float) -> LoopOutcome | CheckRecord:
    """Train a fresh model on the batch with every input zeroed at the model's door (in the
    batch when the loss never calls the model's forward); a skip result when it cannot run."""
    model, batch, loss_fn, opt = make_fresh()
    fired = [0]

    def zero_inputs(mod: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        fired[0] += 1
        return tuple(zeroed(a) for a in args), {k: zeroed(v) for k, v in kwargs.items()}

    handle = model.register_forward_pre_hook(zero_inputs, with_kwargs=True)
    sub = type(ctx)(
        spec=replace(ctx.spec, sync_every=max(1, min(ctx.spec.sync_every, 8))),
        model=model,
        batch=batch,
        loss_fn=loss_fn,
        optimizer=opt,
        forward=ctx.forward,
        input_keys=ctx.input_keys,
        device=ctx.device,
        monitor=monitor,
        mode=ctx.mode,
    )
    tracker = Tracker(ctx.losses, gap)
    try:
        # Probe one forward first: if the loss never calls the model's own forward the
        # pre-hook cannot zero anything; zero the batch inputs instead when they are
        # separate from the targets.
        with torch.no_grad():
            loss_fn(model, batch)
        if fired[0] == 0:
            handle.remove()
            if not ctx.input_keys:
                return result(
                    NAME,
                    "skip",
                    "the loss does not call the model's forward, and the batch has no separate inputs to zero",
                )
            sub.batch = replace_inputs(batch, ctx.input_keys, [zeroed(x) for x in get_inputs(batch, ctx.input_keys)])
        return train(sub, monitor, [tracker])
    except Exception as exc:  # e.g. zero lengths for a packed sequence: not a verdict on the pipeline
        first = str(exc).splitlines()[0] if str(exc) else ""
        return result(
            NAME,
            "skip",
            f"the model cannot run with zeroed inputs ({type(exc).__name__}: {first})",
            'opt out with skip_checks = ["input_dependence"] to silence this',
        )
    finally:
        handle.remove()


def _verdict(mon: Monitor, monitor: Monitor, outcome: LoopOutcome) -> CheckRecord:
    """Fail when the zeroed run (``monitor``) got LEAK of the way to the real run's (``mon``) target."""
    data: dict[str, Any] = {
        "losses": outcome.losses,
        "steps": outcome.steps,
        "budget": monitor.budget,
        "target": mon.target,
        "covered": covered(mon, monitor.best),
    }
    if monitor.target_step is not None:
        return result(
            NAME,
            "fail",
            leak_message(mon, monitor, "every model input"),
            "the targets or the loss come from something other than the inputs: labels computed from the "
            "model's own output (e.g. y = model(x).argmax()), a loss that ignores the prediction, or the "
            "forward ignores its input",
            **data,
        )
    best = monitor.best
    return result(
        NAME,
        "pass",
        f"with the inputs zeroed the loss stayed at {fmt(best)}, {covered(mon, best):.0%} of the way to the target "
        f"{fmt(mon.target)} (real run: at step {mon.target_step}; a leak gets {LEAK:.0%} of the way or more)",
        **data,
    )
