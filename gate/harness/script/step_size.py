"""The step size each training step of the script took, for the verdict monitor (lr_cut.py):
the adopted optimizer's learning rate, or, for a hand-written update (``p.data -= lr * p.grad``,
a learning rate the gate cannot see in a Python variable), ``|Δθ| / |g|`` measured over a slice
of the parameters, which is that ``lr`` for plain SGD. Kept on the device until the session's
loss read-back: nothing here syncs with the host."""

from __future__ import annotations

import torch

SAMPLE = 1 << 22  # parameter elements measured per hand-written update (SGD's ratio is the same on any slice)


class StepSizes:
    def __init__(self) -> None:
        self._pending: list[torch.Tensor | float | None] = []
        # Since a hand-written loop's backward: (parameter, elements, values then, gradient slice).
        self._watched: list[tuple[torch.Tensor, int, torch.Tensor, torch.Tensor]] = []

    def record(self, opt: torch.optim.Optimizer | None) -> None:
        """A step completed: taken by ``opt``, or (None) by a hand-written update."""
        if opt is None:
            self.hand_written()
        else:
            self.optimizer(opt)

    def optimizer(self, opt: torch.optim.Optimizer) -> None:
        """The adopted optimizer stepped: the largest learning rate of its groups (schedulers
        change them in place)."""
        lrs = [lr for g in opt.param_groups if isinstance(lr := g.get("lr"), (float, int, torch.Tensor))]
        tensors = [lr for lr in lrs if isinstance(lr, torch.Tensor)]
        if not tensors:
            self._pending.append(max(map(float, lrs)) if lrs else None)
            return
        # A capturable optimizer's tensor lr: compared on the device, read back at the drain.
        device = tensors[0].device
        self._pending.append(
            torch.stack([torch.as_tensor(lr, device=device).detach().float().reshape(()) for lr in lrs]).max()
        )

    def watch(self, params: list[torch.Tensor]) -> None:
        """After a hand-written loop's backward: remember a slice of the parameters and their
        gradients (the gradient itself, so an in-place clip before the update is seen)."""
        self._watched, left = [], SAMPLE
        for p in params:
            g = p.grad
            if g is None or left <= 0 or g.layout != torch.strided or not g.is_contiguous():
                continue
            n = min(p.numel(), left)
            self._watched.append((p, n, p.detach().reshape(-1)[:n].clone(), g.view(-1)[:n]))
            left -= n

    def hand_written(self) -> None:
        """The script updated the parameters by hand since ``watch``: the step it took."""
        watched, self._watched = self._watched, []
        if not watched:
            self._pending.append(None)
            return
        with torch.no_grad():
            moved = sum((p.detach().reshape(-1)[:n] - then).float().square().sum() for p, n, then, _ in watched)
            grad = sum(g.float().square().sum() for *_, g in watched)
            self._pending.append(torch.as_tensor(moved / grad).sqrt())  # nan when no gradient: dropped

    def drain(self) -> list[float | None]:
        """The sizes since the last call, read back (with the losses: one host sync)."""
        pending, self._pending = self._pending, []
        tensors = [v for v in pending if isinstance(v, torch.Tensor)]
        values = iter(torch.stack([t.to(tensors[0].device) for t in tensors]).tolist()) if tensors else iter(())
        return [next(values) if isinstance(v, torch.Tensor) else v for v in pending]
