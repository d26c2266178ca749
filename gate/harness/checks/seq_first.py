"""Sequence-first layouts: ``(seq, batch, ...)`` inputs, as ``nn.LSTM``/``nn.GRU`` and
``nn.Transformer*Layer`` take them by default (``batch_first=False``), have their samples on
dim 1. The per-sample checks see them batch-first: the inputs are moved to dim 0 for the
probe and moved back before the model's own forward; the output is moved (or, when it was
flattened to ``(seq * batch, ...)``, unflattened) so samples are on dim 0 again."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from gate.harness.batch import get_inputs, replace_inputs
from gate.harness.check_api import Context

_LAYERS = (torch.nn.RNNBase, torch.nn.TransformerEncoderLayer, torch.nn.TransformerDecoderLayer)


def is_seq_first(model: torch.nn.Module) -> bool:
    """The model's sequence layers all take (seq, batch, ...) (and there is at least one)."""
    flags = []
    for m in model.modules():
        if isinstance(m, torch.nn.RNNBase):
            flags.append(m.batch_first)
        elif isinstance(m, (torch.nn.TransformerEncoderLayer, torch.nn.TransformerDecoderLayer)):
            flags.append(m.self_attn.batch_first)
    return bool(flags) and not any(flags)


def batch_first(ctx: Context) -> tuple[Context, int] | None:
    """A Context whose inputs have samples on dim 0, and the sample count; None when the
    inputs are not (seq, batch, ...)."""
    main = _main(get_inputs(ctx.batch, ctx.input_keys))
    if main is None or not is_seq_first(ctx.model):
        return None
    seq, n = int(main.shape[0]), int(main.shape[1])

    def swap(x: Any) -> Any:
        return x.movedim(0, 1) if isinstance(x, torch.Tensor) and x.dim() >= 2 else x

    def swap_all(x: Any) -> Any:  # (seq, batch) inputs and (layers, batch, hidden) states alike
        if isinstance(x, (list, tuple)):
            return type(x)(swap_all(v) for v in x)
        return swap(x)

    def swap_batch(b: Any) -> Any:
        # A script-mode call's arguments: its recurrent state (hx, or (h, c): not an input key)
        # has the samples on dim 1 too, and must be sliced with the tokens.
        if isinstance(b, dict):
            return {k: swap_all(v) for k, v in b.items()}
        return replace_inputs(b, ctx.input_keys, [swap_all(x) for x in get_inputs(b, ctx.input_keys)])

    original = ctx.forward

    def forward(model: torch.nn.Module, b: Any) -> Any:
        # The probe forwards a slice of the samples: unflatten by what was given, not by n.
        given = _main(get_inputs(b, ctx.input_keys))
        out = original(model, swap_batch(b))
        return _samples_first(out, seq, int(given.shape[0]) if given is not None else n)

    return dataclasses.replace(ctx, batch=swap_batch(ctx.batch), forward=forward), n


def _main(inputs: list[Any]) -> torch.Tensor | None:
    """The first input with a sequence axis: it says where the samples are."""
    return next((x for x in inputs if isinstance(x, torch.Tensor) and x.dim() >= 2), None)


def _samples_first(out: Any, seq: int, n: int) -> Any:
    if isinstance(out, (list, tuple)) and out:
        return type(out)([_samples_first(out[0], seq, n), *out[1:]]) if not hasattr(out, "_fields") else out
    if not isinstance(out, torch.Tensor) or out.dim() == 0:
        return out
    # (seq, batch, ...); or (tgt_seq, batch, ...), a decoder's output as long as its own input
    if out.dim() >= 2 and out.shape[1] == n and (out.shape[0] == seq or out.shape[0] != n):
        return out.movedim(1, 0)
    if out.shape[0] == seq * n:  # flattened seq-major: row t * n + b
        return out.reshape(seq, n, *out.shape[1:]).movedim(1, 0)
    return out
