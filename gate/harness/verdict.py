"""The verdict as docs/task-mode.md states it, fed host floats in chunks. Pure Python, no torch:
the controller's unit tests and the harness share it.

pass: ``loss - floor <= ratio * (first - floor)`` (or ``loss <= target_loss``) held for
``confirm_steps`` consecutive steps, loss finite throughout.
fail: non-finite, below the floor, diverged, stalled for ``patience`` steps, or the budget
ran out. The first event decides; the loop stops as soon as the outcome is certain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gate.harness.spec import Spec


@dataclass(frozen=True)
class Decision:
    verdict: str  # "pass" | "fail"
    reason: str
    step: int | None = None  # the step that decided it (target confirmed, first NaN, ...)
    kind: str = ""  # machine-readable: confirmed, nonfinite, below_floor, diverged, stalled, budget, unstable


def fmt(x: float | None) -> str:
    if x is None:
        return "n/a"
    if not math.isfinite(x):
        return str(x)
    return f"{x:.4g}"


class Monitor:
    def __init__(
        self,
        steps: int,
        target_ratio: float = Spec.target_ratio,
        target_loss: float | None = None,
        floor: float = 0.0,
        confirm_steps: int = Spec.confirm_steps,
        divergence_factor: float = Spec.divergence_factor,
        patience: int = Spec.patience,
    ) -> None:
        self.budget = steps
        self.ratio = target_ratio
        self.target_loss = target_loss
        self.floor = floor
        self.confirm = confirm_steps
        self.divergence_factor = divergence_factor
        self.patience = patience

        self.first: float | None = None
        self.target: float | None = None
        self.best: float | None = None
        self.best_step: int | None = None
        self.target_step: int | None = None  # first time at or under the target
        self.run_len = 0  # consecutive steps at or under the target
        self._last_improve_step = 0
        self._improve_ref: float | None = None
        self.seen = 0
        self.decision: Decision | None = None

    @property
    def limit(self) -> int:
        """Steps the loop may run: the budget, plus the confirmation window for a target
        reached near its end (reaching it inside the budget is what counts)."""
        return self.budget + self.confirm

    @property
    def confirming(self) -> bool:
        return self.run_len > 0

    def _fail(self, step: int, kind: str, reason: str) -> Decision:
        self.decision = Decision("fail", reason, step, kind)
        return self.decision

    def _gap(self) -> float:
        assert self.first is not None
        return self.first - self.floor

    def _start(self, v: float) -> Decision | None:
        self.first = v
        self.best, self.best_step, self._improve_ref = v, 0, v
        if not math.isfinite(v):
            return self._fail(0, "nonfinite", f"the loss is {v} at the very first step, before any update")
        if self.target_loss is not None:
            self.target = self.target_loss
            if self.target_loss < self.floor:
                return self._fail(
                    0, "below_floor", f"target loss {fmt(self.target_loss)} is below the loss floor {fmt(self.floor)}"
                )
        else:
            if v <= self.floor:
                return self._fail(
                    0,
                    "below_floor",
                    f"the first loss {fmt(v)} is already at or below the floor {fmt(self.floor)}: "
                    "a sign error in the loss, or a wrong loss_floor",
                )
            self.target = self.floor + self.ratio * self._gap()
        return None

    def feed(self, values: list[float]) -> Decision | None:
        """Consume the next losses (step numbers continue from the last call)."""
        for v in values:
            if self.decision is not None:
                break
            step = self.seen
            self.seen += 1
            if self.first is None and self._start(v) is not None:
                break
            assert self.first is not None and self.target is not None and self.best is not None
            if not math.isfinite(v):
                self._fail(step, "nonfinite", f"the loss became {v} at step {step} (last finite best {fmt(self.best)})")
                break
            gap = max(self._gap(), 0.0)
            tol = 1e-4 * max(1.0, gap)
            if v < self.floor - tol:
                self._fail(
                    step,
                    "below_floor",
                    f"the loss fell to {fmt(v)} at step {step}, below its floor {fmt(self.floor)}: "
                    "it is being pushed the wrong way (a sign error?)",
                )
                break
            if gap > 0 and v - self.floor > self.divergence_factor * gap:
                self._fail(
                    step,
                    "diverged",
                    f"the loss diverged to {fmt(v)} at step {step}, over {self.divergence_factor:g}x its first value {fmt(self.first)}",
                )
                break
            if v < self.best:
                self.best, self.best_step = v, step
            assert self._improve_ref is not None
            if v < self._improve_ref - 1e-3 * gap:
                self._improve_ref, self._last_improve_step = v, step
            if v <= self.target:
                if self.target_step is None:
                    self.target_step = step
                self.run_len += 1
                if self.run_len >= self.confirm:
                    self.decision = Decision(
                        "pass",
                        f"the loss reached the target {fmt(self.target)} at step {self.target_step} "
                        f"and stayed there for {self.confirm} steps",
                        step,
                        "confirmed",
                    )
                    break
                continue
            self.run_len = 0
            if step + 1 >= self.budget:
                self._fail(step, "budget", self._budget_reason())
                break
            if step - self._last_improve_step >= self.patience:
                self._fail(
                    step,
                    "stalled",
                    f"the loss stopped improving: best {fmt(self.best)} at step {self.best_step}, "
                    f"no progress for {self.patience} steps, target {fmt(self.target)}",
                )
                break
        return self.decision

    def _budget_reason(self) -> str:
        if self.target_step is not None:
            return (
                f"the loss touched the target {fmt(self.target)} at step {self.target_step} but did not stay "
                f"there for {self.confirm} steps within {self.budget} steps (best {fmt(self.best)})"
            )
        return (
            f"the loss did not reach the target {fmt(self.target)} in {self.budget} steps "
            f"(first {fmt(self.first)}, best {fmt(self.best)} at step {self.best_step})"
        )

    def finish(self) -> Decision:
        """The decision once the loop has stopped (by itself or because we said so)."""
        if self.decision is not None:
            return self.decision
        if self.first is None:
            return self._fail(0, "budget", "no training step completed")
        return self._fail(max(self.seen - 1, 0), "budget", self._budget_reason())
