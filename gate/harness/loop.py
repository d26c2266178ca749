"""The overfit loop: one fixed batch, the optimizer, losses kept on the device and read
back every ``sync_every`` steps so the GPU never waits on the host per step."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from gate.harness.check_api import Check, Context
from gate.harness.verdict import Decision, Monitor, fmt


class LossContractError(Exception):
    """loss(model, batch) did not return a scalar tensor connected to the parameters."""


@dataclass
class LoopOutcome:
    decision: Decision
    steps: int
    losses: list[float | None]
    seconds: float
    stopped_by: str | None = None  # check name when a check stopped the loop


def _validate_loss(loss: Any) -> None:
    if not isinstance(loss, torch.Tensor):
        raise LossContractError(f"loss(model, batch) returned {type(loss).__name__}, expected a scalar tensor")
    if loss.numel() != 1:
        raise LossContractError(
            f"loss(model, batch) returned a tensor of shape {tuple(loss.shape)}; reduce it to a scalar (e.g. .mean())"
        )
    if not loss.requires_grad:
        raise LossContractError(
            "the loss does not require grad: it is not connected to any trainable parameter "
            "(computed under torch.no_grad(), detached, or converted with .item()?)"
        )


def build_optimizer(spec_opt: Any, model: torch.nn.Module) -> torch.optim.Optimizer:
    if spec_opt is None:
        return torch.optim.Adam(model.parameters(), lr=1e-3)
    if isinstance(spec_opt, torch.optim.Optimizer):
        return spec_opt
    if callable(spec_opt):
        opt = spec_opt(model.parameters())
        if not isinstance(opt, torch.optim.Optimizer):
            raise LossContractError(
                f"optimizer factory returned {type(opt).__name__}, expected a torch.optim.Optimizer"
            )
        return opt
    raise LossContractError(f"'optimizer' must be an Optimizer or callable(params), got {type(spec_opt).__name__}")


class LossStream:
    """Per-step losses kept on the device and read back in chunks: one stack and one host
    copy every ``sync_every`` steps (and at the budget and limit), which feed the verdict
    monitor and the progress log. Shared by the task loop and the script-mode session.

    Keeping the detached tensors (not writing each into a preallocated buffer) matters: a
    buffer write costs a dispatcher op per step on CPU and a kernel launch per step on GPU."""

    def __init__(
        self, monitor: Monitor, sync_every: int, log: Callable[[str], None] | None = None, log_every: int = 50
    ) -> None:
        self.monitor = monitor
        self.sync_every = max(1, sync_every)
        self.log = log
        self.log_every = max(1, log_every)
        self.pending: list[torch.Tensor] = []
        self.losses: list[float | None] = []
        self.steps = 0
        self._next_log = 0

    def add(self, loss: torch.Tensor) -> bool:
        """Record one step's loss (no sync); True when it is time to ``sync()``."""
        self.pending.append(loss.detach().reshape(()))
        self.steps += 1
        m = self.monitor
        return len(self.pending) >= self.sync_every or self.steps in (m.budget, m.limit)

    def sync(self) -> Decision | None:
        """Read the pending losses back (the only host sync) and feed the monitor."""
        if self.pending:
            values = torch.stack([t.float() for t in self.pending]).tolist()
            self.pending.clear()
            self.losses.extend(v if math.isfinite(v) else None for v in values)
            decision = self.monitor.feed(values)
            if self.log is not None and (self.steps - 1 >= self._next_log or decision is not None):
                self.log(progress_line(self.steps, self.monitor, values[-1]))
                while self._next_log <= self.steps - 1:
                    self._next_log += self.log_every
        return self.monitor.decision


def overrides(check: Check, hook: str) -> bool:
    return getattr(type(check), hook) is not getattr(Check, hook)


def train(
    ctx: Context,
    monitor: Monitor,
    checks: Sequence[Check] = (),
    log: Callable[[str], None] | None = None,
    log_every: int = 50,
) -> LoopOutcome:
    """Run until the monitor decides or a check says the outcome is certain."""
    model, batch, loss_fn, opt = ctx.model, ctx.batch, ctx.loss_fn, ctx.optimizer
    assert loss_fn is not None, "the task loop trains with the task's loss"
    per_step = [c for c in checks if overrides(c, "after_backward")]
    syncing = [c for c in checks if overrides(c, "on_sync")]
    stream = LossStream(monitor, ctx.spec.sync_every, log, log_every)
    step = 0
    stopped_by = None
    model.train()
    t0 = time.perf_counter()
    while step < monitor.limit:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model, batch)
        if step == 0:
            _validate_loss(loss)
            first_step = ctx.shared.pop("first_step", None)
            if first_step is not None:  # the loss spy's floor, set before the monitor starts
                first_step(float(loss.detach()))
        loss.backward()
        for c in per_step:
            c.after_backward(ctx, step)
        opt.step()
        step += 1
        ctx.step = step
        if not stream.add(loss):
            continue
        decision = stream.sync()
        ctx.losses = stream.losses
        if decision is not None:
            break
        stopped_by = next((c.name for c in syncing if c.on_sync(ctx, step)), None)
        if stopped_by or (step >= monitor.budget and not monitor.confirming):
            break
    seconds = time.perf_counter() - t0
    decision = monitor.finish()
    return LoopOutcome(decision, step, stream.losses, seconds, stopped_by)


def progress_line(step: int, m: Monitor, last: float) -> str:
    width = len(str(m.budget))
    return (
        f"step {step - 1:>{width}}/{m.budget}  loss {fmt(last):>10}  best {fmt(m.best):>10}  "
        f"target {fmt(m.target)}" + ("  (confirming)" if m.confirming else "")
    )
