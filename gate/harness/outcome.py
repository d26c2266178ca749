"""From a training run to its result, the same in task and script mode: the verdict monitor a
spec asks for, the verdict (the loss decision, overridden by failing checks) and the loss
fields of ``result.json``."""

from __future__ import annotations

import time

from gate.harness.contract import CheckRecord, ResultRecord, Verdict
from gate.harness.loop import LoopOutcome
from gate.harness.not_applicable import INCONCLUSIVE
from gate.harness.spec import Spec
from gate.harness.verdict import Monitor


def make_monitor(spec: Spec, task_floor: float | None) -> Monitor:
    floor = spec.loss_floor if spec.loss_floor is not None else (task_floor or 0.0)
    return Monitor(
        steps=spec.steps,
        target_ratio=spec.target_ratio,
        target_loss=spec.target_loss,
        floor=float(floor),
        confirm_steps=spec.confirm_steps,
        divergence_factor=spec.divergence_factor,
        patience=spec.patience,
        max_steps=spec.step_cap(),
    )


def decide(outcome: LoopOutcome, checks: list[CheckRecord], fail_on_warn: bool, cause: str = "") -> tuple[Verdict, str]:
    """The loss decision, overridden by any failing check (a pass with a broken pipeline is a
    fail). ``cause``: what the gate saw that likely explains a failing loss."""
    bad = [c for c in checks if c["status"] == "fail" or (fail_on_warn and c["status"] == "warn")]
    if outcome.stopped_by:
        first = next((c for c in bad if c["name"] == outcome.stopped_by), None)
        if first is not None:
            return "fail", f"stopped at step {outcome.steps}: {first['message']}"
    if outcome.decision.verdict == "not_applicable":
        if bad and outcome.decision.kind in INCONCLUSIVE:  # the loss could not be judged; a check could
            names = ", ".join(c["name"] for c in bad)
            return (
                "fail",
                f"{names} failed: {bad[0]['message']} (the loss itself was not judged: {outcome.decision.reason})",
            )
        return "not_applicable", outcome.decision.reason  # never a pass, and no bogus check verdict on top
    if outcome.decision.verdict != "pass":
        return "fail", outcome.decision.reason + (f"; likely cause: {cause}" if cause else "")
    if bad:
        names = ", ".join(c["name"] for c in bad)
        return "fail", f"the loss reached its target, but {names} failed: {bad[0]['message']}"
    return "pass", outcome.decision.reason


def loss_fields(outcome: LoopOutcome, monitor: Monitor) -> ResultRecord:
    finite = [v for v in outcome.losses if v is not None]
    return {
        "steps": outcome.steps,
        "losses": outcome.losses,
        "initial_loss": monitor.first,
        "final_loss": outcome.losses[-1] if outcome.losses else None,
        "best_loss": min(finite) if finite else None,
        "best_step": monitor.best_step,
        "target": monitor.target,
        "floor": monitor.floor,
        "target_step": monitor.target_step,
        "event_step": outcome.decision.step if outcome.decision.verdict == "fail" else None,
        # What happened there (nonfinite, below_floor, diverged, stalled, budget): reports label it.
        "event_kind": outcome.decision.kind if outcome.decision.verdict == "fail" else None,
        "loop_s": round(outcome.seconds, 4),
    }


def judged(
    outcome: LoopOutcome,
    checks: list[CheckRecord],
    monitor: Monitor,
    spec: Spec,
    cause: str,
    started: float,
    device: str,
) -> ResultRecord:
    """The result fields both modes share: the loss fields, the verdict and its reason, the
    checks, the duration and the device (each mode adds its own: mode, entry point or command)."""
    verdict, reason = decide(outcome, checks, spec.fail_on_warn, cause)
    return {
        **loss_fields(outcome, monitor),
        "verdict": verdict,
        "reason": reason,
        "checks": checks,
        "duration_s": round(time.perf_counter() - started, 3),
        "device": device,
    }
