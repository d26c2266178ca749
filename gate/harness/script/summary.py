"""What one gated script run saw, as the result builder needs it: a frozen snapshot, so the
end of a run reads facts instead of the live instrumentation's state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch


@dataclass(frozen=True)
class ScriptSummary:
    steps: int  # completed training steps of the model
    backwards: int  # backwards on the script's own losses
    losses: list[float | None]  # the losses read back so far, one per step
    device: str  # where the first loss lived
    pinning: str  # how the batch was pinned ("" before the first backward)
    notes: list[str]  # for the report: a derived floor, dropout turned off
    stopping: bool  # the gate stopped the script (the outcome was known)
    stopped_by: str | None  # the check or event that stopped it, when not the verdict monitor
    not_applicable: str | None  # why an overfit test does not fit this program
    model_missing: bool  # optimizers stepped, but no module was ever called as model(x)
    frozen_model: str | None  # the model's class when the optimizer holds only frozen parameters
    loss_problem: str | None  # why a backward's tensor was not a loss
    unmatched_steps: int  # optimizer steps with no backward before them
    children: int  # processes the script started, out of the gate's reach
    loss_name: str | None  # the first loss function the script called with gradients on
    lightning: bool  # a LightningModule was called
    loop_s: float  # seconds since the instrumentation was installed


@dataclass(frozen=True)
class Ending:
    """How the script ended: it returned, called ``sys.exit``, or the gate stopped it."""

    how: Literal["returned", "exited", "stopped"]
    exit_code: Any = None  # what it passed to sys.exit

    def said(self) -> str:
        if self.how == "returned":
            return "returned"
        return f"called sys.exit({self.exit_code!r})" if self.exit_code is not None else "called sys.exit()"


def lightning(modules: list[torch.nn.Module]) -> bool:
    """A LightningModule was called (checked by class name: the harness never imports lightning)."""
    return any(
        c.__name__ == "LightningModule" and c.__module__.split(".")[0] in ("lightning", "pytorch_lightning")
        for m in modules
        for c in type(m).__mro__
    )
