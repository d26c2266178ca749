"""loss_direction: a loss that rises from the very start, or runs below its floor, is being
pushed the wrong way. Names the likely sign error instead of leaving a bare "diverged"."""

from __future__ import annotations

import itertools
import math

from gate.harness.check_api import Check, Context, result
from gate.harness.contract import CheckRecord
from gate.harness.loss_spy import LossSpy, raw_scores_cause
from gate.harness.verdict import fmt

NAME = "loss_direction"
MIN_STEPS = 16


def sign_hint(ctx: Context) -> str:
    maximizing = [i for i, g in enumerate(ctx.optimizer.param_groups) if g.get("maximize")] if ctx.optimizer else []
    if maximizing:
        return f"param group(s) {maximizing} of {type(ctx.optimizer).__name__} have maximize=True: remove it"
    return (
        "check the sign of the loss: a log-likelihood returned without its minus (loss = log_prob "
        "instead of -log_prob), a negated criterion (loss = -F.mse_loss(...)), an optimizer with "
        "maximize=True, or a hand-written update that adds the gradient"
    )


def rising(losses: list[float | None]) -> tuple[bool, str]:
    """Never once below the first loss, trending up, and clearly above where it started."""
    vals = [v for v in losses if v is not None and math.isfinite(v)]
    if len(vals) < MIN_STEPS:
        return False, ""
    first = vals[0]
    later = vals[1:]
    ups = sum(b > a for a, b in itertools.pairwise(vals))
    margin = 0.05 * max(abs(first), 1e-8)
    if min(later) >= first and ups >= 0.75 * len(later) and vals[-1] > first + margin:
        return (
            True,
            f"the loss rose from {fmt(first)} to {fmt(vals[-1])} over the first {len(vals)} steps without ever going below its start",
        )
    return False, ""


class LossDirection(Check):
    name = NAME

    def before(self, ctx: Context) -> None:
        self.stopped: str | None = None

    def on_sync(self, ctx: Context, step: int) -> bool:
        # Decide once, on the opening stretch: later rises are instability, not direction.
        if self.stopped is not None or step > 2 * MIN_STEPS + max(1, ctx.spec.sync_every):
            return False
        bad, msg = rising(ctx.losses[: max(step, MIN_STEPS)])
        if bad:
            self.stopped = msg
        return bad

    def finish(self, ctx: Context) -> list[CheckRecord]:
        mon = ctx.monitor
        decision = mon.decision
        floor = mon.floor
        if self.stopped:
            return [result(NAME, "fail", self.stopped + ": it is being maximised", sign_hint(ctx))]
        if decision is not None and decision.kind == "below_floor":
            step = decision.step or 0
            if mon.first is not None and mon.first <= floor:
                msg = f"the first loss {fmt(mon.first)} is already at or below its floor {fmt(floor)}"
            else:
                low = ctx.losses[step] if step < len(ctx.losses) else None
                msg = f"the loss fell to {fmt(low)} at step {step}, below its floor {fmt(floor)}"
            spy = ctx.shared.get("loss_spy")
            raw = raw_scores_cause(spy) if isinstance(spy, LossSpy) else ""
            if raw:  # not a sign error: nll_loss on raw logits is unbounded below
                return [result(NAME, "fail", f"{msg}: {raw}", "nll_loss needs log-probabilities", floor=floor)]
            return [
                result(
                    NAME,
                    "fail",
                    msg + ": it is being pushed the wrong way",
                    sign_hint(ctx) + f"; if the loss can legitimately go below {fmt(floor)}, set loss_floor",
                    floor=floor,
                )
            ]
        bad, msg = rising(ctx.losses[: 2 * MIN_STEPS])
        if bad:
            return [result(NAME, "fail", msg + ": it is being maximised", sign_hint(ctx))]
        return [result(NAME, "pass", "the loss went down from the start and stayed above its floor")]
