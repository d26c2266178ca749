"""The likely cause of a failing loss, from what the gate saw on the way: every target
ignored (a NaN at step 0), nll_loss on raw scores (a loss below its floor), dropout left on,
a loss term whose floor is above the target, a check that already warned (parameters left
out of the optimizer, say). Appended to the verdict's reason, so a fail on budget says more
than "did not reach the target"."""

from __future__ import annotations

from gate.harness.contract import CheckRecord
from gate.harness.dropout import DropoutSwitch
from gate.harness.loss_spy import LossSpy, raw_scores_cause
from gate.harness.verdict import Decision, Monitor, fmt


def all_ignored(spy: LossSpy | None) -> str:
    call = spy.all_ignored() if spy is not None else None
    if call is None:
        return ""
    return (
        f"every target of {call.name} equals ignore_index={call.all_ignored}, so its mean is over zero elements "
        "(0/0 = NaN): the labels are all masked out (HF: every label set to -100, e.g. by a padding or prompt "
        "mask that covers the whole sequence)"
    )


def likely_cause(
    decision: Decision, checks: list[CheckRecord], spy: LossSpy | None, dropout: DropoutSwitch, monitor: Monitor
) -> str:
    if decision.verdict == "pass":
        return ""
    if decision.kind == "nonfinite":
        return all_ignored(spy)
    if decision.kind == "below_floor":
        return raw_scores_cause(spy)
    if decision.kind not in ("budget", "stalled"):
        return ""
    causes: list[str] = []
    if dropout.keep and dropout.max_p > 0:
        causes.append(
            f"dropout is on (p up to {dropout.max_p:g}, keep-dropout = true) and its noise keeps the loss above "
            "the target: overfit with it off"
        )
    unapplied = spy.unexplained_floor() if spy is not None else None
    if unapplied is not None and monitor.target is not None and unapplied[0] > monitor.target:
        causes.append(
            f"the loss cannot go below {fmt(unapplied[0])} ({unapplied[1]}), above the target {fmt(monitor.target)}: "
            "the target is below the achievable loss; set loss-floor (or target-loss) to what this loss can reach"
        )
    causes += [f"{c['name']} warned: {c['message']}" for c in checks if c["status"] == "warn"]
    return "; ".join(causes)
