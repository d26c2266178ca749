"""A program that cuts its own learning rate while the loss still falls (lr_cut.py), judged by
the verdict monitor from the step sizes script mode records (pure Python, no torch)."""

from __future__ import annotations

from gate.harness.verdict import Monitor
from tests.harness.test_verdict import feed_all


def annealed(cut_at: int, n: int = 500, lr: float = 0.5) -> tuple[list[float], list[float | None]]:
    """word_language_model's annealing: the loss falls while the rate is high; every 30 steps
    from ``cut_at`` the rate is divided by 4, and the loss all but stops where it was."""
    losses: list[float] = []
    sizes: list[float | None] = []
    loss, rate = 9.0, lr
    for i in range(n):
        if i >= cut_at and (i - cut_at) % 30 == 0:
            rate /= 4
        loss -= loss * 0.02 * rate / lr
        losses.append(loss)
        sizes.append(rate)
    return losses, sizes


def judged(losses: list[float], sizes: list[float | None], **kw: int) -> Monitor:
    m = Monitor(steps=len(losses), patience=kw.get("patience", 100))
    m.step_sizes = sizes
    feed_all(m, losses)
    return m


def test_a_rate_cut_while_the_loss_fell_is_not_applicable() -> None:
    losses, sizes = annealed(cut_at=60)
    d = judged(losses, sizes).finish()
    assert d.verdict == "not_applicable" and d.kind == "lr_cut", d.reason
    assert (
        "cut its own learning rate from 0.5 to" in d.reason
        and "starting at step 60; the loss still fell under the first cuts" in d.reason
    )
    assert d.reason.endswith(
        "keep the learning rate constant in the gate's command (turn the schedule or annealing off)"
    )


def test_the_same_loss_without_a_known_rate_still_fails() -> None:
    losses, _sizes = annealed(cut_at=60)
    assert judged(losses, []).finish().verdict == "fail"
    assert judged(losses, [None] * len(losses)).finish().verdict == "fail"


def test_a_cut_of_less_than_ten_times_still_fails() -> None:
    losses, sizes = annealed(cut_at=60)
    mild = [max(s, 0.06) for s in sizes if s is not None]  # 0.5 -> 0.06: 8x
    d = judged(losses, list(mild)).finish()
    assert d.verdict == "fail" and d.kind in ("stalled", "budget"), d.reason


def test_a_plateau_scheduler_cutting_after_the_loss_stopped_still_fails() -> None:
    # A bug flattens the loss at step 40 (softmax applied twice); ReduceLROnPlateau on the
    # training loss then cuts the rate from step 80: the plateau came first.
    losses = [2.0 - 0.6 * (1 - 0.9**i) for i in range(500)]
    sizes: list[float | None] = [0.4 * 0.25 ** max(0, (i - 80) // 30 + 1) if i >= 80 else 0.4 for i in range(500)]
    d = judged(losses, sizes).finish()
    assert d.verdict == "fail" and d.kind == "stalled", d.reason


def test_a_warmup_is_not_a_cut_and_one_noisy_measure_is_not_a_peak() -> None:
    losses, _sizes = annealed(cut_at=10_000)  # never cut: the loss keeps falling to its target
    warm = [0.5 * min(1.0, (i + 1) / 50) for i in range(len(losses))]
    assert judged(losses, list(warm)).finish().verdict == "pass"
    # A hand-written update measured once far above the rest (a jitter) is not its peak.
    stalled = [2.0 - 0.6 * (1 - 0.9**i) for i in range(500)]
    noisy: list[float | None] = [0.4] * 500
    noisy[100] = 40.0
    assert judged(stalled, noisy).finish().kind == "stalled"
