"""loss_at_init: a classifier that knows nothing should predict roughly uniformly, so its
first cross-entropy is about log(num_classes). Far above means overconfident logits at
init (bad init, a missing scale, a temperature applied the wrong way); far below means the
model already knows the answers before training (a leak) or the labels are all one class.
Other losses have no reference value: the first loss is reported. Never fails."""

from __future__ import annotations

import math
from typing import Any

from gate.harness.check_api import Check, Context, result
from gate.harness.contract import CheckRecord
from gate.harness.loss_spy import LossSpy, raw_scores_cause
from gate.harness.verdict import fmt

NAME = "loss_at_init"
HIGH, LOW = 1.5, 0.5  # warn outside [LOW, HIGH] x log(C)


class LossAtInit(Check):
    name = NAME

    def finish(self, ctx: Context) -> list[CheckRecord]:
        # The run's loss spy (installed before the first training loss, in both modes) saw
        # the first classification loss call of step 0.
        spy = ctx.shared.get("loss_spy")
        call = spy.first_classification() if isinstance(spy, LossSpy) else None
        first = ctx.monitor.first
        if call is None:
            if first is None:
                return [result(NAME, "skip", "no loss was computed")]
            return [
                result(
                    NAME,
                    "pass",
                    f"initial loss {fmt(first)} (not a recognised classification loss: no reference value)",
                    initial_loss=first,
                )
            ]
        fn, classes = call.name, call.classes or 2
        value = call.per_target if call.per_target is not None else call.value
        expected = math.log(classes)
        data: dict[str, Any] = {"initial_loss": value, "expected": expected, "classes": classes, "loss_fn": fn}
        ratio = value / expected
        if call.raw_scores is not None:  # its value says nothing about what the model knows
            return [
                result(
                    NAME,
                    "warn",
                    f"the first {fn} is {fmt(value)}, but {raw_scores_cause(spy)}",
                    "nll_loss on raw scores is unbounded below (on probabilities it is -p): the loss falls "
                    "below 0 and the model learns nothing useful",
                    **data,
                )
            ]
        if not math.isfinite(value):
            return [
                result(NAME, "warn", f"the first {fn} is {value}", "the model output is non-finite at init", **data)
            ]
        if ratio > HIGH and value - expected > 0.5:
            return [
                result(
                    NAME,
                    "warn",
                    f"the first {fn} is {fmt(value)}, {ratio:.1f}x log({classes}) = {fmt(expected)} expected from an untrained model",
                    "the logits are too large at init: check the output layer's init (small or zero weights), "
                    "a missing 1/sqrt(d) or temperature scale, or inputs that are not normalised",
                    **data,
                )
            ]
        if ratio < LOW:
            return [
                result(
                    NAME,
                    "warn",
                    f"the first {fn} is {fmt(value)}, well below log({classes}) = {fmt(expected)}: the untrained model already predicts the labels",
                    "check for labels leaking into the inputs, a batch with a single class, or a pretrained head",
                    **data,
                )
            ]
        return [
            result(NAME, "pass", f"the first {fn} {fmt(value)} is close to log({classes}) = {fmt(expected)}", **data)
        ]
