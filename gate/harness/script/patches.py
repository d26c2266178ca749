"""Install the script-mode instrumentation on torch and take every bit of it off again.

Each patch replaces one attribute (or registers one global hook) and records how to undo
it; ``restore`` undoes them in reverse order, so a patch over a patch unwinds cleanly and
the process is left exactly as it was (tests check this in-process).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch
from torch.optim.optimizer import register_optimizer_step_post_hook
from torch.utils.data import DataLoader

from gate.harness.script.pinning import PinnedIterator
from gate.harness.script.session import Session


class Patcher:
    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []

    def replace(self, owner: Any, name: str, value: Any) -> Any:
        original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        setattr(owner, name, value)
        self._undo.append(lambda: setattr(owner, name, original))
        return original

    def on_undo(self, fn: Callable[[], None]) -> None:
        self._undo.append(fn)

    def restore(self) -> None:
        while self._undo:
            self._undo.pop()()


def install(session: Session, patcher: Patcher, pin_loaders: bool) -> None:
    """Backward, optimizer construction and step, module calls; DataLoaders when pinning them;
    the loss spy and the dropout switch, before the script computes its first loss."""
    session.spy.install()
    patcher.on_undo(session.spy.remove)
    session.dropout.install(patcher.replace)
    orig_tensor_backward = torch.Tensor.backward
    orig_autograd_backward = torch.autograd.backward

    @functools.wraps(orig_tensor_backward)
    def tensor_backward(self: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        return session.around_backward([self], lambda: orig_tensor_backward(self, *args, **kwargs))

    @functools.wraps(orig_autograd_backward)
    def autograd_backward(tensors: Any, *args: Any, **kwargs: Any) -> Any:
        listed = [tensors] if isinstance(tensors, torch.Tensor) else list(tensors)
        return session.around_backward(listed, lambda: orig_autograd_backward(tensors, *args, **kwargs))

    patcher.replace(torch.Tensor, "backward", tensor_backward)
    patcher.replace(torch.autograd, "backward", autograd_backward)

    orig_opt_init = torch.optim.Optimizer.__init__

    @functools.wraps(orig_opt_init)
    def opt_init(self: torch.optim.Optimizer, *args: Any, **kwargs: Any) -> None:
        orig_opt_init(self, *args, **kwargs)
        session.optimizer_created(self)

    patcher.replace(torch.optim.Optimizer, "__init__", opt_init)
    handle = register_optimizer_step_post_hook(lambda opt, args, kwargs: session.after_step(opt))
    patcher.on_undo(handle.remove)

    orig_call = torch.nn.Module.__call__

    @functools.wraps(orig_call)
    def module_call(self: torch.nn.Module, *args: Any, **kwargs: Any) -> Any:
        if session.call_depth or session.quiet:
            session.call_depth += 1
            try:
                return orig_call(self, *args, **kwargs)
            finally:
                session.call_depth -= 1
        # Outermost call: a candidate top-level module (and the one whose inputs may be replayed).
        args, kwargs = session.modules.outer_call(self, args, kwargs)
        session.call_depth = 1
        try:
            out = orig_call(self, *args, **kwargs)
        finally:
            session.call_depth = 0
        session.modules.outer_result(self, out)
        return out

    patcher.replace(torch.nn.Module, "__call__", module_call)

    # Mixed precision: `scaler.scale(loss).backward()` backpropagates loss x scale, and the
    # scale jumps (halved on overflow, doubled on growth); remember it to unscale the loss.
    scaler_cls = getattr(torch.amp, "GradScaler", None) or torch.cuda.amp.GradScaler  # torch < 2.3
    orig_scale = scaler_cls.scale

    @functools.wraps(orig_scale)
    def scale(self: Any, outputs: Any) -> Any:
        out = orig_scale(self, outputs)
        if out is not outputs and isinstance(out, torch.Tensor) and self._scale is not None:
            session.scaled = (out, self._scale)
        return out

    patcher.replace(scaler_cls, "scale", scale)

    if pin_loaders:
        orig_iter = DataLoader.__iter__

        @functools.wraps(orig_iter)
        def loader_iter(self: DataLoader) -> Any:
            return PinnedIterator(self, orig_iter(self), session.loaders, lambda: session.backwards)

        patcher.replace(DataLoader, "__iter__", loader_iter)
