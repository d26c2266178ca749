"""Small helpers the checks share: leaving the model as it was found, naming culprits,
finding the tensor that matters in a model's output."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import torch


@contextmanager
def preserved(model: torch.nn.Module, device: torch.device) -> Iterator[None]:
    """Run probes without side effects: train/eval flags, buffers (BatchNorm running
    stats) and the RNG streams are as they were afterwards, even when the probe raises.

    Buffers are *swapped* for copies the probe owns, never written back in place: the
    script's autograd graph may have saved the originals (BatchNorm's running stats, a
    slice of BERT's ``position_ids``), and an in-place restore would bump their version
    counters and break the script's own ``backward()``."""
    modes = [(m, m.training) for m in model.modules()]
    owned: dict[int, torch.Tensor] = {}  # one copy per tensor: tied buffers stay tied
    swapped: list[tuple[torch.nn.Module, str, torch.Tensor]] = []
    for m in model.modules():
        for name, b in list(m._buffers.items()):
            if b is not None:
                copy = owned.setdefault(id(b), b.detach().clone())
                swapped.append((m, name, b))
                m._buffers[name] = copy
    devices = [device] if device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=devices):
            yield
    finally:
        for m, was in modes:
            m.training = was
        for m, name, b in swapped:
            m._buffers[name] = b


def first_tensor(out: Any) -> torch.Tensor | None:
    """The tensor a check should look at in a model's output: the tensor itself, ``logits``
    of a dict/ModelOutput, else the first floating-point tensor found."""
    if isinstance(out, torch.Tensor):
        return out if out.is_floating_point() else None
    if isinstance(out, Mapping):
        if isinstance(out.get("logits"), torch.Tensor):
            return first_tensor(out["logits"])
        out = list(out.values())
    if isinstance(out, (list, tuple)):
        for item in out:
            found = first_tensor(item)
            if found is not None:
                return found
    return None


def trainable(model: torch.nn.Module) -> list[tuple[str, torch.nn.Parameter]]:
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad]


def allowed(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def module_label(model: torch.nn.Module, param: str) -> str:
    """``encoder.0 (Linear)`` for ``encoder.0.weight``: what to look at in the code."""
    owner, _, _ = param.rpartition(".")
    try:
        mod = model.get_submodule(owner) if owner else model
    except AttributeError:
        return f"`{owner}`"
    return f"`{owner or type(mod).__name__}` ({type(mod).__name__})"


def group_by_module(model: torch.nn.Module, names: Sequence[str], limit: int = 4) -> str:
    """``encoder.0 (Linear): weight, bias; head (Linear): weight`` with a count beyond ``limit``."""
    groups: dict[str, list[str]] = {}
    for n in names:
        owner, _, leaf = n.rpartition(".")
        groups.setdefault(owner, []).append(leaf)
    parts = [
        f"{module_label(model, owner + '.x' if owner else 'x')}: {', '.join(leaves)}"
        for owner, leaves in groups.items()
    ]
    more = len(parts) - limit
    return "; ".join(parts[:limit]) + (f"; and {more} more module(s)" if more > 0 else "")


def listing(items: Sequence[Any], limit: int = 5) -> str:
    shown = ", ".join(f"`{i}`" for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
