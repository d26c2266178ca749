"""gradient_flow: every trainable parameter receives a non-zero gradient at some step.
One that never does sits on a detached branch, under ``torch.no_grad()``, or in a layer
that is built but never called. Deliberately unused parameters go in ``allow_unused``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from gate.harness.check_api import Check, Context, result
from gate.harness.checks._util import allowed, group_by_module, listing, preserved
from gate.harness.checks.gradstats import GradStats
from gate.harness.contract import CheckRecord

NAME = "gradient_flow"


def called_modules(ctx: Context, loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor], owners: set[str]) -> set[str]:
    """Which of the named modules run during ``loss(model, batch)`` (one extra forward,
    only when something already failed, to tell "never called" from "detached")."""
    seen: set[str] = set()
    handles = []
    for name, mod in ctx.model.named_modules():
        if name in owners:
            handles.append(mod.register_forward_hook(lambda m, i, o, n=name: seen.add(n)))
    try:
        with preserved(ctx.model, ctx.device), torch.no_grad():
            loss_fn(ctx.model, ctx.batch)
    finally:
        for h in handles:
            h.remove()
    return seen


class GradientFlow(Check):
    name = NAME

    def before(self, ctx: Context) -> None:
        self.stats = GradStats.of(ctx)

    def after_backward(self, ctx: Context, step: int) -> None:
        self.stats.update(step)

    def finish(self, ctx: Context) -> list[CheckRecord]:
        stats = self.stats
        if stats.steps_seen == 0:
            return [result(NAME, "skip", "no gradients were observed (no training step completed)")]
        got = stats.received()
        patterns = ctx.spec.allow_unused
        dead = [n for n, ok in zip(stats.names, got, strict=True) if not ok and not allowed(n, patterns)]
        excused = [n for n, ok in zip(stats.names, got, strict=True) if not ok and allowed(n, patterns)]
        if not dead:
            extra = f" ({len(excused)} allowed unused by allow_unused)" if excused else ""
            return [
                result(
                    NAME,
                    "pass",
                    f"all {len(stats.names) - len(excused)} trainable parameters received gradients{extra}",
                    allowed_unused=excused,
                )
            ]
        owners = {n.rpartition(".")[0] for n in dead}
        never_called: list[str] = []
        if ctx.loss_fn is not None:
            try:
                ran = called_modules(ctx, ctx.loss_fn, owners)
                never_called = sorted(o for o in owners if o not in ran and o)
            except Exception:  # the diagnosis is a bonus; the finding stands without it
                never_called = []
        msg = (
            f"{len(dead)} of {len(stats.names)} trainable parameters never received a gradient: "
            f"{group_by_module(ctx.model, dead)}"
        )
        if never_called and set(never_called) == owners:
            why = f"module(s) {listing(never_called)} are never called by the forward pass"
        elif never_called:
            why = f"module(s) {listing(never_called)} are never called; the others run but their output does not reach the loss"
        else:
            why = "these modules run but their output does not reach the loss"
        hint = (
            f"{why}: look for .detach()/.data, torch.no_grad(), an output that is computed but not used, "
            f"or a layer left in the model; if they are unused on purpose, add allow_unused = "
            f"[{', '.join(repr(o + '.*') for o in sorted(owners)[:3])}]"
        )
        return [result(NAME, "fail", msg, hint, params=dead, never_called=never_called)]
