"""Unit tests of the verdict state machine (pure Python, no torch)."""

from __future__ import annotations

import math

import pytest

from gate.harness.verdict import Monitor


def feed_all(m: Monitor, values: list[float], chunk: int = 7):
    for i in range(0, len(values), chunk):
        if m.feed(values[i : i + chunk]) is not None:
            break
    return m.finish()


def decaying(n: int, first: float = 2.0, rate: float = 0.9, floor: float = 0.0) -> list[float]:
    return [floor + (first - floor) * rate**i for i in range(n)]


def test_pass_needs_confirmation_window() -> None:
    m = Monitor(steps=500, confirm_steps=20)
    d = feed_all(m, decaying(500))
    assert d.verdict == "pass"
    # 0.9**k <= 0.01 first at k=44; confirmed 19 steps later.
    assert m.target_step == 44
    assert d.step == 44 + 19
    assert "step 44" in d.reason


def test_chunking_does_not_change_the_decision() -> None:
    values = decaying(300, rate=0.95)
    decisions = {feed_all(Monitor(steps=300), values, chunk=c).step for c in (1, 5, 16, 300)}
    assert len(decisions) == 1


def test_spike_resets_the_window() -> None:
    values = decaying(60)[:50] + [1.0] + [0.001] * 30
    m = Monitor(steps=500, confirm_steps=20)
    d = feed_all(m, values)
    assert d.verdict == "pass"
    assert d.step == 50 + 20  # window restarted after the spike at 50


def test_budget_exhausted_fails_with_best() -> None:
    d = feed_all(Monitor(steps=100, patience=1000), decaying(100, rate=0.99))
    assert d.verdict == "fail" and d.kind == "budget"
    assert "did not reach the target" in d.reason and "100 steps" in d.reason


def test_reached_late_gets_window_beyond_budget() -> None:
    # Target first reached at step 95 of a 100-step budget: the window may run past it.
    values = [1.0] * 95 + [0.001] * 30
    m = Monitor(steps=100, confirm_steps=20, patience=1000)
    d = feed_all(m, values)
    assert d.verdict == "pass" and d.step == 95 + 19


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_nonfinite_fails_at_that_step(bad: float) -> None:
    values = [*decaying(30), bad, *decaying(10)]
    d = feed_all(Monitor(steps=500), values)
    assert d.verdict == "fail" and d.kind == "nonfinite" and d.step == 30


def test_first_loss_nan() -> None:
    d = feed_all(Monitor(steps=10), [math.nan])
    assert d.kind == "nonfinite" and d.step == 0


def test_below_floor_is_a_fail_not_a_pass() -> None:
    values = [1.0, 0.5, 0.1, -0.2, -1.0]
    d = feed_all(Monitor(steps=100), values)
    assert d.verdict == "fail" and d.kind == "below_floor" and d.step == 3
    assert "sign error" in d.reason


def test_first_loss_at_or_below_floor() -> None:
    d = feed_all(Monitor(steps=100), [-2.3, -2.5])
    assert d.kind == "below_floor" and d.step == 0


def test_floor_moves_the_target() -> None:
    m = Monitor(steps=500, floor=0.5)
    feed_all(m, decaying(500, first=2.5, floor=0.5))
    assert m.target == pytest.approx(0.5 + 0.01 * 2.0)


def test_absolute_target() -> None:
    m = Monitor(steps=500, target_loss=0.1)
    d = feed_all(m, decaying(500))
    assert d.verdict == "pass" and m.target == 0.1 and m.target_step == 29


def test_divergence() -> None:
    values = [1.0, 2.0, 5.0, 12.0, 50.0]
    d = feed_all(Monitor(steps=100), values)
    assert d.kind == "diverged" and d.step == 3


def test_flat_loss_stalls_early() -> None:
    d = feed_all(Monitor(steps=500, patience=50), [1.0] * 500)
    assert d.kind == "stalled" and d.step == 50  # certain long before the budget


def test_slow_steady_progress_is_not_a_stall() -> None:
    d = feed_all(Monitor(steps=2000, patience=50), decaying(2000, rate=0.997))
    assert d.verdict == "pass"


def test_best_counts_the_steps_that_ran_past_the_decision_in_the_same_chunk() -> None:
    # The chunk read back at a sync can hold steps after the confirming one: they ran, so
    # the progress line's "best" and the report's "best @ step" must include them.
    m = Monitor(steps=100, confirm_steps=2)
    d = m.feed([1.0, 0.5, 0.009, 0.008, 0.005, 0.004])
    assert d is not None and d.verdict == "pass" and d.step == 3
    assert m.best == 0.004 and m.best_step == 5
