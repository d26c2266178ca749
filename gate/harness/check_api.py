"""What a check is: the API between the overfit loop (task mode's ``loop``, script mode's
session) and the checks. Neither side imports the other's package, only this module.

Checks hook into the overfit loop at a few points; every hook is optional, and only checks
that override ``after_backward`` are called per step, so the hot loop pays nothing for checks
that do not need it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from gate.harness import phase
from gate.harness.contract import CheckRecord, CheckStatus
from gate.harness.spec import Mode, Spec
from gate.harness.verdict import Monitor

# A fresh (model, batch, loss_fn, optimizer) built again from the same seed.
FreshFactory = Callable[[], tuple[torch.nn.Module, Any, Callable[..., torch.Tensor], torch.optim.Optimizer]]


@dataclass
class Context:
    """Shared state a check may read. Checks must leave model mode, RNG use and
    gradients as they found them."""

    spec: Spec
    model: torch.nn.Module
    batch: Any
    # None in script mode when the model does not return its loss (the script computes it
    # outside the model call): checks that re-evaluate the loss do without that part.
    loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor] | None
    optimizer: torch.optim.Optimizer
    forward: Callable[[torch.nn.Module, Any], Any]
    input_keys: list[Any]
    device: torch.device
    monitor: Monitor
    mode: Mode = "task"
    causal_dim: int | None = None
    # Re-runs (input dependence) need a fresh model/optimizer with the same seed; None in
    # script mode where the script builds them itself.
    make_fresh: FreshFactory | None = None
    step: int = 0  # steps completed so far
    losses: list[float | None] = field(default_factory=list)
    shared: dict[str, Any] = field(default_factory=dict)  # scratch space between checks


def result(name: str, status: CheckStatus, message: str, hint: str = "", **data: Any) -> CheckRecord:
    return {"name": name, "status": status, "message": message, "hint": hint, "data": data}


class Check:
    """A check runs in the modes its entry in ``check_table.CHECKS`` lists."""

    name = "check"

    def before(self, ctx: Context) -> None:
        """Before the first step, model at initialisation."""

    def after_backward(self, ctx: Context, step: int) -> None:
        """Every step, between backward and optimizer.step. Keep it device-side: no sync."""

    def on_sync(self, ctx: Context, step: int) -> bool:
        """At each host sync (every ``sync_every`` steps). Return True to stop the loop: the
        outcome is already certain (the check will report fail)."""
        return False

    def finish(self, ctx: Context) -> list[CheckRecord]:
        """After the loop; returns the check's results (usually one)."""
        return []


class ScriptCheck(Check):
    """Extra hook points only the script instrumentation has."""

    # Observes what optimizer.step() sees: meaningless for hand-written updates (no step call).
    needs_real_step = False

    def before_backward(self, ctx: Context, step: int) -> None:
        """Before the first backward of step ``step`` (steps completed so far)."""

    def grads_after_backward(self, ctx: Context, step: int) -> None:
        """After every backward (several per step with gradient accumulation)."""

    def after_step(self, ctx: Context, step: int) -> None:
        """After ``optimizer.step()``; ``step`` counts completed steps."""


class Guarded(Check):
    """Runs a check so that a crash inside it (an odd model, an unexpected output type)
    becomes a ``warn: could not run`` result instead of crashing the gate. Only
    ``Exception`` is caught: cancellation and interrupts still propagate."""

    def __init__(self, inner: Check) -> None:
        self.inner = inner
        self.name = inner.name
        self.error: str | None = None

    def _call(self, hook: str, *args: Any, default: Any = None) -> Any:
        if self.error is not None:
            return default
        try:
            if hook in ("before", "finish"):  # where the probes run: a kill there names the check
                with phase.within(f"the gate's own {self.name} check"):
                    return getattr(self.inner, hook)(*args)
            return getattr(self.inner, hook)(*args)
        except Exception as exc:  # any check bug must stay a warning
            first = str(exc).splitlines()[0] if str(exc) else ""
            if isinstance(exc, (torch.OutOfMemoryError, MemoryError)) or "out of memory" in first.lower():
                self.error = f"the gate's own probe ran out of memory in {hook} ({first or type(exc).__name__})"
            else:
                self.error = f"{type(exc).__name__} in {hook}" + (f": {first}" if first else "")
            return default

    def before(self, ctx: Context) -> None:
        self._call("before", ctx)

    def on_sync(self, ctx: Context, step: int) -> bool:
        return bool(self._call("on_sync", ctx, step, default=False))

    def finish(self, ctx: Context) -> list[CheckRecord]:
        out = self._call("finish", ctx, default=[])
        if self.error is not None:
            return [
                result(
                    self.name,
                    "warn",
                    f"could not run: {self.error}",
                    # The gate's own failure, never the pipeline's: say so.
                    "this is the gate's own check failing, not your pipeline: "
                    + (
                        "its probe needs one extra forward and backward on a few samples; "
                        if "out of memory" in self.error
                        else "the model or batch has a shape it does not handle; "
                    )
                    + f'turn it off with skip_checks = ["{self.name}"] and report it to overfit-gate',
                    gate_error=self.error,
                )
            ]
        return list(out)


class _GuardedPerStep(Guarded):
    def after_backward(self, ctx: Context, step: int) -> None:
        self._call("after_backward", ctx, step)


def guard(check: Check) -> Check:
    """Wrap ``check``; the per-step hook is only exposed when the check has one, so the
    loop keeps skipping checks that do not need it."""
    per_step = type(check).after_backward is not Check.after_backward
    return (_GuardedPerStep if per_step else Guarded)(check)
