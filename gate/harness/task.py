"""Task mode: load ``file.py:function`` by path and normalise what it returns."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


class TaskError(Exception):
    """The entry point is missing or breaks the task contract: a usage error (exit 2)."""


@dataclass
class OverfitTask:
    """The typed form of the task mapping (docs/task-mode.md)."""

    model: torch.nn.Module
    batch: Any
    loss: Callable[[Any, Any], torch.Tensor]
    optimizer: Any = None  # Optimizer, or callable(params) -> Optimizer; default Adam(lr=1e-3)
    forward: Callable[[Any, Any], Any] | None = None
    inputs: Any = None  # index or key (or list of them) of the model inputs inside the batch
    causal_dim: int | None = None
    loss_floor: float | None = None


_FIELDS = [f.name for f in fields(OverfitTask)]
_REQUIRED = ("model", "batch", "loss")


def parse_entrypoint(entrypoint: str) -> tuple[Path, str]:
    path, sep, func = entrypoint.rpartition(":")
    if not sep or not path or not func.isidentifier():
        raise TaskError(
            f"entry point {entrypoint!r} is not of the form path/to/file.py:function",
        )
    return Path(path), func


def load_factory(entrypoint: str, cwd: Path | None = None) -> Callable[[], Any]:
    """Import the file as a module (its folder on sys.path, as ``python file.py`` would have it)."""
    path, func = parse_entrypoint(entrypoint)
    if not path.is_absolute():
        path = (cwd or Path.cwd()) / path
    if not path.is_file():
        raise TaskError(f"entry point file {path} does not exist")
    folder = str(path.parent.resolve())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    mod_name = path.stem if path.stem.isidentifier() else "overfit_gate_task"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module  # so dataclasses/pickle inside the user's module resolve
    spec.loader.exec_module(module)  # user code: exceptions propagate as pipeline errors
    factory = getattr(module, func, None)
    if factory is None:
        public = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_"))
        raise TaskError(f"{path} has no function {func!r} (callables there: {', '.join(public) or 'none'})")
    if not callable(factory):
        raise TaskError(f"{entrypoint} is not callable")
    return factory


def normalize(obj: Any, where: str) -> OverfitTask:
    """Accept an OverfitTask, a mapping, or any object with the same attributes."""
    import torch

    if isinstance(obj, OverfitTask):
        task = obj
    else:
        if isinstance(obj, Mapping):
            raw = dict(obj)
            unknown = sorted(set(raw) - set(_FIELDS))
            if unknown:
                raise TaskError(f"{where} returned unknown task keys {unknown}; known keys: {', '.join(_FIELDS)}")
        else:
            raw = {k: getattr(obj, k) for k in _FIELDS if hasattr(obj, k)}
        missing = [k for k in _REQUIRED if raw.get(k) is None]
        if missing:
            raise TaskError(
                f"{where} returned a task without {', '.join(repr(m) for m in missing)}",
            )
        task = OverfitTask(**raw)
    if not isinstance(task.model, torch.nn.Module):
        raise TaskError(f"{where}: 'model' must be a torch.nn.Module, got {type(task.model).__name__}")
    if not callable(task.loss):
        raise TaskError(f"{where}: 'loss' must be callable as loss(model, batch)")
    if task.forward is not None and not callable(task.forward):
        raise TaskError(f"{where}: 'forward' must be callable as forward(model, batch)")
    return task
