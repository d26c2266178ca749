"""Per-step gradient statistics shared by the finite, gradient-flow and parameter-update
checks, computed once per step whichever of them asks first.

Everything stays on the device: one fused norm over all gradients per step (L2 per
parameter; NaN/Inf propagate, zero only when the whole gradient is zero), a running
maximum for "did this parameter ever get a gradient", and a ring of the last
``sync_every`` rows so the finite check can name the first bad step and parameter when
the host next syncs.
"""

from __future__ import annotations

import torch

from gate.harness.check_api import Context
from gate.harness.checks._util import trainable

KEY = "gradstats"


class GradStats:
    def __init__(self, ctx: Context) -> None:
        named = trainable(ctx.model)
        self.names = [n for n, _ in named]
        self.params = [p for _, p in named]
        self.device = self.params[0].device if self.params else ctx.device
        self.rows = max(1, ctx.spec.sync_every)
        n = len(self.params)
        # ever_max[i] > 0 (or NaN) once parameter i received a non-zero gradient
        self.ever_max = torch.zeros(n, device=self.device)
        self.ring = torch.zeros(self.rows, n, device=self.device)
        self.last_step = -1
        self.steps_seen = 0
        self.simple: bool | None = None

    @staticmethod
    def of(ctx: Context) -> GradStats:
        stats = ctx.shared.get(KEY)
        if stats is None:
            stats = ctx.shared[KEY] = GradStats(ctx)
        return stats

    def update(self, step: int) -> None:
        """Idempotent per step: several checks call it, the work happens once."""
        if step == self.last_step or not self.params:
            return
        self.last_step = step
        self.steps_seen += 1
        grads = [p.grad for p in self.params]
        slot = self.ring[step % self.rows]
        if self._simple(grads):
            # The common case: every gradient present, dense, float32, on one device.
            torch.stack(torch._foreach_norm(grads), out=slot)  # type: ignore[arg-type]
            torch.maximum(self.ever_max, slot, out=self.ever_max)
            return
        present = [i for i, g in enumerate(grads) if g is not None]
        if not present:
            row = torch.zeros(len(self.params), device=self.device)
        else:
            tensors = [g for g in grads if g is not None]
            dense = [g.coalesce().values() if g.is_sparse else g for g in tensors]
            norms = [n.to(self.device, torch.float32) for n in torch._foreach_norm(dense)]
            if len(present) == len(grads):
                row = torch.stack(norms)
            else:
                row = torch.zeros(len(self.params), device=self.device)
                row[present] = torch.stack(norms)
        slot.copy_(row)
        # maximum() propagates NaN, so a NaN gradient counts as "received one" here; the
        # finite check reports it instead.
        torch.maximum(self.ever_max, row, out=self.ever_max)

    def _simple(self, grads: list[torch.Tensor | None]) -> bool:
        if self.simple is None:  # decided once, on the first step with every gradient present
            if any(g is None for g in grads):
                return False
            self.simple = all(
                g is not None and not g.is_sparse and g.dtype == torch.float32 and g.device == self.device
                for g in grads
            )
        return self.simple and all(g is not None for g in grads)

    def rows_for(self, start: int, stop: int) -> tuple[list[int], torch.Tensor]:
        """Ring rows for steps ``start <= s < stop`` (at most ``rows`` of them, in step order)."""
        start = max(start, stop - self.rows, 0)
        steps = list(range(start, stop))
        idx = torch.tensor([s % self.rows for s in steps], dtype=torch.long, device=self.device)
        return steps, self.ring.index_select(0, idx)

    def received(self) -> list[bool]:
        """Host copy of "got a non-zero (or non-finite) gradient at some step"."""
        flags = (self.ever_max != 0) | torch.isnan(self.ever_max)
        return [bool(v) for v in flags.tolist()]
