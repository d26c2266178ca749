"""Batch helpers shared by the loop and the checks: device moves, input selection, the
default forward (docs/task-mode.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

LABEL_KEYS = ("label", "labels", "target", "targets", "y")


def to_device(obj: Any, device: torch.device) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, Mapping):
        return type(obj)({k: to_device(v, device) for k, v in obj.items()})  # type: ignore[call-arg]
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # namedtuple
        return type(obj)(*(to_device(v, device) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_device(v, device) for v in obj)
    return obj


def input_keys(batch: Any, inputs: Any = None) -> list[Any]:
    """Indices/keys of the model inputs inside the batch (``[]`` for a bare tensor)."""
    if inputs is not None:
        return list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if isinstance(batch, Mapping):
        return [k for k in batch if str(k).lower() not in LABEL_KEYS]
    if isinstance(batch, (list, tuple)):
        return [0]
    return []


def get_inputs(batch: Any, keys: list[Any]) -> list[torch.Tensor]:
    if not keys:
        return [batch]
    return [batch[k] for k in keys]


def replace_inputs(batch: Any, keys: list[Any], new: list[Any]) -> Any:
    """A shallow copy of the batch with its inputs swapped (for zeroed or perturbed inputs)."""
    if not keys:
        return new[0]
    if isinstance(batch, Mapping):
        out = dict(batch)
        out.update(zip(keys, new, strict=False))
        return type(batch)(out) if not isinstance(batch, dict) else out  # type: ignore[call-arg]
    items = list(batch)
    for k, v in zip(keys, new, strict=False):
        items[k] = v
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*items)
    return type(batch)(items)


def default_forward(batch: Any, inputs: Any = None) -> Callable[[torch.nn.Module, Any], Any]:
    """``model(batch[0])`` for tuple/list, ``model(**inputs)`` for dicts, ``model(batch)`` for a tensor."""
    keys = input_keys(batch, inputs)
    if isinstance(batch, Mapping):
        return lambda model, b: model(**{k: b[k] for k in keys})
    if isinstance(batch, (list, tuple)):
        return lambda model, b: model(*[b[k] for k in keys])
    return lambda model, b: model(b)


def batch_size(batch: Any) -> int | None:
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.dim() else None
    values = batch.values() if isinstance(batch, Mapping) else batch if isinstance(batch, (list, tuple)) else []
    for v in values:
        n = batch_size(v)
        if n is not None:
            return n
    return None
