"""Pinning one batch in a script we do not control.

Two ways, chosen by ``pin`` (auto|dataloader|module|off):

- DataLoader: every ``DataLoader`` iterator yields the loader's first batch again. A loader
  that is being trained on (a backward ran while it was iterated) never ends, so epoch loops
  keep going until the gate stops the script; any other loader (an eval pass) keeps its
  length so ``for batch in val_loader`` still terminates.
- Module: for scripts that build batches themselves, the first inputs of the top-level
  module's call (the outermost module called with grad enabled, holding trainable
  parameters) are replayed at every later training call whose inputs have the same shapes
  (a shorter last batch keeps its own inputs: replaying would pair them with its targets).
  The targets go with them: the first tensors given as targets to the ``torch.nn.functional``
  losses (which ``nn.*Loss`` modules call too) are replayed beside the inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import torch

from gate.harness.batch import map_tensors, tensors


def clone(obj: Any) -> Any:
    """A detached deep copy of the tensors in a batch, so the script cannot mutate the pin."""
    return map_tensors(obj, lambda t: t.detach().clone())


def describe(obj: Any) -> str:
    """``input_ids (8, 16) int64, labels (8, 16) int64``: how the pinned batch looks."""
    if isinstance(obj, torch.Tensor):
        return f"{tuple(obj.shape)} {str(obj.dtype).removeprefix('torch.')}"
    if isinstance(obj, Mapping):
        return ", ".join(f"{k} {describe(v)}" for k, v in obj.items() if describe(v))
    if isinstance(obj, (list, tuple)):
        return ", ".join(d for d in (describe(v) for v in obj) if d)
    return ""


def find_loss(out: Any) -> torch.Tensor | None:
    """A scalar that requires grad in a module's output: HF ``ModelOutput.loss``, nanoGPT's
    ``(logits, loss)``, or the output itself."""
    if isinstance(out, torch.Tensor):
        return out if out.numel() == 1 and out.requires_grad else None
    loss = getattr(out, "loss", None)
    if isinstance(loss, torch.Tensor) and loss.numel() == 1:
        return loss
    values = out.values() if isinstance(out, Mapping) else out if isinstance(out, (list, tuple)) else []
    for v in values:
        if isinstance(v, torch.Tensor) and v.numel() == 1 and v.requires_grad:
            return v
    return None


def requires_grad(obj: Any) -> bool:
    return any(t.requires_grad for t in tensors(obj))


def qualname(module: torch.nn.Module) -> str:
    return f"{type(module).__module__}.{type(module).__qualname__}"


def shapes(obj: Any) -> list[tuple[Any, ...]]:
    """The (shape, dtype) of every tensor in ``obj``, in order: what must match to replay."""
    return [(tuple(t.shape), t.dtype) for t in tensors(obj)]


def unwrap(module: torch.nn.Module) -> torch.nn.Module:
    """The model inside DistributedDataParallel / DataParallel and torch.compile's
    OptimizedModule (``_orig_mod``): the wrapper is not the model. The checks run the module
    inside (no collectives, no recompiles), and its ``forward`` signature names the
    arguments (``OptimizedModule.forward(*args, **kwargs)`` names none: nanoGPT's
    ``targets`` would not be recognised as a label)."""
    from torch.nn.parallel import DataParallel, DistributedDataParallel

    for _ in range(8):  # compile(DDP(compile(m))) and friends; never loop forever
        if isinstance(module, (DataParallel, DistributedDataParallel)):
            module = module.module
        else:
            inner = getattr(module, "_orig_mod", None)
            if not isinstance(inner, torch.nn.Module):
                break
            module = inner
    return module


def _zeros(x: Any) -> Any:
    return torch.zeros_like(x) if isinstance(x, torch.Tensor) else x


class LoaderPins:
    """The first batch of every DataLoader the script iterates (keyed by the loader object)."""

    def __init__(self) -> None:
        self._first: dict[int, tuple[Any, Any]] = {}  # id(loader) -> (loader, pinned batch)
        self.backwards_at_first: int | None = None  # backward count when a loader first yielded

    def get(self, loader: Any) -> Any:
        entry = self._first.get(id(loader))
        return None if entry is None else entry[1]

    def set(self, loader: Any, batch: Any, backwards: int) -> None:
        self._first[id(loader)] = (loader, clone(batch))  # the loader is kept so its id stays unique
        if self.backwards_at_first is None:
            self.backwards_at_first = backwards

    @property
    def used(self) -> bool:
        return bool(self._first)

    def describe(self) -> str:
        batches = [b for _, b in self._first.values()]
        return describe(batches[0]) if batches else ""


class PinnedIterator:
    def __init__(self, loader: Any, real: Iterator[Any], pins: LoaderPins, backwards: Callable[[], int]) -> None:
        self._loader = loader
        self._real = real
        self._pins = pins
        self._backwards = backwards
        self._start = backwards()

    def __iter__(self) -> PinnedIterator:
        return self

    def __next__(self) -> Any:
        pinned = self._pins.get(self._loader)
        if pinned is None:
            batch = next(self._real)
            self._pins.set(self._loader, batch, self._backwards())
            return batch
        if self._backwards() > self._start:
            return clone(pinned)  # being trained on: never ends
        next(self._real)  # not (yet) trained on: keep the loader's own length
        return clone(pinned)

    def __len__(self) -> int:
        return len(self._real)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> Any:
        # Frameworks poke at the real iterator (_shutdown_workers, _num_yielded, ...).
        return getattr(self._real, name)


class ModuleTracker:
    """Finds the top-level module and, when asked to, replays its first training inputs."""

    def __init__(self, zero: tuple[str, set[Any]] | None = None) -> None:
        # id -> (module, cloned args, cloned kwargs, inputs required grad)
        self._candidates: dict[int, tuple[torch.nn.Module, tuple[Any, ...], dict[str, Any], bool]] = {}
        self.locked = False
        self.top: torch.nn.Module | None = None
        self.call: tuple[tuple[Any, ...], dict[str, Any]] | None = None  # its first inputs (cloned)
        self.replay = False
        self.mismatches = 0  # training calls not replayed: their inputs had other shapes
        self.top_calls = 0  # training calls of the top module since the last step
        self.frozen_optimizer = False  # the optimizers hold none of the trainable parameters
        self.replayed_now = False  # the latest training call of the top module was replayed
        self._computed_inputs = False  # the top module's inputs came from other trainable modules
        self._returns_loss: dict[int, bool] = {}
        self.returns_loss = False  # the top module's output holds the loss (checks can re-evaluate it)
        # input_dependence's second run: zero these inputs (positional index or keyword) of the module
        # class with this qualified name (the script runs again, so its classes are new objects)
        self.zero = zero

    def outer_call(
        self, module: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        if not torch.is_grad_enabled():
            return args, kwargs  # eval passes keep their own inputs
        module = unwrap(module)
        if module is self.top:
            self.top_calls += 1
        if self.replay and module is self.top and self.call is not None:
            self.replayed_now = shapes((args, kwargs)) == shapes(self.call)
            if self.replayed_now:
                return clone(self.call[0]), clone(self.call[1])
            self.mismatches += 1
            return args, kwargs
        if self.zero is not None and qualname(module) == self.zero[0]:
            keys = self.zero[1]
            args = tuple(_zeros(a) if i in keys else a for i, a in enumerate(args))
            kwargs = {k: _zeros(v) if k in keys else v for k, v in kwargs.items()}
        if not self.locked and id(module) not in self._candidates and any(p.requires_grad for p in module.parameters()):
            needs_grad = requires_grad(args) or requires_grad(kwargs)
            self._candidates[id(module)] = (module, clone(args), clone(kwargs), needs_grad)
        return args, kwargs

    def outer_result(self, module: torch.nn.Module, out: Any) -> None:
        module = unwrap(module)
        if not self.locked and id(module) in self._candidates and id(module) not in self._returns_loss:
            self._returns_loss[id(module)] = find_loss(out) is not None

    def choose(self, held: set[int] | None) -> torch.nn.Module | None:
        """At the first backward: the candidate with most parameters the optimizer holds
        (all trainable ones when no optimizer is known yet)."""
        self.locked = True

        def weight(m: torch.nn.Module) -> int:
            return sum(p.numel() for p in m.parameters() if p.requires_grad and (held is None or id(p) in held))

        ranked = sorted(self._candidates.values(), key=lambda c: -weight(c[0]))
        if ranked and weight(ranked[0][0]) == 0 and held is not None:
            # The optimizers hold only frozen parameters (fine-tuning with the wrong list):
            # the model is still the module with the most trainable parameters.
            held = None
            ranked.sort(key=lambda c: -weight(c[0]))
            self.frozen_optimizer = weight(ranked[0][0]) > 0
        if ranked and weight(ranked[0][0]) > 0:
            self.top, args, kwargs, self._computed_inputs = ranked[0]
            self.call = (args, kwargs)
            self.returns_loss = self._returns_loss.get(id(self.top), False)
        self._candidates.clear()
        self._returns_loss.clear()
        return self.top

    def seen(self) -> list[torch.nn.Module]:
        """The candidate top-level modules called so far (before the first backward chose one)."""
        return [c[0] for c in self._candidates.values()] + ([self.top] if self.top is not None else [])

    def take_calls(self) -> int:
        calls, self.top_calls = self.top_calls, 0
        return calls

    @property
    def replayable(self) -> bool:
        return self.call is not None and not self._computed_inputs
