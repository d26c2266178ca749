"""The verdict from a loss decision and the checks (outcome.decide)."""

from __future__ import annotations

import pytest

from gate.harness.check_api import result
from gate.harness.decision import Decision
from gate.harness.loop import LoopOutcome
from gate.harness.outcome import decide

DETACHED = result("gradient_flow", "fail", "2 of 4 trainable parameters never received a gradient")


def outcome(kind: str) -> LoopOutcome:
    return LoopOutcome(Decision("not_applicable", f"not applicable: {kind}; do this", 399, kind), 400, [], 1.0)


@pytest.mark.parametrize("kind", ["ended_early", "unknown_floor", "lr_cut"])
def test_a_failing_check_fails_a_run_whose_loss_could_not_be_judged(kind: str) -> None:
    verdict, reason = decide(outcome(kind), [DETACHED], fail_on_warn=False)
    assert verdict == "fail"
    assert (
        reason.startswith("gradient_flow failed: 2 of 4")
        and f"(the loss itself was not judged: not applicable: {kind}" in reason
    )
    assert decide(outcome(kind), [], fail_on_warn=False) == ("not_applicable", f"not applicable: {kind}; do this")


@pytest.mark.parametrize("kind", ["sign_changes", "rollout", "adversarial"])
def test_programs_an_overfit_test_does_not_fit_stay_not_applicable_whatever_the_checks_say(kind: str) -> None:
    assert decide(outcome(kind), [DETACHED], fail_on_warn=False)[0] == "not_applicable"
