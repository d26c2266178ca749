"""The check Context in script mode, built from what the instrumentation saw: the top-level
module, its first inputs (as the "batch"), the optimizer that steps it."""

from __future__ import annotations

import inspect
from typing import Any

import torch

from gate.harness.batch import LABEL_KEYS
from gate.harness.check_api import Context
from gate.harness.checks.seq_first import is_seq_first
from gate.harness.loss_spy import LossSpy
from gate.harness.script.causal import detect
from gate.harness.script.pinning import ModuleTracker, find_loss
from gate.harness.spec import Spec
from gate.harness.verdict import Monitor


class LossUnavailable(Exception):
    """The top-level module returned no loss when the checks called it."""


def _param_names(module: torch.nn.Module) -> list[str]:
    try:
        params = inspect.signature(module.forward).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def build_context(
    spec: Spec,
    monitor: Monitor,
    modules: ModuleTracker,
    spy: LossSpy,
    device: torch.device,
    optimizer: torch.optim.Optimizer,
) -> Context | None:
    top, call = modules.top, modules.call
    if top is None or call is None:
        return None
    args, kwargs = call
    n_pos = len(args)
    batch: dict[Any, Any] = {i: a for i, a in enumerate(args)} | dict(kwargs)
    names = _param_names(top)

    def name(key: Any) -> str:
        return names[key] if isinstance(key, int) and key < len(names) else str(key)

    # Per-sample tensors only: scalars such as HF's ``num_items_in_batch`` are not inputs.
    keys = [
        k
        for k, v in batch.items()
        if isinstance(v, torch.Tensor) and v.dim() >= 1 and name(k).lower() not in LABEL_KEYS
    ]

    causal_dim, detected = spec.causal_dim, None
    if causal_dim is None:  # the key overrides detection
        spied = [c.target for c in spy.calls if c.target is not None]
        detected = detect(batch, keys, name, spied, seq_first=is_seq_first(top))
        causal_dim = 1 if detected is not None else None

    def forward(model: torch.nn.Module, b: Any) -> Any:
        return model(*[b[i] for i in range(n_pos)], **{k: b[k] for k in b if not isinstance(k, int)})

    def loss_fn(model: torch.nn.Module, b: Any) -> torch.Tensor:
        loss = find_loss(forward(model, b))
        if loss is None:
            raise LossUnavailable(f"{type(model).__name__} did not return a loss for the pinned inputs")
        return loss

    return Context(
        # Checks that re-evaluate the loss need the model to return it (HF ``.loss``, nanoGPT's
        # ``(logits, loss)``); when the script computes it outside the call there is none.
        spec=spec,
        model=top,
        batch=batch,
        loss_fn=loss_fn if modules.returns_loss else None,
        optimizer=optimizer,
        forward=forward,
        input_keys=keys,
        device=device,
        monitor=monitor,
        mode="script",
        causal_dim=causal_dim,
        make_fresh=None,
        shared={"loss_spy": spy, "causal": detected},
    )
