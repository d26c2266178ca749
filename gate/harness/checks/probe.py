"""Gradient probes for the dependency checks (batch independence, causality).

One forward pass in eval mode with differentiable stand-ins for the inputs: float inputs
are cloned with ``requires_grad``; integer inputs (token ids) cannot carry a gradient, so
the outputs of the ``nn.Embedding`` layers that consume them are swapped for leaf tensors.
Every submodule's output is recorded too, so a dependency that should not exist can be
traced to the place it enters: the last module whose output still carries it, and the
first one after it whose output no longer does.

Memory is bounded by probing a slice: the first ``SAMPLES`` samples of the batch (every
per-sample tensor sliced alike), so the gate's own peak is about one forward and backward
on that many samples. A model that cannot run on fewer samples (a batch size baked into a
``view``) is probed on the whole batch instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from gate.harness.batch import get_inputs, replace_inputs
from gate.harness.check_api import Context
from gate.harness.checks._util import first_tensor
from gate.harness.checks.seq_first import is_seq_first

TOL = 1e-3  # relative: cross-sample / future gradient mass over the legitimate mass
SAMPLES = 4  # samples probed: two are enough to see mixing; more only costs memory


@dataclass
class Leaf:
    label: str
    tensor: torch.Tensor  # requires grad; samples on ``sample_dim``
    tokens: torch.Tensor | None = None  # the ids an embedding leaf was looked up from (samples on dim 0)
    sample_dim: int = 0  # 1 inside a sequence-first model: (time, batch, ...)


def samples_first(g: torch.Tensor | None, sample_dim: int) -> torch.Tensor | None:
    return g.movedim(sample_dim, 0) if g is not None and sample_dim else g


@dataclass
class Probe:
    output: torch.Tensor
    leaves: list[Leaf]
    modules: list[tuple[str, str, torch.Tensor]] = field(default_factory=list)  # name, type, output
    batch: Any = None  # what was forwarded: the slice of ctx.batch (targets included)
    n: int = 0  # its number of samples
    module_sample_dim: int = 0  # where the recorded module outputs keep their samples

    def grads(self, scalar: torch.Tensor) -> list[torch.Tensor | None]:
        """Gradients of ``scalar`` w.r.t. the leaves, samples on dim 0 (the graph is kept)."""
        got = torch.autograd.grad(scalar, [leaf.tensor for leaf in self.leaves], retain_graph=True, allow_unused=True)
        return [samples_first(g, leaf.sample_dim) for g, leaf in zip(got, self.leaves, strict=True)]

    def module_grads(self, scalar: torch.Tensor) -> list[torch.Tensor | None]:
        """Gradients w.r.t. every recorded module output, samples on dim 0: only to say where a
        finding enters, so only computed once something was found (a copy of every activation)."""
        got = torch.autograd.grad(scalar, [t for _, _, t in self.modules], retain_graph=True, allow_unused=True)
        return [samples_first(g, self.module_sample_dim) for g in got]

    def where(self, scalar: torch.Tensor, affected: Callable[[torch.Tensor | None], bool | None], what: str) -> str:
        """Where ``what`` (a dependency of ``scalar`` that ``affected`` sees in a gradient)
        enters the model, as ``locate`` says it; empty when no module output tells."""
        return locate([affected(g) for g in self.module_grads(scalar)], self.modules, what)


def take(obj: Any, n: int, k: int) -> Any:
    """The first ``k`` samples of every per-sample tensor (dim 0 == ``n``) in a batch;
    everything else (scalars, shared tables, broadcast masks) as it is."""
    if isinstance(obj, torch.Tensor):
        return obj[:k] if obj.dim() >= 1 and obj.shape[0] == n else obj
    if isinstance(obj, Mapping):
        items = {key: take(v, n, k) for key, v in obj.items()}
        try:
            return items if type(obj) is dict else type(obj)(items)  # type: ignore[call-arg]
        except Exception:  # a mapping type we cannot rebuild
            return items
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(take(v, n, k) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(take(v, n, k) for v in obj)
    return obj


def run(ctx: Context, n_samples: int) -> Probe | str:
    """Forward a slice of ``ctx.batch`` (``SAMPLES`` samples) with differentiable inputs;
    the whole batch when the model cannot run on the slice. Call inside ``preserved()``
    with the model already in eval mode. Returns a reason string when there is nothing to
    probe."""
    k = min(n_samples, SAMPLES)
    if k < n_samples:
        try:
            return _run(ctx, take(ctx.batch, n_samples, k), k)
        except torch.OutOfMemoryError:
            raise
        except Exception:  # e.g. a batch size hard-coded in a reshape: probe everything
            pass
    return _run(ctx, ctx.batch, n_samples)


def _float_leaves(batch: Any, keys: list[Any], inputs: list[Any], n_samples: int) -> tuple[Any, list[Leaf]]:
    """The batch with each per-sample float input replaced by a leaf that requires grad."""
    leaves: list[Leaf] = []
    new: list[Any] = []
    for k, x in zip(keys or ["batch"], inputs, strict=False):
        if isinstance(x, torch.Tensor) and x.is_floating_point() and x.dim() >= 1 and x.shape[0] == n_samples:
            y = x.detach().clone().requires_grad_(True)
            leaves.append(Leaf(f"input `{k}`", y))
            new.append(y)
        else:
            new.append(x)
    return (replace_inputs(batch, keys, new) if leaves else batch), leaves


def _run(ctx: Context, batch: Any, n_samples: int) -> Probe | str:
    model = ctx.model
    # Inside a sequence-first model (fed batch-first by seq_first.batch_first) the embeddings and
    # layers keep the samples on dim 1: (time, batch, ...).
    sd = 1 if is_seq_first(model) else 0
    inputs = get_inputs(batch, ctx.input_keys)
    probe_batch, leaves = _float_leaves(batch, ctx.input_keys, inputs, n_samples)
    id_storages = {
        x.untyped_storage().data_ptr() for x in inputs if isinstance(x, torch.Tensor) and not x.is_floating_point()
    }
    modules: list[tuple[str, str, torch.Tensor]] = []
    handles = []

    def swap(name: str) -> Callable[..., Any]:
        def hook(mod: torch.nn.Module, args: tuple[Any, ...], out: Any) -> Any:
            idx = args[0] if args else None
            if not (isinstance(idx, torch.Tensor) and isinstance(out, torch.Tensor) and out.is_floating_point()):
                return None
            from_batch = idx.untyped_storage().data_ptr() in id_storages
            # Position/type tables are looked up with ids that are not per-sample: leave them.
            per_sample = idx.dim() > sd and idx.shape[sd] == n_samples
            if not (from_batch or (idx.dim() >= 2 and per_sample)) or out.dim() <= sd or out.shape[sd] != n_samples:
                return None
            leaf = out.detach().requires_grad_(True)
            tokens = idx.movedim(sd, 0) if sd and idx.dim() > sd else idx
            leaves.append(Leaf(f"embedding `{name}`", leaf, tokens=tokens, sample_dim=sd))
            return leaf

        return hook

    def record(name: str) -> Callable[..., None]:
        def hook(mod: torch.nn.Module, args: tuple[Any, ...], out: Any) -> None:
            t = first_tensor(out)
            if t is not None and t.requires_grad and t.dim() > sd and t.shape[sd] == n_samples:
                modules.append((name, type(mod).__name__, t))

        return hook

    try:
        for name, mod in model.named_modules():
            if isinstance(mod, (torch.nn.Embedding, torch.nn.EmbeddingBag)):
                handles.append(mod.register_forward_hook(swap(name)))
            elif name:
                handles.append(mod.register_forward_hook(record(name)))
        out = first_tensor(ctx.forward(model, probe_batch))
    finally:
        for h in handles:
            h.remove()
    if out is None:
        return "the model output has no floating-point tensor"
    if not leaves:
        return "no input reaches the model as a float tensor or through an nn.Embedding"
    if not out.requires_grad:
        return "the model output does not depend on any input through autograd"
    return Probe(out, leaves, modules, batch, n_samples, module_sample_dim=sd)


def locate(flags: list[bool | None], modules: list[tuple[str, str, torch.Tensor]], what: str) -> str:
    """Where ``what`` enters: between the last module whose output is still affected
    (flag True) and the first unaffected one after it. Containers finish after their
    children, so "between a child and its parent" reads as "inside the parent"."""
    known = [(k, f) for k, f in enumerate(flags) if f is not None]
    if not known:
        return ""
    dirty = [k for k, f in known if f]
    if not dirty:
        name, kind, _ = modules[known[0][0]]
        return f"{what} before `{name}` ({kind}) runs: look at the code that prepares its input"
    last = dirty[-1]
    after = next((k for k, f in known if k > last and not f), None)
    a_name, a_kind, _ = modules[last]
    if after is None:
        return f"{what} after `{a_name}` ({a_kind}): look at the code that uses its output"
    b_name, b_kind, _ = modules[after]
    if a_name.startswith(b_name + "."):
        return f"{what} inside `{b_name}` ({b_kind}), after `{a_name}` ({a_kind})"
    return f"{what} between `{a_name}` ({a_kind}) and `{b_name}` ({b_kind}), or inside `{b_name}`"


def projection(t: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Fixed random weights: a plain sum can cancel (softmax rows sum to 1) and hide a dependency."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(t.shape, generator=gen).to(device=t.device, dtype=t.dtype)
