"""Recognising an autoregressive model in script mode, so the causality check runs without
configuration: the model is fed integer tokens with a sequence axis ``(batch, time)``, and
the targets it is scored against are those same tokens at some lag. ``target[t] ==
tokens[t + 1]`` is a language model trained right; lag 0 (HF causal LMs take ``labels =
input_ids`` and shift inside) and other lags are checked by the causality check itself.

The targets come from the loss spy first (what ``cross_entropy`` really compared the logits
with: HF's internal shift included), else from a label argument of the model call. A masked
LM (labels only at masked positions, where the input is ``[MASK]``), a classifier, token
tagging and seq2seq never match, so bidirectional models are not held to causality."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch

from gate.harness.batch import LABEL_KEYS
from gate.harness.checks.shift import best_lag


@dataclass(frozen=True)
class Detected:
    lag: int  # effective lag (gate.harness.checks.shift): -1 right, 0 unshifted, <= -2 shifted twice
    why: str


def token_input(
    batch: dict[Any, Any], keys: Iterable[Any], name: Callable[[Any], str]
) -> tuple[str, torch.Tensor] | None:
    for k in keys:
        v = batch.get(k)
        if isinstance(v, torch.Tensor) and v.dim() == 2 and v.shape[1] >= 4 and _is_ids(v):
            return name(k), v
    return None


def _is_ids(t: torch.Tensor) -> bool:
    return not t.is_floating_point() and not t.is_complex() and t.dtype != torch.bool


def detect(
    batch: dict[Any, Any],
    keys: Iterable[Any],
    name: Callable[[Any], str],
    spied: Iterable[torch.Tensor],
) -> Detected | None:
    found = token_input(batch, keys, name)
    if found is None:
        return None
    label, tokens = found
    sources: list[tuple[str, torch.Tensor]] = [("the loss's targets", t) for t in spied]
    sources += [
        (f"`{name(k)}`", v)
        for k, v in batch.items()
        if name(k).lower() in LABEL_KEYS and isinstance(v, torch.Tensor) and _is_ids(v)
    ]
    for source, target in sources:
        if target.numel() != tokens.numel() or target.device != tokens.device:
            continue
        lag = best_lag(target.reshape(tokens.shape), tokens)
        if lag is not None:
            how = "the next token" if lag == -1 else f"the token at offset {-lag:+d}"
            return Detected(lag, f"{source} are {how} of the token input `{label}` {tuple(tokens.shape)}")
    return None
