"""The verdict as docs/task-mode.md states it, fed host floats in chunks. Pure Python, no torch:
the controller's unit tests and the harness share it.

pass: ``loss - floor <= ratio * (first - floor)`` (or ``loss <= target_loss``) held for
``confirm_steps`` consecutive steps, loss finite throughout.
fail: non-finite, below the floor, diverged (and stayed so), stalled for ``patience`` steps, or
the budget ran out (saying whether the loss was still improving). The first event decides; the
loop stops as soon as the outcome is certain. Noisy losses (dropout) are judged on a running
median, so one lucky dip or one spike decides nothing.
not_applicable: the loss changed sign over and over before any trend (no floor, no target); the
run ended short of a decision (budget.py: epochs ran out, a floor it cannot know), or the
program cut its own learning rate while the loss still fell (lr_cut.py).
"""

from __future__ import annotations

import itertools
import math

from gate.harness import budget, lr_cut, not_applicable
from gate.harness.decision import Decision, fmt
from gate.harness.smoothing import DIVERGE_PERSIST, SIGN_CHANGES, SIGN_WINDOW, Smoother
from gate.harness.spec import Spec

__all__ = ["Decision", "Monitor", "fmt"]  # Decision and fmt: their long-standing import path


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
        max_steps: int | None = None,
    ) -> None:
        self.budget = steps
        # A loss still clearly falling at the budget gets more steps, up to max_steps: a slow but
        # healthy pipeline (plain SGD, a small learning rate) is not a failing one.
        self.max_steps = max(steps, max_steps if max_steps is not None else steps)
        self.extended_from: int | None = None
        # The floor of the loss terms the spy saw, when another term is unknown (set before the
        # first loss): (value, why).
        self.partial_floor: tuple[float, str] | None = None
        # The step size each step trained with, where known (script mode: the optimizer's lr, or
        # a hand-written update's measured size): a program that cuts it itself (lr_cut.py).
        self.step_sizes: list[float | None] = []
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
        self.smoother = Smoother()
        self._head: list[float] = []  # the first SIGN_WINDOW losses
        self.held: list[float] | None = None  # losses held back while telling sign error from no floor
        self._diverged_since: int | None = None

    @property
    def limit(self) -> int:
        """Steps the loop may run: the budget, plus the confirmation window for a target
        reached near its end (reaching it inside the budget is what counts)."""
        return self.budget + self.confirm

    @property
    def confirming(self) -> bool:
        return self.run_len > 0

    def fail(self, step: int, kind: str, reason: str) -> Decision:
        self.decision = (
            budget.unknown_floor(self, step, kind)
            or lr_cut.cut(self, step, kind)
            or Decision("fail", reason, step, kind)
        )
        return self.decision

    def _gap(self) -> float:
        assert self.first is not None
        return self.first - self.floor

    def _start(self, v: float) -> Decision | None:
        self.first = v
        self.best, self.best_step, self._improve_ref = v, 0, v
        if not math.isfinite(v):
            return self.fail(0, "nonfinite", f"the loss is {v} at the very first step, before any update")
        if self.target_loss is not None:
            self.target = self.target_loss
            if self.target_loss < self.floor:
                return self.fail(
                    0, "below_floor", f"target loss {fmt(self.target_loss)} is below the loss floor {fmt(self.floor)}"
                )
        else:
            if v <= self.floor:
                return self.fail(
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
                self._past_decision(v)
                continue
            if self.held is not None:
                self.held.append(v)
                if self.seen + len(self.held) < SIGN_WINDOW and math.isfinite(v):  # the first 16 steps
                    continue
                self._release()
            elif self.seen < SIGN_WINDOW and math.isfinite(v) and v <= self.floor and self.target_loss is None:
                # A loss at or below its floor this early is a sign error, or an objective with
                # no floor at all (a policy gradient): a few more steps tell which.
                self.held = [v]
            else:
                self._one(v)
        return self.decision

    def _past_decision(self, v: float) -> None:
        """A step that ran past the decision in the same chunk is real: keep the best true, so
        the progress line and the report's "best @ step" agree with the losses."""
        step = self.seen
        self.seen += 1
        if self.best is not None and math.isfinite(v) and v < self.best:
            self.best, self.best_step = v, step

    def _release(self) -> None:
        held, self.held = self.held or [], None
        signs = [x > self.floor for x in self._head + held if math.isfinite(x)]
        changes = sum(a != b for a, b in itertools.pairwise(signs))
        if changes >= SIGN_CHANGES:
            self.seen += len(held)
            self.decision = not_applicable.sign_changes(changes, len(signs), self.seen - 1)
            return
        for x in held:
            if self.decision is None:
                self._one(x)

    def _one(self, v: float) -> None:
        step = self.seen
        self.seen += 1
        if len(self._head) < SIGN_WINDOW:
            self._head.append(v)
        if self.first is None and self._start(v) is not None:
            return
        assert self.first is not None and self.target is not None and self.best is not None
        if not math.isfinite(v):
            self.fail(step, "nonfinite", f"the loss became {v} at step {step} (last finite best {fmt(self.best)})")
            return
        gap = max(self._gap(), 0.0)
        if v < self.floor - 1e-4 * max(1.0, gap):
            self.fail(
                step,
                "below_floor",
                f"the loss fell to {fmt(v)} at step {step}, below its floor {fmt(self.floor)}: "
                "it is being pushed the wrong way (a sign error?)",
            )
            return
        if self._diverging(step, v, gap):
            return
        smooth = self.smoother.add(v)
        if v < self.best:
            self.best, self.best_step = v, step
        assert self._improve_ref is not None
        # Progress is judged on the smoothed loss: a lucky dip of a noisy (dropout) loss must
        # not set a bar that the typical loss then "fails" to beat.
        if smooth < self._improve_ref - 1e-3 * gap:
            self._improve_ref, self._last_improve_step = smooth, step
        low = self.smoother.low_branch()
        if v <= self.target or smooth <= self.target or (low is not None and low <= self.target):
            self.target_step = step if self.target_step is None else self.target_step
            self.run_len += 1
            if self.run_len >= self.confirm:
                self.decision = Decision(
                    "pass",
                    f"the loss reached the target {fmt(self.target)} at step {self.target_step} "
                    f"and stayed there for {self.confirm} steps" + budget.extension_note(self),
                    step,
                    "confirmed",
                )
            return
        self.run_len = 0
        if step + 1 >= self.budget and not budget.extend(self):
            self.fail(step, "budget", budget.reason(self))
        elif step - self._last_improve_step >= self.patience:
            self.fail(
                step,
                "stalled",
                f"the loss stopped improving: best {fmt(self.best)} at step {self.best_step}, typical "
                f"{fmt(smooth)}, no progress for {self.patience} steps, target {fmt(self.target)}",
            )

    def _diverging(self, step: int, v: float, gap: float) -> bool:
        """Diverged only when the loss stays beyond the bound: one spike that recovers is noise."""
        if not (gap > 0 and v - self.floor > self.divergence_factor * gap):
            self._diverged_since = None
            return False
        if self._diverged_since is None:
            self._diverged_since = step
        if step - self._diverged_since + 1 >= DIVERGE_PERSIST:
            self._fail_diverged()
        return self.decision is not None

    def _fail_diverged(self) -> None:
        assert self._diverged_since is not None
        self.fail(
            self._diverged_since,
            "diverged",
            f"the loss diverged at step {self._diverged_since}: over {self.divergence_factor:g}x its first value "
            f"{fmt(self.first)} and still there {DIVERGE_PERSIST} steps later",
        )

    def ended_at_target(self, how: str = "ended on its own") -> Decision | None:
        """The program ended itself (``how``) while the loss sat at the target (see budget)."""
        return budget.ended_at_target(self, how)

    def ended_early(self, how: str = "ended on its own") -> Decision | None:
        """The program ended itself (``how``) before the budget, short of the target (see budget)."""
        return budget.ended_early(self, how)

    def finish(self) -> Decision:
        """The decision once the loop has stopped (by itself or because we said so)."""
        if self.decision is None and self.held is not None:
            self._release()
        if self.decision is None and self._diverged_since is not None:
            self._fail_diverged()  # it ended beyond the bound: nothing left to recover in
        if self.decision is not None:
            return self.decision
        if self.first is None:
            return self.fail(0, "budget", "no training step completed")
        return self.fail(max(self.seen - 1, 0), "budget", budget.reason(self))
