"""Loss and step accounting in script mode: the loss read from each ``.backward()``, summed
over the backwards of one step (gradient accumulation), committed to the loss stream when the
step completes, with the step size the step took. Nothing here reads a value back to the host
but ``sync``."""

from __future__ import annotations

import torch

from gate.harness.decision import Decision
from gate.harness.loop import LossStream
from gate.harness.script.step_size import StepSizes


class Ledger:
    def __init__(self, stream: LossStream) -> None:
        self.stream = stream
        self.backwards = 0  # every backward of the script's own losses
        self.step = 0  # completed training steps of the model
        self.pending: torch.Tensor | None = None  # the loss of the step in progress
        self.step_backwards = 0  # backwards in the step in progress
        self.unmatched_steps = 0  # optimizer steps with no backward before them
        self.loss_problem: str | None = None  # why a backward's tensor is not a loss
        self.in_backward = False
        # Inside optimizer.step(): backwards there are an LBFGS closure re-evaluating the loss,
        # and model calls there are not a rollout (calls_before_step: the step's own calls).
        self.in_step: torch.optim.Optimizer | None = None
        self.calls_before_step = 0
        self._scaled: tuple[torch.Tensor, torch.Tensor] | None = None  # last GradScaler.scale output, its scale
        self.step_sizes = StepSizes()

    def scaled(self, out: torch.Tensor, scale: torch.Tensor) -> None:
        """``GradScaler.scale(loss)`` returned ``out`` (loss x scale): unscale it at its backward."""
        self._scaled = (out, scale)

    def loss_of(self, tensors: list[torch.Tensor]) -> torch.Tensor | None:
        """The loss a backward is called on (several tensors: their sum), or None when it is
        not a scalar (``loss_problem`` says so)."""
        if tensors and all(t.numel() == 1 and t.requires_grad for t in tensors):
            total = self._unscaled(tensors[0])
            for t in tensors[1:]:
                total = total + self._unscaled(t).to(total.device)
            return total
        shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
        self.loss_problem = f".backward() was called on a tensor of shape {shapes}, not on a scalar loss"
        return None

    def _unscaled(self, t: torch.Tensor) -> torch.Tensor:
        value = t.detach().float().reshape(())
        if self._scaled is not None and self._scaled[0] is t:
            # Divided now, on the device: scaler.update() later changes the scale in place.
            value = value / self._scaled[1].to(value.device).float()
            self._scaled = None
        return value

    def re_evaluation(self, first_in_step: bool) -> bool:
        """LBFGS re-evaluates its closure inside step(): the step's loss is the first evaluation."""
        return self.in_step is not None and not first_in_step

    def add(self, loss: torch.Tensor) -> None:
        self.pending = loss if self.pending is None else self.pending + loss
        self.step_backwards += 1

    def commit(self, opt: torch.optim.Optimizer | None) -> bool:
        """The step is complete, taken by ``opt`` (None: a hand-written update): record its loss
        and step size (no host sync); True when it is time to sync."""
        assert self.pending is not None
        self.step_sizes.record(opt)
        due = self.stream.add(self.pending)
        self.step += 1
        self.drop()
        return due

    def sync(self) -> Decision | None:
        """Read the step sizes and losses back and feed them to the monitor."""
        self.stream.monitor.step_sizes += self.step_sizes.drain()
        return self.stream.sync()

    def drop(self) -> None:
        """The losses since the last step were not the model's (another optimizer stepped)."""
        self.pending = None
        self.step_backwards = 0

    def flush(self) -> None:
        """The script ended: a hand-written loop's last backward was a step too."""
        if self.pending is not None:
            self.stream.add(self.pending)
            self.pending = None
            self.step += 1
