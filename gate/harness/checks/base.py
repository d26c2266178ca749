"""What a check is. Checks hook into the overfit loop at a few points; every hook is
optional, and only checks that override ``after_backward`` are called per step, so the
hot loop pays nothing for checks that do not need it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from gate.harness.spec import Spec
from gate.harness.verdict import Monitor


@dataclass
class Context:
    """Shared state a check may read. Checks must leave model mode, RNG use and
    gradients as they found them."""

    spec: Spec
    model: torch.nn.Module
    batch: Any
    loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor]
    optimizer: torch.optim.Optimizer
    forward: Callable[[torch.nn.Module, Any], Any]
    input_keys: list[Any]
    device: torch.device
    monitor: Monitor
    mode: str = "task"  # "task" | "script"
    causal_dim: int | None = None
    # Re-runs (input dependence) need a fresh model/optimizer with the same seed; None in
    # script mode where the script builds them itself.
    make_fresh: Callable[[], tuple[torch.nn.Module, Any, Callable[..., torch.Tensor], torch.optim.Optimizer]] | None = None
    step: int = 0  # steps completed so far
    losses: list[float | None] = field(default_factory=list)
    shared: dict[str, Any] = field(default_factory=dict)  # scratch space between checks


def result(name: str, status: str, message: str, hint: str = "", **data: Any) -> dict[str, Any]:
    return {"name": name, "status": status, "message": message, "hint": hint, "data": data}


class Check:
    name = "check"
    #: checks that only apply in one mode say so
    modes: tuple[str, ...] = ("task", "script")

    def before(self, ctx: Context) -> None:
        """Before the first step, model at initialisation."""

    def after_backward(self, ctx: Context, step: int) -> None:
        """Every step, between backward and optimizer.step. Keep it device-side: no sync."""

    def on_sync(self, ctx: Context, step: int) -> bool:
        """At each host sync (every ``sync_every`` steps). Return True to stop the loop: the
        outcome is already certain (the check will report fail)."""
        return False

    def finish(self, ctx: Context) -> list[dict[str, Any]]:
        """After the loop; returns the check's results (usually one)."""
        return []
