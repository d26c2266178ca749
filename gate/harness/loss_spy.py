"""The loss-function spy: watches the ``torch.nn.functional`` loss calls of the first training
step (``nn.CrossEntropyLoss`` & co. call them too) and keeps what the gate can learn from
them without an extra forward pass:

- the first classification loss and its class count (``loss_at_init``);
- the lowest value each call can reach (label smoothing, soft BCE targets), so the verdict
  aims at the achievable loss, not at 0;
- targets that are all ``ignore_index`` (a NaN mean over zero elements);
- the integer targets themselves (script mode reads a language model's shift off them).

Only calls made with grad enabled on an input that requires grad are recorded: an eval pass
under ``no_grad`` (nanoGPT's ``estimate_loss`` at step 0) or a metric on detached logits is
not the training loss. Recording ends after the first training step; the wrappers then pass
straight through (a script may have imported them by name)."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional as F

CLASSIFICATION = ("cross_entropy", "nll_loss", "binary_cross_entropy_with_logits", "binary_cross_entropy")
ZERO_FLOOR = ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div")


@dataclass
class LossCall:
    name: str
    value: float  # the call's output, reduced as the call asked (mean of a "none" result)
    classes: int | None
    floor: float | None  # the lowest value this call can reach, None when unknown
    why: str = ""  # where a non-zero floor comes from
    all_ignored: int | None = None  # the ignore_index every target equals
    target: torch.Tensor | None = None  # integer class targets (detached)
    reduction: str = "mean"
    per_target: float | None = None  # a summed class loss divided by its non-ignored targets
    # nll_loss on rows that are not log-probabilities (raw logits, or probabilities): the mean
    # |logsumexp| of its input rows, which is 0 for log_softmax output. None when they are.
    raw_scores: float | None = None


def _entropy(p: torch.Tensor) -> torch.Tensor:
    return -(p * p.clamp_min(1e-12).log())


def _reduce(per_item: torch.Tensor, reduction: str) -> float:
    return float(per_item.sum()) if reduction == "sum" else float(per_item.mean()) if per_item.numel() else 0.0


def _ce_floor(logits: torch.Tensor, target: torch.Tensor, kw: dict[str, Any]) -> tuple[float | None, str]:
    """min over predictions of cross_entropy = the entropy of the target distribution."""
    eps, reduction = float(kw.get("label_smoothing", 0.0) or 0.0), kw.get("reduction", "mean")
    if kw.get("weight") is not None:
        return (0.0, "") if eps == 0 and not target.is_floating_point() else (None, "")
    classes = int(logits.shape[1] if logits.dim() >= 2 else logits.shape[0])
    if target.is_floating_point():  # class probabilities
        if eps:
            return None, ""
        dim = 1 if target.dim() >= 2 else 0
        h = _entropy(target.detach().float()).sum(dim=dim)
        value = _reduce(h, reduction)
        return value, f"soft cross_entropy targets (their entropy is {value:.4g})" if value > 0 else ""
    if eps == 0:
        return 0.0, ""
    on = 1 - eps + eps / classes
    per = -(on * math.log(on)) - (classes - 1) * (eps / classes) * math.log(eps / classes)
    kept = int((target != kw.get("ignore_index", -100)).sum())
    value = per * kept if reduction == "sum" else per
    return value, f"label_smoothing={eps:g} over {classes} classes"


def _bce_floor(target: torch.Tensor, kw: dict[str, Any]) -> tuple[float | None, str]:
    """min over predictions of BCE = the binary entropy of the targets (0 for hard 0/1)."""
    t = target.detach().float()
    soft = bool(((t > 0) & (t < 1)).any())
    if not soft:
        return 0.0, ""
    if kw.get("pos_weight") is not None:
        return None, ""
    h = _entropy(t) + _entropy(1 - t)
    if kw.get("weight") is not None:
        h = h * kw["weight"].detach().float()
    value = _reduce(h, kw.get("reduction", "mean"))
    return value, f"soft binary targets (BCE(t, t) = {value:.4g})"


def _floor(name: str, input: torch.Tensor, target: Any, kw: dict[str, Any]) -> tuple[float | None, str]:
    if name in ZERO_FLOOR or name == "nll_loss":
        return 0.0, ""
    if not isinstance(target, torch.Tensor):
        return None, ""
    if name == "cross_entropy":
        return _ce_floor(input, target, kw)
    return _bce_floor(target, kw)


RAW_SCORES = 0.05  # mean |logsumexp| of nll_loss's input rows above which they are not log-probabilities


def _raw_scores(name: str, input: torch.Tensor) -> float | None:
    if name != "nll_loss" or input.dim() < 2 or not input.is_floating_point():
        return None
    lse = float(input.detach().float().logsumexp(dim=1).abs().mean())
    return lse if math.isfinite(lse) and lse > RAW_SCORES else None


def raw_scores_cause(spy: LossSpy | None) -> str:
    """nll_loss expects log-probabilities: on raw logits it is unbounded below, on probabilities
    it is -p (negative from the start); both read as a loss pushed below its floor."""
    call = next((c for c in spy.calls if c.raw_scores is not None), None) if spy is not None else None
    if call is None:
        return ""
    return (
        f"nll_loss's input is not log-probabilities (its rows' log-sum-exp is {call.raw_scores:.3g} on average, "
        "not 0): apply log_softmax before nll_loss, or give the logits to cross_entropy"
    )


def _classes(name: str, logits: torch.Tensor) -> int | None:
    if name not in CLASSIFICATION:
        return None
    if name.startswith("binary"):
        return 2
    return int(logits.shape[1] if logits.dim() >= 2 else logits.shape[0]) if logits.dim() else None


_is_compiling: Callable[[], bool] = getattr(getattr(torch, "compiler", None), "is_compiling", lambda: False)


class LossSpy:
    NAMES = CLASSIFICATION + ZERO_FLOOR

    def __init__(self) -> None:
        self.calls: list[LossCall] = []
        self.recording = True
        self._originals: dict[str, Callable[..., torch.Tensor]] = {}
        self._wrappers: dict[str, Callable[..., torch.Tensor]] = {}

    def install(self) -> LossSpy:
        self._originals = {n: getattr(F, n) for n in self.NAMES}
        self._wrappers = {n: self._wrap(n, fn) for n, fn in self._originals.items()}
        for n, fn in self._wrappers.items():
            setattr(F, n, fn)
        return self

    def remove(self) -> None:
        """Unwrap, except where a later patch (script mode's target pinning) wraps the spy: the
        spy stays in that chain, passing straight through, and the Patcher unwinds the rest."""
        for n, fn in self._originals.items():
            if getattr(F, n) is self._wrappers.get(n):
                setattr(F, n, fn)
        self._originals = {}

    def close(self) -> None:
        """The first training step is over: stop recording and take the wrappers off."""
        self.recording = False
        self.remove()

    def _wrap(self, name: str, fn: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
        def spied(input: torch.Tensor, target: Any = None, *args: Any, **kwargs: Any) -> torch.Tensor:
            out = fn(input, target, *args, **kwargs)
            # Recording reads values back to the host. Under torch.compile's tracing it would be a
            # graph break baked into the user's compiled code for the whole run (issue 11: the gate
            # adds no graph breaks), so a loss computed inside a compiled region is not recorded.
            if _is_compiling():
                return out
            if self.recording and torch.is_grad_enabled() and getattr(input, "requires_grad", False) and not args:
                with contextlib.suppress(Exception):  # never let the spy break the user's loss
                    self._record(name, input, target, kwargs, out)
            return out

        return spied

    def _record(self, name: str, input: torch.Tensor, target: Any, kw: dict[str, Any], out: Any) -> None:
        if not isinstance(out, torch.Tensor) or out.numel() == 0:
            return
        per_target: float | None = None
        floor, why = _floor(name, input, target, kw)
        ignored = None
        reduction = str(kw.get("reduction", "mean"))
        value = float(out.detach().float().mean())
        int_target = isinstance(target, torch.Tensor) and not target.is_floating_point()
        if name in ("cross_entropy", "nll_loss") and int_target:
            index = int(kw.get("ignore_index", -100))
            kept = int((target != index).sum())
            if target.numel() and kept == 0:
                ignored = index
            if reduction == "sum" and kept:  # HF's Trainer sums and divides by the token count itself
                per_target = value / kept
        self.calls.append(
            LossCall(
                name,
                value,
                _classes(name, input),
                floor,
                why,
                ignored,
                target.detach() if int_target else None,
                reduction,
                per_target,
                _raw_scores(name, input),
            )
        )

    # ---- what the gate reads
    def first_classification(self) -> LossCall | None:
        """The first cross-entropy-like call with a per-target value (a plain sum has no log(C) reference)."""
        usable = [c for c in self.calls if c.reduction != "sum" or c.per_target is not None]
        return next((c for c in usable if c.classes is not None and c.classes >= 2), None)

    def all_ignored(self) -> LossCall | None:
        return next((c for c in self.calls if c.all_ignored is not None), None)

    def floor_for(self, loss: float, backwards: int = 1) -> tuple[float, str] | None:
        """The floor of the watched loss, when the spied calls account for all of it: their sum
        (or their mean over a step's micro-batches, as gradient accumulation divides) equals the
        loss. None when some term is unknown or the calls do not add up to the loss."""
        if not self.calls or any(c.floor is None for c in self.calls):
            return None
        total = sum(c.value for c in self.calls)
        floor = sum(c.floor or 0.0 for c in self.calls)
        for scale in sorted({1.0, 1.0 / max(1, backwards)}):
            if math.isfinite(loss) and abs(total * scale - loss) <= 1e-4 * max(1.0, abs(loss)):
                return floor * scale, "; ".join(dict.fromkeys(c.why for c in self.calls if c.why))
        return None

    def unexplained_floor(self) -> tuple[float, str] | None:
        """A non-zero floor of some term that could not be applied to the whole loss."""
        known = [c for c in self.calls if c.floor]
        if not known:
            return None
        return sum(c.floor or 0.0 for c in known), "; ".join(dict.fromkeys(c.why for c in known if c.why))

    def settle(self, monitor: Any, fixed_floor: float | None, loss: float, backwards: int = 1) -> str:
        """End of the first training step: stop recording and, unless the user set
        ``loss-floor``, give the verdict monitor the floor the spied calls imply (before it
        sees its first loss). Returns the report note, or ''."""
        self.close()
        if fixed_floor is not None or monitor.first is not None:
            return ""
        found = self.floor_for(loss, backwards)
        if found is None:
            # Some term is unknown (a VAE's KL beside its reconstruction BCE): the known floor is
            # only a bound on part of the loss, which the verdict weighs when the target is missed.
            monitor.partial_floor = self.unexplained_floor()
        if found is None or found[0] <= 0:
            return ""
        monitor.floor = found[0]
        return f"loss floor {found[0]:.4g} (not 0): {found[1]}; set loss-floor to override"
