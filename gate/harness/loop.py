"""The overfit loop: one fixed batch, the optimizer, losses kept on the device and read
back every ``sync_every`` steps so the GPU never waits on the host per step."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from gate.harness.checks.base import Check, Context
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
            raise LossContractError(f"optimizer factory returned {type(opt).__name__}, expected a torch.optim.Optimizer")
        return opt
    raise LossContractError(f"'optimizer' must be an Optimizer or callable(params), got {type(spec_opt).__name__}")


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
    sync_every = max(1, ctx.spec.sync_every)
    per_step = [c for c in checks if overrides(c, "after_backward")]
    syncing = [c for c in checks if overrides(c, "on_sync")]
    buf = torch.empty(sync_every, dtype=torch.float32, device=ctx.device)
    losses: list[float | None] = []
    pending = 0
    step = 0
    stopped_by = None
    next_log = 0
    model.train()
    t0 = time.perf_counter()
    while step < monitor.limit:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model, batch)
        if step == 0:
            _validate_loss(loss)
        loss.backward()
        for c in per_step:
            c.after_backward(ctx, step)
        opt.step()
        buf[pending] = loss.detach().reshape(())
        pending += 1
        step += 1
        ctx.step = step
        if pending == sync_every or step == monitor.budget or step == monitor.limit:
            values = buf[:pending].tolist()  # the only host sync
            pending = 0
            losses.extend(v if v == v and abs(v) != float("inf") else None for v in values)
            ctx.losses = losses
            decision = monitor.feed(values)
            if log is not None and (step - 1 >= next_log or decision is not None):
                log(progress_line(step, monitor, values[-1]))
                while next_log <= step - 1:
                    next_log += log_every
            if decision is not None:
                break
            for c in syncing:
                if c.on_sync(ctx, step):
                    stopped_by = c.name
                    break
            if stopped_by:
                break
            if step >= monitor.budget and not monitor.confirming:
                break
    seconds = time.perf_counter() - t0
    decision = monitor.finish()
    return LoopOutcome(decision, step, losses, seconds, stopped_by)


def progress_line(step: int, m: Monitor, last: float) -> str:
    width = len(str(m.budget))
    return (
        f"step {step - 1:>{width}}/{m.budget}  loss {fmt(last):>10}  best {fmt(m.best):>10}  "
        f"target {fmt(m.target)}" + ("  (confirming)" if m.confirming else "")
    )
