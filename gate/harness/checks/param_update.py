"""parameters_update: parameters the optimizer should move do move. Catches a learning
rate of 0, gradients clipped to zero and an optimizer built for another model instance.
Frozen parameters (``requires_grad=False``) are a normal fine-tuning choice: reported as
a warning with the frozen fraction, never a failure."""

from __future__ import annotations

import torch

from gate.harness.check_api import Check, Context, result
from gate.harness.checks._util import allowed, group_by_module, listing, trainable
from gate.harness.checks.gradstats import GradStats
from gate.harness.contract import CheckRecord

NAME = "parameters_update"


class ParametersUpdate(Check):
    name = NAME

    def before(self, ctx: Context) -> None:
        self.stats = GradStats.of(ctx)
        named = trainable(ctx.model)
        in_opt = {id(p) for g in ctx.optimizer.param_groups for p in g["params"]} if ctx.optimizer else set()
        self.n_opt = len(in_opt)
        self.watched = [(n, p) for n, p in named if id(p) in in_opt]
        self.outside = [n for n, p in named if id(p) not in in_opt]
        self.snap = [p.detach().clone() for _, p in self.watched]
        self.moved = [False] * len(self.watched)
        self.early: str | None = None

    def after_backward(self, ctx: Context, step: int) -> None:
        self.stats.update(step)

    def _refresh(self) -> None:
        todo = [i for i, m in enumerate(self.moved) if not m]
        if not todo:
            return
        cur = [self.watched[i][1].detach() for i in todo]
        diffs = torch._foreach_sub(cur, [self.snap[i] for i in todo])
        norms = torch.stack([n.float().to(self.stats.device) for n in torch._foreach_norm(diffs)])
        for i, v in zip(todo, (norms != 0).tolist(), strict=True):
            self.moved[i] = bool(v)

    def on_sync(self, ctx: Context, step: int) -> bool:
        # Certain only when nothing at all moved: lr 0, or the optimizer holds another
        # model's parameters. Wait two syncs so a warm-up from lr 0 (script mode) can start.
        if self.early is not None or step < 2 * max(1, ctx.spec.sync_every) or any(self.moved):
            return False
        self._refresh()
        if self.watched and not any(self.moved) and any(self.stats.received()):
            self.early = f"no parameter changed in {step} steps"
            return True
        if not self.watched and trainable(ctx.model) and self.n_opt:
            self.early = "the optimizer holds none of this model's parameters"
            return True
        return False

    def _lr_hint(self, ctx: Context) -> str:
        zero = [i for i, g in enumerate(ctx.optimizer.param_groups) if float(g.get("lr", 1.0)) == 0.0]
        if zero:
            return f"param group(s) {zero} of {type(ctx.optimizer).__name__} have lr=0"
        return (
            "check the learning rate (0, or a scheduler that holds it at 0), gradient clipping "
            "(max_norm=0 clips every gradient to zero) and that the optimizer is stepped"
        )

    def finish(self, ctx: Context) -> list[CheckRecord]:
        if self.stats.steps_seen == 0:
            return [result(NAME, "skip", "no optimizer step completed")]
        self._refresh()
        found = [self._not_moved(ctx), self._outside(ctx.model), _frozen(ctx.model)]
        out = [r for r in found if r is not None]
        return out or [result(NAME, "pass", f"all {len(self.watched)} parameters in the optimizer changed")]

    def _not_moved(self, ctx: Context) -> CheckRecord | None:
        """The fail: an optimizer built for another model instance, or parameters with a
        gradient that the optimizer should have moved and did not."""
        trainable_names = [n for n, _ in trainable(ctx.model)]
        if trainable_names and not self.watched and self.n_opt:
            return result(
                NAME,
                "fail",
                f"the optimizer holds {self.n_opt} parameters, none of which belong to this model",
                "the optimizer was built for another model instance: build it from this model's "
                "parameters (e.g. after model.to(device), or from the same object the task returns)",
                stuck=trainable_names,
            )
        received = dict(zip(self.stats.names, self.stats.received(), strict=True))
        stuck = [
            n
            for (n, _), m in zip(self.watched, self.moved, strict=True)
            if not m and received.get(n, False) and not allowed(n, ctx.spec.allow_unused)
        ]
        if not stuck:
            return None
        return result(
            NAME,
            "fail",
            f"{len(stuck)} of {len(self.watched)} parameters received gradients but never changed: "
            f"{group_by_module(ctx.model, stuck)}",
            self._lr_hint(ctx),
            stuck=stuck,
        )

    def _outside(self, model: torch.nn.Module) -> CheckRecord | None:
        if not (self.outside and self.watched):
            return None
        return result(
            NAME,
            "warn",
            f"{len(self.outside)} parameters require grad but are not in the optimizer, so they never change: "
            f"{group_by_module(model, self.outside)}",
            "if they are meant to be frozen, set requires_grad=False (saves their backward pass); "
            "otherwise add them to the optimizer",
            outside=self.outside,
        )


def _frozen(model: torch.nn.Module) -> CheckRecord | None:
    named = list(model.named_parameters())
    frozen = [n for n, p in named if not p.requires_grad]
    if not frozen:
        return None
    total = sum(p.numel() for _, p in named)
    n_frozen = sum(p.numel() for _, p in named if not p.requires_grad)
    return result(
        NAME,
        "warn",
        f"{n_frozen / max(total, 1):.0%} of the weights are frozen (requires_grad=False): {group_by_module(model, frozen)}",
        "fine for a fine-tune with a frozen backbone; otherwise set requires_grad=True on "
        + listing(sorted({n.rpartition(".")[0] for n in frozen}), 3),
        frozen=frozen,
        frozen_fraction=n_frozen / max(total, 1),
    )
