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


def test_one_spike_does_not_reset_the_window() -> None:
    # Confirmed on the running median: one noisy step inside the window is not a relapse.
    values = decaying(60)[:50] + [1.0] + [0.001] * 30
    d = feed_all(Monitor(steps=500, confirm_steps=20), values)
    assert d.verdict == "pass" and d.step == 44 + 19


def test_a_sustained_rise_resets_the_window() -> None:
    values = decaying(60)[:50] + [1.0] * 6 + [0.001] * 40
    d = feed_all(Monitor(steps=500, confirm_steps=20), values)
    assert d.verdict == "pass"
    assert d.step == 56 + 19  # the rise reset the window; it restarted at the first good step


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
    values = [1.0, 2.0, 5.0, 12.0, 50.0, 80.0, 200.0, 500.0, 900.0, 1e4]
    m = Monitor(steps=100)
    assert m.feed(values) is not None  # decided without waiting for the run to end
    assert m.decision is not None and m.decision.kind == "diverged" and m.decision.step == 3  # where it began


def test_one_spike_is_not_a_divergence() -> None:
    # A spike far over the bound, and the loss at 0.001 a few steps later: noise, not divergence.
    values = [*decaying(40), 60.0, 0.5, 0.01, 0.001, *([0.001] * 30)]
    d = feed_all(Monitor(steps=500), values)
    assert d.verdict == "pass"


def test_a_run_that_ends_diverged_fails_diverged() -> None:
    d = feed_all(Monitor(steps=100), [1.0, 2.0, 5.0, 12.0, 50.0])
    assert d.kind == "diverged" and d.step == 3


def test_noisy_loss_around_its_trend_does_not_stall() -> None:
    # Dropout-like noise: +-40% around a slowly falling trend. The best raw value is a lucky
    # dip the typical loss does not beat for a long time; the median keeps falling.
    import random

    rng = random.Random(0)
    values = [2.0 * 0.994**i * (1 + 0.4 * (rng.random() * 2 - 1)) for i in range(1500)]
    d = feed_all(Monitor(steps=1500, patience=100), values)
    assert d.kind != "stalled"


def test_budget_end_says_still_improving_and_how_far() -> None:
    d = feed_all(Monitor(steps=200, patience=1000), decaying(200, rate=0.985))
    assert d.kind == "budget" and "still improving: raise `steps` (to about" in d.reason
    needed = int(d.reason.split("to about ")[1].split(")")[0])
    assert 300 <= needed <= 500  # 0.985**k <= 0.01 at k=305


def test_budget_end_says_stuck() -> None:
    values = decaying(100, rate=0.95)[:100] + [0.3] * 100
    d = feed_all(Monitor(steps=200, patience=1000, target_ratio=0.001), [1.0, *values[1:]])
    assert d.kind == "budget" and "it is stuck" in d.reason


def test_sign_changing_loss_is_not_applicable() -> None:
    # REINFORCE: -log_prob * normalised return, positive one episode, negative the next.
    values = [0.8, -1.2, 0.3, -0.1, 1.5, -0.7, 0.2, -2.0, 0.9, -0.4, 0.6, -0.3, 0.1, -0.5, 0.4, -0.2, 0.3]
    m = Monitor(steps=500)
    d = feed_all(m, values)
    assert d.verdict == "not_applicable" and d.kind == "sign_changes"
    assert d.reason.startswith("not applicable: ") and "gate a supervised component in task mode instead" in d.reason


def test_sign_error_is_still_a_fail_within_the_first_chunk() -> None:
    values = [2.3, 1.0, -0.5, -3.0, -9.0] + [-20.0 * i for i in range(1, 20)]
    m = Monitor(steps=500)
    d = feed_all(m, values, chunk=16)
    assert d.verdict == "fail" and d.kind == "below_floor" and d.step == 2


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


def test_a_program_that_ends_at_the_target_passes_and_one_that_only_touched_it_does_not() -> None:
    m = Monitor(steps=500, confirm_steps=20)
    m.feed([*decaying(50)])  # at the target (0.02) from step 44: 6 steps, then the script returned
    assert m.ended_at_target() is not None and m.finish().verdict == "pass"
    assert "until the script ended on its own" in m.finish().reason
    m = Monitor(steps=500, confirm_steps=20)
    m.feed([*decaying(46)])  # only 2 steps at the target
    assert m.ended_at_target() is None and m.finish().verdict == "fail"


def test_a_loss_still_falling_at_the_budget_gets_more_steps_up_to_max_steps() -> None:
    m = Monitor(steps=200, patience=1000, max_steps=800)
    d = feed_all(m, decaying(800, rate=0.985))  # reaches 1% of the first loss at step 305
    assert d.verdict == "pass" and m.target_step == 305 and d.step == 305 + 19
    assert "budget of 200 steps was extended to" in d.reason
    capped = feed_all(Monitor(steps=200, patience=1000, max_steps=250), decaying(800, rate=0.985))
    assert capped.kind == "budget" and capped.step == 249
    assert "still improving: raise `max-steps`" in capped.reason and "extended to 250" in capped.reason


def test_a_stuck_loss_is_not_extended() -> None:
    values = decaying(100, rate=0.95)[:100] + [0.3] * 700
    m = Monitor(steps=200, patience=1000, target_ratio=0.001, max_steps=800)
    d = feed_all(m, [1.0, *values[1:]])
    assert d.kind == "budget" and d.step == 199 and m.extended_from is None


def test_a_script_ending_early_while_still_falling_is_not_applicable_with_the_steps_it_needs() -> None:
    m = Monitor(steps=500)
    m.feed(decaying(200, rate=0.985))  # its epochs ran out at 200; the target needs ~305
    assert m.ended_at_target() is None
    d = m.ended_early()
    assert d is not None and d.verdict == "not_applicable" and d.kind == "ended_early"
    assert "ended on its own after 200 steps" in d.reason and "still falling" in d.reason
    needed = int(d.reason.split("needs about ")[1].split(" steps")[0])
    assert 300 <= needed <= 500
    assert d.reason.endswith("let the script train longer in the gate's command (raise its epochs or iterations)")
    assert m.finish() is d


def test_a_script_ending_early_stuck_is_a_fail_and_one_too_short_to_judge_is_not() -> None:
    m = Monitor(steps=500)
    m.feed([*decaying(30, rate=0.9), *[0.1] * 70])  # flat for its second half
    d = m.ended_early()
    assert d is not None and d.verdict == "fail" and d.kind == "stalled" and "ended on its own" in d.reason
    short = Monitor(steps=500)
    short.feed([1.0, 0.98, 0.97, 0.97, 0.97, 0.97, 0.97, 0.97, 0.97, 0.97])
    d = short.ended_early()
    assert d is not None and d.verdict == "not_applicable" and "too short a run to judge" in d.reason


def test_a_steady_two_step_cycle_is_judged_on_its_low_branch() -> None:
    # Hand-written SGD at the edge of stability on one fixed batch (pytorch/examples' regression):
    # the loss falls, then bounces between two values for good; the median flips between them.
    fall = decaying(40, first=10.0, rate=0.9)
    cycle = [0.05 if i % 2 else 0.3 for i in range(100)]
    d = feed_all(Monitor(steps=500, confirm_steps=20), fall + cycle)
    assert d.verdict == "pass" and d.kind == "confirmed"
    # The same values shuffled are noise, not a cycle: the median (0.3) is above the target.
    noisy = [0.3, 0.3, 0.05, 0.3, 0.3, 0.05, 0.3, 0.05, 0.3, 0.3] * 10
    assert feed_all(Monitor(steps=140, confirm_steps=20, patience=1000), fall + noisy).verdict == "fail"


def test_a_miss_down_to_a_partial_floor_above_the_target_is_not_applicable() -> None:
    # A VAE: BCE against soft pixels cannot go below 60 (the spy knows), plus a KL term it
    # cannot see; the target (1% of the first loss) was never reachable.
    values = [60.0 + 40.0 * 0.97**i + 3.0 for i in range(300)]
    m = Monitor(steps=300, patience=1000)
    m.partial_floor = (60.0, "soft binary targets (BCE(t, t) = 60)")
    d = feed_all(m, values)
    assert d.verdict == "not_applicable" and d.kind == "unknown_floor"
    assert "cannot go below 60 (soft binary targets" in d.reason and "of the way to that floor" in d.reason
    assert d.reason.endswith("set target-loss (or loss-floor) to what this loss can reach")
    # A loss that barely moved (a detached decoder) is still a fail.
    stuck = Monitor(steps=300, patience=100)
    stuck.partial_floor = (60.0, "soft binary targets (BCE(t, t) = 60)")
    d = feed_all(stuck, [100.0 - 5.0 * 0.9**i for i in range(300)])
    assert d.verdict == "fail" and d.kind == "stalled"
