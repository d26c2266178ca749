"""Noise-robust views of the loss for the verdict monitor (pure Python, no torch).

A dropout or mini-batch-noise loss bounces around its trend: judged point by point, one lucky
dip sets a bar the typical loss "fails" to beat (a false stall), and one spike looks like a
divergence. The running median of the last few steps follows the trend and ignores both.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import deque

WINDOW = 9  # steps in the running median: ignores up to 4 outliers in a row
DIVERGE_PERSIST = 5  # consecutive steps beyond the divergence bound before it counts
SIGN_WINDOW = 16  # early steps watched for a loss that changes sign (no floor at all)
SIGN_CHANGES = 2  # + - + : more than one crossing of the floor before any trend
EARLY_CONFIRM = 5  # steps at the target that confirm it when the program itself ends first
TAIL = 0.25  # the share of the run the end-of-budget trend is measured over
MIN_DROP = 0.05
# A program that ends on its own early is "stuck" (a fail) only when its smoothed loss fell by
# less than STUCK_DROP of the first gap over the second half of at least STUCK_MIN_STEPS steps.
STUCK_MIN_STEPS = 40
STUCK_DROP = 0.01  # the log-gap must fall by this much over the tail to call it "improving"


class Smoother:
    def __init__(self, window: int = WINDOW) -> None:
        self.window = window
        self._recent: deque[float] = deque(maxlen=window)
        self.history: list[float] = []  # the smoothed loss at every step fed

    def add(self, v: float) -> float:
        self._recent.append(v)
        m = statistics.median(self._recent)
        self.history.append(m)
        return m

    def low_branch(self) -> float | None:
        """In a steady 2-step cycle (every step goes the other way from the last, across the
        whole window): the lower of the last two losses, else None. Plain gradient descent at
        the edge of stability on one fixed batch bounces between two parameter points for good;
        the running median then flips between the branches, and the low one is what the model
        reaches every other step. Random noise alternates over a whole window ~1 time in 128."""
        r = list(self._recent)
        if len(r) < self.window:
            return None
        d = [b - a for a, b in itertools.pairwise(r)]
        if all(x * y < 0 for x, y in itertools.pairwise(d)):
            return min(r[-1], r[-2])
        return None

    def fell(self, i: int, j: int, floor: float) -> bool:
        """Did the smoothed loss clearly fall (its log-gap by MIN_DROP) from step ``i`` to ``j``?"""
        h = self.history
        if not 0 <= i < j < len(h):
            return False
        then, now = h[i] - floor, h[j] - floor
        return then > 0 and now > 0 and math.log(then) - math.log(now) >= MIN_DROP

    def steps_to(self, target: float, floor: float, seen: int) -> int | None:
        """When the smoothed loss is still falling at the end: about how many steps in all
        would reach the target at the recent rate (None when it is not clearly falling)."""
        h = self.history
        span = max(int(len(h) * TAIL), WINDOW)
        if len(h) <= span or target <= floor:
            return None
        then, now = h[-span - 1] - floor, h[-1] - floor
        if then <= 0 or now <= 0:
            return None
        drop = math.log(then) - math.log(now)  # log-gap fallen over the tail
        if drop < MIN_DROP:
            return None
        needed = (math.log(now) - math.log(target - floor)) / (drop / span)
        total = seen + needed * 1.25  # a margin: the rate usually slows near the target
        magnitude = 10 ** max(0, int(math.log10(total)) - 1)
        return int(math.ceil(total / magnitude) * magnitude)
