"""Batch helpers shared by the loop and the checks: device moves, input selection, the
default forward (docs/task-mode.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import torch

LABEL_KEYS = ("label", "labels", "target", "targets", "y")


def map_tensors(obj: Any, fn: Callable[[torch.Tensor], Any]) -> Any:
    """The same nested batch (mappings, namedtuples, lists, tuples) with ``fn`` applied to every
    tensor; other leaves are kept as they are. The one walker every batch transform uses."""
    if isinstance(obj, torch.Tensor):
        return fn(obj)
    if isinstance(obj, Mapping):
        items = {k: map_tensors(v, fn) for k, v in obj.items()}
        try:
            return type(obj)(items)  # type: ignore[call-arg]  # dict, OrderedDict, HF BatchEncoding
        except Exception:  # a mapping type we cannot rebuild
            return items
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # namedtuple
        return type(obj)(*(map_tensors(v, fn) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(map_tensors(v, fn) for v in obj)
    return obj


def tensors(obj: Any) -> Iterator[torch.Tensor]:
    """Every tensor in a nested batch, in order."""
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, Mapping):
        for v in obj.values():
            yield from tensors(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from tensors(v)


def to_device(obj: Any, device: torch.device) -> Any:
    return map_tensors(obj, lambda t: t.to(device))


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
    """Dim 0 of the first tensor that has one."""
    return next((int(t.shape[0]) for t in tensors(batch) if t.dim()), None)
