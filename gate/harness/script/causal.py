"""Recognising an autoregressive model in script mode, so the causality check runs without
configuration: the model is fed integer tokens with a sequence axis ``(batch, time)``, and
the targets it is scored against are those same tokens at some lag. ``target[t] ==
tokens[t + 1]`` is a language model trained right; lag 0 (HF causal LMs take ``labels =
input_ids`` and shift inside) and other lags are checked by the causality check itself.

The targets come from the loss spy first (what ``cross_entropy`` really compared the logits
with: HF's internal shift included), else from a label argument of the model call. A masked
LM (labels only at masked positions, where the input is ``[MASK]``), a classifier and token
tagging never match, so bidirectional models are not held to causality. Every token input is
tried in turn: an encoder-decoder (``nn.Transformer``, BART with ``decoder_input_ids``) matches
on its decoder input, and only that input is probed.

Sequence-first models (``nn.LSTM``/``nn.Transformer*`` with ``batch_first=False``, as
pytorch/examples' word language model) are fed ``(time, batch)`` ids and scored against the
next row flattened to ``(time * batch,)``: they are compared time-first and reported batch-first,
the layout the causality check probes them in."""

from __future__ import annotations

import dataclasses
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
    # The token input whose targets are its own tokens, when it is not the first one (an
    # encoder-decoder's decoder input: the source before it is seen whole, by design). The
    # causality probe then looks only at that input's embedding.
    key: Any = None


def token_inputs(batch: dict[Any, Any], keys: Iterable[Any], time_dim: int = 1) -> list[tuple[Any, torch.Tensor]]:
    """The integer inputs with a sequence axis, in argument order."""
    return [
        (k, v)
        for k in keys
        if isinstance(v := batch.get(k), torch.Tensor) and v.dim() == 2 and v.shape[time_dim] >= 4 and _is_ids(v)
    ]


def _is_ids(t: torch.Tensor) -> bool:
    return not t.is_floating_point() and not t.is_complex() and t.dtype != torch.bool


def detect(
    batch: dict[Any, Any],
    keys: Iterable[Any],
    name: Callable[[Any], str],
    spied: Iterable[torch.Tensor],
    seq_first: bool = False,
) -> Detected | None:
    spied = list(spied)
    for i, (key, tokens) in enumerate(token_inputs(batch, keys, time_dim=0 if seq_first else 1)):
        sources = _sources(batch, name, spied, tokens)
        if seq_first:  # (time, batch): a flattened target is time-major too
            tokens, sources = tokens.t(), [(s, t.reshape(tokens.shape).t()) for s, t in sources]
        found = _match(name(key), tokens, sources)
        if found is not None:
            return found if i == 0 else dataclasses.replace(found, key=key)
    return None


def _sources(
    batch: dict[Any, Any], name: Callable[[Any], str], spied: Iterable[torch.Tensor], tokens: torch.Tensor
) -> list[tuple[str, torch.Tensor]]:
    sources: list[tuple[str, torch.Tensor]] = [("the loss's targets", t) for t in spied]
    sources += [
        (f"`{name(k)}`", v)
        for k, v in batch.items()
        if name(k).lower() in LABEL_KEYS and isinstance(v, torch.Tensor) and _is_ids(v)
    ]
    return [(s, t) for s, t in sources if t.numel() == tokens.numel() and t.device == tokens.device]


def _match(label: str, tokens: torch.Tensor, sources: list[tuple[str, torch.Tensor]]) -> Detected | None:
    """``tokens`` batch-first ``(batch, time)``; each target already shaped like it."""
    for source, target in sources:
        lag = best_lag(target.reshape(tokens.shape), tokens)
        if lag is not None:
            how = "the next token" if lag == -1 else f"the token at offset {-lag:+d}"
            return Detected(lag, f"{source} are {how} of the token input `{label}` {tuple(tokens.shape)}")
    return None
