"""The check Context in script mode, built from what the instrumentation saw: the top-level
module, its first inputs (as the "batch"), the optimizer that steps it. Also the sentence
the report shows about how the batch was pinned."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import torch

from gate.harness.batch import LABEL_KEYS
from gate.harness.check_api import Context
from gate.harness.checks.seq_first import is_seq_first
from gate.harness.script.causal import detect
from gate.harness.script.pinning import describe, find_loss

if TYPE_CHECKING:
    from gate.harness.script.session import Session


class LossUnavailable(Exception):
    """The top-level module returned no loss when the checks called it."""


def _param_names(module: torch.nn.Module) -> list[str]:
    try:
        params = inspect.signature(module.forward).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def build_context(session: Session, optimizer: torch.optim.Optimizer) -> Context | None:
    top, call = session.modules.top, session.modules.call
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

    spy = session.spy
    causal_dim, detected = session.spec.causal_dim, None
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
        spec=session.spec,
        model=top,
        batch=batch,
        loss_fn=loss_fn if session.modules.returns_loss else None,
        optimizer=optimizer,
        forward=forward,
        input_keys=keys,
        device=session.device,
        monitor=session.monitor,
        mode="script",
        causal_dim=causal_dim,
        make_fresh=None,
        shared={"loss_spy": spy, "causal": detected},
    )


def pinning_sentence(session: Session) -> str:
    sentence = _pinning(session)
    if session.manual:
        sentence += (
            "; steps counted at each backward: no torch.optim optimizer steps the model "
            "(hand-written updates such as p.data -= lr * p.grad)"
        )
    if session.launch:
        sentence += f"; {session.launch}"
    for note in session.workers.notes:
        sentence += f"; {note}"
    return sentence


def _targets(session: Session) -> str:
    used, mismatches = session.targets.used, session.modules.mismatches
    if used:
        said = f"; the targets given to {', '.join(f'F.{n}' for n in used)} were pinned with them"
    elif session.modules.returns_loss:
        said = "; the model computes its loss itself, from these inputs"
    else:
        said = "; targets the script computes outside that call and outside torch's loss functions were not pinned"
    if mismatches:
        said += f"; {mismatches} training calls with other input shapes (a short last batch) kept their own data"
    return said


def _pinning(session: Session) -> str:
    pin, top = session.pin, session.modules.top
    top_name = type(top).__name__ if top is not None else "?"
    if pin == "off":
        return "not pinned (pin = off): the script trained on its own batches"
    if session.loaders.used and pin in ("auto", "dataloader"):
        return (
            f"DataLoader: every DataLoader yielded its first batch again ({session.loaders.describe()}); "
            "the loader trained on never ran out"
        )
    if session.modules.replay and session.modules.call is not None and top is not None:
        args, kwargs = session.modules.call
        names = _param_names(top)
        named = {(names[i] if i < len(names) else str(i)): a for i, a in enumerate(args)} | kwargs
        return (
            ("module replay: no DataLoader was used, so the" if pin == "auto" else "module replay (pin = module): the")
            + f" first inputs of the top-level module {top_name} ({describe(named)}) were replayed at every "
            "training call" + _targets(session)
        )
    if pin == "dataloader":
        return "not pinned: pin = dataloader, but the script iterated no torch DataLoader before its first backward"
    if top is None:
        return "not pinned: no DataLoader was used and no top-level module with trainable parameters was called"
    return (
        f"not pinned: no DataLoader was used and the inputs of the top-level module {top_name} come from other "
        "trainable modules, so they cannot be replayed"
    )
