"""loss_at_init: a classifier that knows nothing should predict roughly uniformly, so its
first cross-entropy is about log(num_classes). Far above means overconfident logits at
init (bad init, a missing scale, a temperature applied the wrong way); far below means the
model already knows the answers before training (a leak) or the labels are all one class.
Other losses have no reference value: the first loss is reported. Never fails."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch.nn import functional as F

from gate.harness.checks.base import Check, Context, result
from gate.harness.contract import CheckRecord
from gate.harness.verdict import fmt

NAME = "loss_at_init"
HIGH, LOW = 1.5, 0.5  # warn outside [LOW, HIGH] x log(C)


def _classes(fn: str, logits: torch.Tensor) -> int | None:
    if fn in ("binary_cross_entropy_with_logits", "binary_cross_entropy"):
        return 2
    if logits.dim() == 0:
        return None
    return int(logits.shape[1] if logits.dim() >= 2 else logits.shape[0])


class Spy:
    """Record the first classification-loss call made through torch.nn.functional (which
    nn.CrossEntropyLoss & co. call too): its name, class count and mean value. Installed
    for the loop's first step, so no extra forward pass is needed; it uninstalls itself
    on the first recorded call (or at the first sync / finish at the latest)."""

    NAMES = ("cross_entropy", "nll_loss", "binary_cross_entropy_with_logits", "binary_cross_entropy")

    def __init__(self) -> None:
        self.seen: list[tuple[str, int, float]] = []
        self.originals: dict[str, Callable[..., torch.Tensor]] = {}

    def install(self) -> None:
        self.originals = {n: getattr(F, n) for n in self.NAMES}
        for n, fn in self.originals.items():
            setattr(F, n, self._wrap(n, fn))

    def remove(self) -> None:
        for n, fn in self.originals.items():
            setattr(F, n, fn)
        self.originals = {}

    def _wrap(self, name: str, fn: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
        def spied(input: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
            out = fn(input, *args, **kwargs)
            if not self.seen and kwargs.get("reduction", "mean") in ("mean", "none") and isinstance(out, torch.Tensor):
                c = _classes(name, input)
                if c is not None and c >= 2 and out.numel() > 0:
                    self.seen.append((name, c, float(out.detach().float().mean())))
                    self.remove()
            return out

        return spied


class LossAtInit(Check):
    name = NAME

    def before(self, ctx: Context) -> None:
        self.spy = Spy()
        self.spy.install()  # watches the loop's own first loss

    def on_sync(self, ctx: Context, step: int) -> bool:
        self.spy.remove()
        return False

    def finish(self, ctx: Context) -> list[CheckRecord]:
        self.spy.remove()
        self.seen = self.spy.seen
        first = ctx.monitor.first
        if not self.seen:
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
        fn, classes, value = self.seen[0]
        expected = math.log(classes)
        data: dict[str, Any] = {"initial_loss": value, "expected": expected, "classes": classes, "loss_fn": fn}
        ratio = value / expected
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
