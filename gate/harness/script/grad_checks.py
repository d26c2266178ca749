"""Script-only checks: bugs that live in the loop the script owns, not in the model.

Both watch a short window of steps after the first one, keep their measurements on the
device, and read them back once at a sync; a fail stops the script (the outcome is certain).
"""

from __future__ import annotations

import torch

from gate.harness.check_api import Context, ScriptCheck, result
from gate.harness.contract import CheckRecord

WINDOW = 8  # steps observed; a bug that shows on every one of them is not a coincidence


def _grads(ctx: Context) -> list[torch.Tensor]:
    return [
        p.grad for g in ctx.optimizer.param_groups for p in g["params"] if p.grad is not None and not p.grad.is_sparse
    ]


def grad_norm(grads: list[torch.Tensor], device: torch.device) -> torch.Tensor:
    """One device scalar: the global L2 norm of the gradients (no host sync)."""
    if not grads:
        return torch.zeros((), device=device)
    norms = torch._foreach_norm(grads)
    return torch.stack([n.float().to(device) for n in norms]).norm()


class _Window(ScriptCheck):
    """Device-side observations (one row of scalars per step) for the first WINDOW steps;
    fail when every observed step is bad, with at least MIN_SEEN of them."""

    MIN_SEEN = 3

    def __init__(self) -> None:
        self.rows: list[torch.Tensor] = []
        self._values: list[list[float]] | None = None

    def observe(self, *scalars: torch.Tensor) -> None:
        if len(self.rows) < WINDOW:
            self.rows.append(torch.stack(scalars))

    @property
    def full(self) -> bool:
        return len(self.rows) >= WINDOW

    def values(self) -> list[list[float]]:
        if self._values is None or len(self._values) < len(self.rows):
            self._values = torch.stack(self.rows).tolist() if self.rows else []  # the one host read
        return self._values

    def bad(self, row: list[float]) -> bool:
        raise NotImplementedError

    def failed(self) -> bool:
        values = self.values()
        return len(values) >= self.MIN_SEEN and all(self.bad(r) for r in values)

    def on_sync(self, ctx: Context, step: int) -> bool:
        return self.full and self.failed()

    def finish(self, ctx: Context) -> list[CheckRecord]:
        n = len(self.values())
        if n < self.MIN_SEEN:
            return [result(self.name, "skip", f"only {n} step(s) observed after the first: too few to tell")]
        return [self.verdict(n)]

    def verdict(self, n: int) -> CheckRecord:
        raise NotImplementedError


class GradsZeroed(_Window):
    name = "grads_zeroed"
    _pending: torch.Tensor | None = None

    def before_backward(self, ctx: Context, step: int) -> None:
        # The first backward since any optimizer stepped; it counts only if the next step is
        # the model's own (a GAN's generator backward runs while D's .grad is legitimately set).
        if step >= 1 and not self.full:
            self._pending = grad_norm(_grads(ctx), ctx.device)

    def after_step(self, ctx: Context, step: int) -> None:
        if self._pending is not None:
            self.observe(self._pending)
        self._pending = None

    def bad(self, row: list[float]) -> bool:
        return row[0] > 0  # .grad still non-zero when the next step's backward starts

    def verdict(self, n: int) -> CheckRecord:
        if self.failed():
            return result(
                self.name,
                "fail",
                f"gradients are never zeroed between steps: at each of the {n} steps checked, .grad still "
                "held the previous step's gradients when backward ran, so they accumulate forever",
                "call optimizer.zero_grad() (or model.zero_grad()) once per step, before loss.backward()",
                steps_checked=n,
            )
        return result(self.name, "pass", f"gradients were reset between steps ({n} steps checked)")


class GradsClipped(_Window):
    name = "grads_clipped"
    needs_real_step = True

    def __init__(self) -> None:
        super().__init__()
        self._last: torch.Tensor | None = None

    def grads_after_backward(self, ctx: Context, step: int) -> None:
        if not self.full:
            self._last = grad_norm(_grads(ctx), ctx.device)

    def after_step(self, ctx: Context, step: int) -> None:
        # Measured after the step: the gradients the update used (closures that run
        # backward inside step() are covered too); the optimizer does not touch .grad.
        if self._last is not None:
            self.observe(self._last, grad_norm(_grads(ctx), ctx.device))
        self._last = None

    def bad(self, row: list[float]) -> bool:
        return row[0] > 0 and row[1] == 0  # non-zero after backward, zero at the step

    def verdict(self, n: int) -> CheckRecord:
        if self.failed():
            return result(
                self.name,
                "fail",
                f"the gradients are non-zero after backward but exactly zero when optimizer.step() runs, at each of the "
                f"{n} steps checked: something between backward and step wipes them, so nothing learns",
                "look for clip_grad_norm_(..., max_norm=0.0) or clip_grad_value_(..., 0), or a zero_grad() between "
                "backward and step",
                steps_checked=n,
            )
        return result(self.name, "pass", f"gradients reach optimizer.step() intact ({n} steps checked)")
