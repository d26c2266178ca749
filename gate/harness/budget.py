"""How a run ends short of a decision (pure Python, no torch): the budget extended while the
loss still falls, the reason given when it runs out (still improving, or stuck), and a program
that ends on its own (its epochs ran out) at the target, while still falling, or stuck."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gate.harness.decision import Decision, fmt
from gate.harness.not_applicable import sentence
from gate.harness.smoothing import EARLY_CONFIRM, STUCK_DROP, STUCK_MIN_STEPS

# Share of the way from the first loss to a known partial floor that a run missing its target
# must cover for the miss to be put down to the unknown term, not to the pipeline.
FLOOR_PROGRESS = 0.5

if TYPE_CHECKING:
    from gate.harness.verdict import Monitor


def extend(m: Monitor) -> bool:
    """At the budget, while the smoothed loss is still clearly falling: move the budget to
    where the recent rate says the target is reached (with a margin), capped at max_steps."""
    assert m.target is not None
    if m.budget >= m.max_steps:
        return False
    raise_to = m.smoother.steps_to(m.target, m.floor, m.seen)
    if raise_to is None or raise_to <= m.budget:
        return False
    m.extended_from = m.extended_from or m.budget
    m.budget = min(max(raise_to, m.budget + m.confirm), m.max_steps)
    return True


def extension_note(m: Monitor) -> str:
    if m.extended_from is None:
        return ""
    return f" (the budget of {m.extended_from} steps was extended to {m.budget}: the loss was still falling)"


def reason(m: Monitor) -> str:
    if m.target_step is not None:
        return (
            f"the loss touched the target {fmt(m.target)} at step {m.target_step} but did not stay "
            f"there for {m.confirm} steps within {m.budget} steps (best {fmt(m.best)})" + extension_note(m)
        )
    return (
        f"the loss did not reach the target {fmt(m.target)} in {min(m.seen, m.budget)} steps "
        f"(first {fmt(m.first)}, best {fmt(m.best)} at step {m.best_step}); " + trend(m) + extension_note(m)
    )


def trend(m: Monitor) -> str:
    """Still improving (say how many steps might do) or stuck: the user's next move differs."""
    assert m.target is not None
    raise_to = m.smoother.steps_to(m.target, m.floor, m.seen)
    if raise_to is None:
        return "it is stuck: no clear progress over the last quarter of the run"
    key = "max-steps" if m.extended_from is not None else "steps"
    return f"it is still improving: raise `{key}` (to about {raise_to})"


def ended_early(m: Monitor, how: str) -> Decision | None:
    """The program ended on its own (its epochs ran out) before the budget, short of the
    target. Stuck for the last half of a long enough run is a fail; still falling, or too
    few steps to tell, is not a verdict on the pipeline: say how many steps it needs."""
    if m.decision is not None or m.held is not None or m.first is None or m.seen >= m.budget:
        return m.decision
    assert m.target is not None
    h = m.smoother.history
    half = len(h) // 2
    if len(h) >= STUCK_MIN_STEPS and h[half] - h[-1] < STUCK_DROP * max(h[0] - m.floor, 0.0):
        return m.fail(
            m.seen - 1,
            "stalled",
            f"the loss stopped improving: typical {fmt(h[half])} at step {half} and {fmt(h[-1])} at step "
            f"{len(h) - 1}, when the script {how}; best {fmt(m.best)}, target {fmt(m.target)}",
        )
    raise_to = m.smoother.steps_to(m.target, m.floor, m.seen)
    needs = f"about {raise_to} steps" if raise_to is not None else f"up to {m.budget} steps"
    state = "still falling" if raise_to is not None else "too short a run to judge"
    m.decision = Decision(
        "not_applicable",
        sentence(
            f"the script {how} after {m.seen} steps, short of the target {fmt(m.target)} "
            f"(first {fmt(m.first)}, now {fmt(h[-1])}: {state}) and the overfit test needs {needs}",
            "let the script train longer in the gate's command (raise its epochs or iterations)",
        ),
        m.seen - 1,
        "ended_early",
    )
    return m.decision


def ended_at_target(m: Monitor, how: str) -> Decision | None:
    """The program ended on its own (its epochs or its stop criterion) while the loss sat at
    the target: a pass when it stayed there for the last EARLY_CONFIRM steps at least
    (the confirmation window could not run to its end)."""
    needed = min(m.confirm, EARLY_CONFIRM)
    if m.decision is None and m.held is None and m.run_len >= needed:
        m.decision = Decision(
            "pass",
            f"the loss reached the target {fmt(m.target)} at step {m.target_step} and stayed there for "
            f"its last {m.run_len} steps, until the script {how}",
            m.seen - 1,
            "confirmed",
        )
    return m.decision


def unknown_floor(m: Monitor, step: int, kind: str) -> Decision | None:
    """A loss that missed its target (stalled, or out of budget) but has a term whose floor is
    known and above the target, beside a term the gate cannot see (a VAE: reconstruction BCE
    against soft pixels, plus a KL term), and that went most of the way down to that floor:
    the target was never reachable, and the pipeline learned. Not a verdict either way."""
    if kind not in ("budget", "stalled") or m.partial_floor is None or m.first is None or m.best is None:
        return None
    floor, why = m.partial_floor
    if m.target is None or floor <= m.target or m.first <= floor:
        return None
    covered = (m.first - m.best) / (m.first - floor)
    if covered < FLOOR_PROGRESS:
        return None
    return Decision(
        "not_applicable",
        sentence(
            f"the loss has no floor the gate can know: one term cannot go below {fmt(floor)} ({why}), above the "
            f"target {fmt(m.target)}, and another term it cannot see adds to it (a KL or regularisation term); "
            f"the loss fell from {fmt(m.first)} to {fmt(m.best)}, {covered:.0%} of the way to that floor",
            "set target-loss (or loss-floor) to what this loss can reach",
        ),
        step,
        "unknown_floor",
    )
