"""Weight decay in overfit mode. Like dropout (``dropout.py``), it is regularization the
overfit recipe turns off ("turn off regularization"): an L2 pull on the weights balances the
data term short of zero, so a clean full-graph GCN with ``Adam(weight_decay=5e-4)`` crawls at
3x its target for thousands of steps. The gate sets ``weight_decay`` to 0 in every parameter
group of every ``torch.optim`` optimizer before it steps (one global step pre-hook, so task
mode, script mode and launchers' workers alike); ``keep-weight-decay = true`` leaves it. Either
way the largest value seen is recorded for the report.

Not covered: decay written into the loss by hand (``loss + wd * sum(p.pow(2))``) or applied in
a hand-written update."""

from __future__ import annotations

from typing import Any

import torch
from torch.optim.optimizer import register_optimizer_step_pre_hook
from torch.utils.hooks import RemovableHandle


class WeightDecaySwitch:
    def __init__(self, keep: bool) -> None:
        self.keep = keep
        self.max_wd = 0.0  # largest weight_decay seen on an optimizer that stepped
        self.where = ""  # the optimizer class it was seen on
        self._handle: RemovableHandle | None = None

    def install(self) -> WeightDecaySwitch:
        self._handle = register_optimizer_step_pre_hook(self._before_step)
        return self

    def remove(self) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def _before_step(self, opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        for group in opt.param_groups:
            wd = group.get("weight_decay")
            if not isinstance(wd, (int, float)) or wd <= 0:
                continue
            if wd > self.max_wd:
                self.max_wd, self.where = float(wd), type(opt).__name__
            if not self.keep:
                group["weight_decay"] = 0.0

    @property
    def note(self) -> str:
        if self.max_wd <= 0:
            return ""
        if self.keep:
            return f"weight decay was kept on (keep-weight-decay = true; {self.max_wd:g} in {self.where})"
        return (
            f"weight decay was turned off for the overfit run ({self.max_wd:g} in {self.where}); "
            "set keep-weight-decay = true to keep it"
        )
