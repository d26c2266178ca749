"""A learning rate the program cut itself (pure Python, no torch).

Many training scripts lower their learning rate when the *validation* loss stops improving
(word_language_model divides its hand-written ``lr`` by 4; ``ReduceLROnPlateau`` on a validation
metric does the same). Overfitting one batch makes the validation loss worse by design, so the
script anneals its step size away while the training loss is still falling, and the loss then
stalls far above the target: the pipeline is not broken, the overfit test just cannot finish
under that schedule. A plateau caused by a bug comes first and a plateau scheduler cuts the rate
after it, on a loss that no longer moves; so this applies only when the loss still clearly fell
between the first cut and the cut to 1/CUT of the peak (the decline went on under the cuts).
"""

from __future__ import annotations

import math
import statistics
from typing import TYPE_CHECKING

from gate.harness.decision import Decision, fmt
from gate.harness.not_applicable import sentence

if TYPE_CHECKING:
    from gate.harness.verdict import Monitor

CUT = 10.0  # the step size at the end is at most 1/CUT of its peak
FIRST_CUT = 0.5  # the first step with at most this share of the peak is where the cutting began
SMOOTH = 5  # median window over the step sizes: a hand-written update's measured size jitters


def _known(sizes: list[float | None], start: int = 0) -> list[tuple[int, float]]:
    """(step, size) of the known, positive, finite sizes."""
    return [(i, s) for i, s in enumerate(sizes, start) if s is not None and math.isfinite(s) and s > 0]


def _smoothed(sizes: list[float | None]) -> list[tuple[int, float]]:
    """(step, running median of the known step sizes up to it)."""
    out: list[tuple[int, float]] = []
    recent: list[float] = []
    for i, s in _known(sizes):
        recent = [*recent[-(SMOOTH - 1) :], s]
        out.append((i, statistics.median(recent)))
    return out


def cut(m: Monitor, step: int, kind: str) -> Decision | None:
    """A stalled or out-of-budget loss whose step size the program cut by CUT or more while the
    loss still fell: not a verdict on the pipeline."""
    if kind not in ("budget", "stalled") or m.target is None or m.first is None:
        return None
    known = _smoothed(m.step_sizes[: m.seen])
    if len(known) < 2:
        return None
    peak_at, peak = max(known, key=lambda t: t[1])
    after = [(i, s) for i, s in known if i > peak_at]
    if not after or after[-1][1] > peak / CUT:
        return None
    smoothed_at = next(i for i, s in after if s <= peak * FIRST_CUT)
    # The median lags: the cut began at the first raw size that low since the peak.
    raw = _known(m.step_sizes[peak_at + 1 : smoothed_at], peak_at + 1)
    began = next((i for i, s in raw if s <= peak * FIRST_CUT), smoothed_at)
    deep = next(i for i, s in after if s <= peak / CUT)
    h = m.smoother.history
    if not m.smoother.fell(began, deep, m.floor):
        return None
    return Decision(
        "not_applicable",
        sentence(
            f"the script cut its own learning rate from {fmt(peak)} to {fmt(after[-1][1])}, starting at step {began}; "
            f"the loss still fell under the first cuts ({fmt(h[began])} to {fmt(h[deep])}), then stopped at "
            f"{fmt(h[-1])}, short of the target {fmt(m.target)}: a schedule that lowers the rate when the "
            "validation loss worsens (as overfitting one batch makes it) or decays it within the run ends the "
            "overfit test early",
            "keep the learning rate constant in the gate's command (turn the schedule or annealing off)",
        ),
        step,
        "lr_cut",
    )
