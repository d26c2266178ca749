"""finite: the loss, every gradient and every parameter stay finite for the whole run,
including the confirmation window past the target (unstable losses such as a
hand-written log-sigmoid blow up only once the model is confident, which is where
overfitting drives it). Reports the first step and the first parameters that went bad."""

from __future__ import annotations

import math
from typing import Any

import torch

from gate.harness.check_api import Check, Context, result
from gate.harness.checks._util import listing
from gate.harness.checks.gradstats import GradStats
from gate.harness.contract import CheckRecord
from gate.harness.diagnose import all_ignored

NAME = "finite"
CAUSES = (
    "look for a numerically unstable op: log of a softmax or sigmoid (use F.log_softmax, "
    "F.cross_entropy, F.binary_cross_entropy_with_logits), a division or log that reaches 0, "
    "sqrt at 0, exp of large values; or lower the learning rate"
)


def _kind(values: list[float]) -> str:
    return "NaN" if any(math.isnan(v) for v in values) else "Inf"


class Finite(Check):
    name = NAME

    def before(self, ctx: Context) -> None:
        self.stats = GradStats.of(ctx)
        self.checked = 0  # steps whose gradient rows were inspected
        self.grad_event: tuple[int, list[str], str] | None = None
        self.param_event: tuple[int, list[str], str] | None = None

    def after_backward(self, ctx: Context, step: int) -> None:
        self.stats.update(step)

    def _scan(self, ctx: Context, upto: int) -> None:
        """Inspect gradient rows since the last scan (one host read) and the parameters."""
        stats = self.stats
        if self.grad_event is None and upto > self.checked and stats.params:
            steps, rows = stats.rows_for(self.checked, upto)
            bad = ~torch.isfinite(rows)
            if bool(bad.any()):
                r = int(bad.any(dim=1).nonzero()[0, 0])
                cols = bad[r].nonzero().flatten().tolist()
                vals = rows[r, cols].tolist()
                self.grad_event = (steps[r], [stats.names[c] for c in cols], _kind(vals))
        self.checked = upto
        if self.param_event is None and stats.params:
            norms = torch.stack([n.float() for n in torch._foreach_norm([p.detach() for p in stats.params])])
            bad = ~torch.isfinite(norms)
            if bool(bad.any()):
                cols = bad.nonzero().flatten().tolist()
                self.param_event = (upto, [stats.names[c] for c in cols], _kind(norms[cols].tolist()))

    def on_sync(self, ctx: Context, step: int) -> bool:
        self._scan(ctx, step)
        # A GradScaler (script mode) skips steps with Inf gradients on purpose: only
        # non-finite parameters are certain trouble there.
        if ctx.mode == "script":
            return self.param_event is not None
        return self.grad_event is not None or self.param_event is not None

    def finish(self, ctx: Context) -> list[CheckRecord]:
        self._scan(ctx, ctx.step)
        loss_step = next((i for i, v in enumerate(ctx.losses) if v is None), None)
        data: dict[str, Any] = {"loss_step": loss_step}
        if self.grad_event:
            data |= {"grad_step": self.grad_event[0], "grad_params": self.grad_event[1]}
        if self.param_event:
            data |= {"param_sync_step": self.param_event[0], "params": self.param_event[1]}
        if loss_step is None and self.grad_event is None and self.param_event is None:
            return [result(NAME, "pass", f"loss, gradients and parameters stayed finite for {ctx.step} steps")]
        total = len(self.stats.names)
        if self.grad_event and (loss_step is None or self.grad_event[0] < loss_step):
            step, names, kind = self.grad_event
            if ctx.mode == "script" and self.param_event is None and loss_step is None:
                return [
                    result(
                        NAME,
                        "warn",
                        f"gradients were {kind} at step {step} but parameters and loss stayed finite",
                        "expected with a GradScaler (it skips such steps); otherwise " + CAUSES,
                        **data,
                    )
                ]
            msg = (
                f"the gradient of {listing(names, 3)} ({len(names)}/{total} parameters) became {kind} at step {step} "
                "while the loss was still finite"
            )
            hint = f"the backward pass through {listing(names, 3)} produced {kind}: {CAUSES}"
        elif loss_step is not None:
            msg = f"the loss became non-finite at step {loss_step}"
            if self.param_event:
                msg += f"; parameters {listing(self.param_event[1], 3)} are {self.param_event[2]}"
            ignored = all_ignored(ctx.shared.get("loss_spy")) if loss_step == 0 else ""
            hint = ignored or "the forward pass or loss produced it before any gradient did: " + CAUSES
        else:
            assert self.param_event is not None
            step, names, kind = self.param_event
            msg = f"parameters {listing(names, 3)} became {kind} by step {step} although their gradients stayed finite"
            hint = "the optimizer produced them: check its eps (0 divides by zero), a non-finite learning rate or weight decay"
        return [result(NAME, "fail", msg, hint, **data)]
