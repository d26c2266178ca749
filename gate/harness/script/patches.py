"""Install the script-mode instrumentation on torch and take every bit of it off again.

Each patch replaces one attribute (or registers one global hook) and records how to undo
it; ``restore`` undoes them in reverse order, so a patch over a patch unwinds cleanly and
the process is left exactly as it was (tests check this in-process).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook
from torch.utils.data import DataLoader

from gate.harness.script import workers
from gate.harness.script.pinning import PinnedIterator, unwrap
from gate.harness.script.session import Session
from gate.harness.script.targets import TARGET_LOSSES

# torch.compile traces through our wrappers: they step aside while it does (torch < 2.3 has no flag).
is_compiling = getattr(getattr(torch, "compiler", None), "is_compiling", lambda: False)


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


class _Calls:
    """Where the script is in its module calls: nested calls pass straight through, and a
    loss computed inside the model's own call already sees the replayed targets."""

    __slots__ = ("depth", "in_model")

    def __init__(self) -> None:
        self.depth = 0  # nesting of module calls; 0 means outside any module
        self.in_model = False  # inside a call of the top-level module


def install(session: Session, patcher: Patcher, pin_loaders: bool) -> None:
    """Backward, optimizer construction and step, module calls; DataLoaders when pinning them;
    the loss spy and the dropout switch, before the script computes its first loss."""
    session.spy.install()
    patcher.on_undo(session.spy.remove)
    session.dropout.install(patcher.replace)
    calls = _Calls()
    _install_backward(session, patcher)
    _install_optimizer(session, patcher)
    _install_targets(session, patcher, calls)
    _install_policy_watch(session, patcher)
    workers.install(session.workers, patcher, launched=bool(session.launch))
    _install_module_call(session, patcher, calls)
    _install_scaler(session, patcher)
    if pin_loaders:
        _install_loaders(session, patcher)


@contextmanager
def instrumented(session: Session) -> Iterator[None]:
    """The script runs inside this, with torch instrumented for ``session``; torch is left
    exactly as it was however the script ends."""
    patcher = Patcher()
    try:
        install(session, patcher, pin_loaders=session.spec.pin in ("auto", "dataloader"))
        yield
    finally:
        patcher.restore()


def _install_backward(session: Session, patcher: Patcher) -> None:
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


def _install_optimizer(session: Session, patcher: Patcher) -> None:
    orig_opt_init = torch.optim.Optimizer.__init__

    @functools.wraps(orig_opt_init)
    def opt_init(self: torch.optim.Optimizer, *args: Any, **kwargs: Any) -> None:
        orig_opt_init(self, *args, **kwargs)
        session.optimizer_created(self)

    patcher.replace(torch.optim.Optimizer, "__init__", opt_init)
    handle = register_optimizer_step_post_hook(lambda opt, args, kwargs: session.after_step(opt))
    patcher.on_undo(handle.remove)
    pre = register_optimizer_step_pre_hook(lambda opt, args, kwargs: session.before_step(opt))
    patcher.on_undo(pre.remove)


def _install_module_call(session: Session, patcher: Patcher, calls: _Calls) -> None:
    orig_call = torch.nn.Module.__call__
    guard = session.guard  # looked up once: this wrapper runs for every submodule call

    @functools.wraps(orig_call)
    def module_call(self: torch.nn.Module, *args: Any, **kwargs: Any) -> Any:
        if is_compiling():
            # Inside a graph torch.compile is tracing: the compiled module's own call was
            # seen outside, eagerly. Tracing our bookkeeping would add guards on it,
            # recompiles and graph breaks the plain script does not have.
            return orig_call(self, *args, **kwargs)
        if calls.depth or guard.quiet:
            calls.depth += 1
            try:
                return orig_call(self, *args, **kwargs)
            finally:
                calls.depth -= 1
        # Outermost call: a candidate top-level module (and the one whose inputs may be replayed).
        with guard.own("module-call instrumentation"):
            args, kwargs = session.modules.outer_call(self, args, kwargs)
            in_model = unwrap(self) is session.modules.top
            if in_model and torch.is_grad_enabled():
                session.targets.new_forward()  # the loss calls after this one score this forward
        calls.depth, calls.in_model = 1, in_model
        try:
            out = orig_call(self, *args, **kwargs)
        finally:
            calls.depth, calls.in_model = 0, False
        with guard.own("module-call instrumentation"):
            session.modules.outer_result(self, out)
        return out

    patcher.replace(torch.nn.Module, "__call__", module_call)


def _install_scaler(session: Session, patcher: Patcher) -> None:
    """Mixed precision: `scaler.scale(loss).backward()` backpropagates loss x scale, and the
    scale jumps (halved on overflow, doubled on growth); remember it to unscale the loss."""
    scaler_cls = getattr(torch.amp, "GradScaler", None) or torch.cuda.amp.GradScaler  # torch < 2.3
    orig_scale = scaler_cls.scale

    @functools.wraps(orig_scale)
    def scale(self: Any, outputs: Any) -> Any:
        out = orig_scale(self, outputs)
        if out is not outputs and isinstance(out, torch.Tensor) and self._scale is not None:
            session.ledger.scaled(out, self._scale)
        return out

    patcher.replace(scaler_cls, "scale", scale)


def _install_loaders(session: Session, patcher: Patcher) -> None:
    orig_iter = DataLoader.__iter__
    ledger = session.ledger

    @functools.wraps(orig_iter)
    def loader_iter(self: DataLoader) -> Any:
        return PinnedIterator(self, orig_iter(self), session.loaders, lambda: ledger.backwards)

    patcher.replace(DataLoader, "__iter__", loader_iter)


def _install_targets(session: Session, patcher: Patcher, calls: _Calls) -> None:
    """Module replay pins the model's inputs; these pin the targets the loss compares them
    with (``F.mse_loss(model(x), y)``, ``nn.CrossEntropyLoss()(out, y)``), or the two would
    drift apart (a replayed input scored against a fresh target never converges)."""
    functional = torch.nn.functional
    for name in TARGET_LOSSES:
        original = getattr(functional, name, None)
        if original is None:
            continue

        def wrapped(input: Any, target: Any, *args: Any, _name: str = name, _fn: Any = original, **kwargs: Any) -> Any:
            # A loss the model computes itself (nanoGPT's) already sees the replayed targets;
            # inside a graph dynamo is tracing, our bookkeeping would add recompiles.
            if not (is_compiling() or session.guard.quiet or calls.in_model):
                target = session.targets.target(_name, input, target, session.modules.replayed_now)
            return _fn(input, target, *args, **kwargs)

        patcher.replace(functional, name, functools.wraps(original)(wrapped))


def _install_policy_watch(session: Session, patcher: Patcher) -> None:
    """A distribution built on a tensor that requires grad: the model's output is a policy
    (or a VAE's posterior; only a rollout's varying call count makes it reinforcement learning)."""
    base = torch.distributions.Distribution
    original = base.__init__

    @functools.wraps(original)
    def dist_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if not (session.fit.policy or session.guard.quiet):
            session.fit.distribution_built(
                any(isinstance(v, torch.Tensor) and v.requires_grad for v in vars(self).values())
            )

    patcher.replace(base, "__init__", dist_init)
