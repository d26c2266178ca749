"""The state of one gated script run, fed by the patches: losses from backward, steps from
``optimizer.step()``, the verdict monitor and the checks. It raises ``StopScript`` once the
outcome is known, which ends the script from inside its own loop."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

from gate.harness.check_api import Check, Context, ScriptCheck
from gate.harness.dropout import DropoutSwitch
from gate.harness.loop import LossStream, overrides
from gate.harness.loss_spy import LossSpy
from gate.harness.script.applicability import Applicability
from gate.harness.script.context import build_context, pinning_sentence
from gate.harness.script.pinning import LoaderPins, ModuleTracker
from gate.harness.script.targets import TargetPins
from gate.harness.script.workers import Workers
from gate.harness.spec import Spec
from gate.harness.verdict import Monitor

NO_BACKWARD_STEPS = 32  # optimizer steps with a loss computed but no backward before the gate stops


class StopScript(BaseException):
    """The verdict is known. A BaseException, so the script's own ``except Exception``
    cannot swallow it; caught by the runner at the top."""


class GateInternalError(BaseException):
    """The gate's own instrumentation raised (not the script, not a check: those are guarded
    separately). A BaseException so the script's ``except Exception`` cannot swallow it; the
    run ends as an error that says it is the gate's, never the pipeline's."""


class Session:
    def __init__(self, spec: Spec, monitor: Monitor, checks: list[Check], log: Callable[[str], None]) -> None:
        self.spec, self.monitor, self.checks, self.log = spec, monitor, checks, log
        self.loaders = LoaderPins()
        self.spy = LossSpy()  # installed with the patches: it must see the very first training loss
        self.dropout = DropoutSwitch(spec.keep_dropout)
        self.notes: list[str] = []  # for the report: a derived floor, dropout turned off
        self.modules = ModuleTracker()
        self.targets = TargetPins()
        self.fit = Applicability()
        self.not_applicable: str | None = None  # why an overfit test does not fit this program
        # Hand-written updates (p.data -= lr * p.grad): no torch.optim optimizer holds the model,
        # so a step is counted at each backward instead of at optimizer.step().
        self.manual = False
        self._in_step: torch.optim.Optimizer | None = None  # inside optimizer.step() (LBFGS closures)
        self._calls_before_step = 0
        self._stepped: set[int] = set()  # ids of optimizers that stepped after a backward
        self.model_missing = False  # optimizers step, but no module was ever called as model(x)
        self.launch = ""  # how a launcher's worker was run (torchrun / accelerate launch)
        self.workers = Workers(log)
        self.pin = spec.pin
        self.pinning = ""  # how the batch was pinned, decided at the first backward
        self.call_depth = 0  # nesting of module calls; 0 means outside any module
        self.in_model = False  # inside a call of the top-level module
        self.quiet = False  # our own checks are running: instrumentation passes through
        self.in_backward = False
        self.stopping = False
        self.stopped_by: str | None = None
        self.backwards = 0
        self.loss_problem: str | None = None
        self.unmatched_steps = 0  # optimizer steps with no backward before them
        self.optimizer: torch.optim.Optimizer | None = None
        self._optimizers: list[weakref.ref[torch.optim.Optimizer]] = []
        self.ctx: Context | None = None
        self.device = torch.device("cpu")
        self.check_errors: dict[str, str] = {}
        self.internal_error: BaseException | None = None  # the gate's own code raised (see own())
        self.scaled: tuple[torch.Tensor, torch.Tensor] | None = None  # last GradScaler.scale output and its scale
        self.stream = LossStream(monitor, spec.sync_every, log, spec.log_every)
        self.step = 0
        self._step_backwards = 0
        self._pending_loss: torch.Tensor | None = None
        self.t0 = time.perf_counter()
        self._per_step = [c for c in checks if overrides(c, "after_backward")]
        self._syncing = [c for c in checks if overrides(c, "on_sync")]
        self._script = [c for c in checks if isinstance(c, ScriptCheck)]

    # ---- helpers
    @contextmanager
    def quietly(self) -> Iterator[None]:
        # The checks' own loss calls are not the script's: the spy does not record them.
        previous, self.quiet = self.quiet, True
        recording, self.spy.recording = self.spy.recording, False
        try:
            yield
        finally:
            self.quiet = previous
            self.spy.recording = recording

    def _call(self, check: Check, hook: str, *args: Any) -> Any:
        """A check that cannot run in script mode is reported as skipped, not fatal."""
        if check.name in self.check_errors:
            return None
        try:
            with self.quietly():
                return getattr(check, hook)(*args)
        except StopScript:
            raise
        except Exception as exc:
            self.check_errors[check.name] = f"{type(exc).__name__}: {exc}"
            self.log(f"overfit-gate: check {check.name} could not run in script mode ({self.check_errors[check.name]})")
            return None

    @contextmanager
    def own(self, where: str) -> Iterator[None]:
        """Gate code running inside the script's process (bookkeeping around backward, step
        and module calls, never the script's own work). If it raises, that is the gate's
        error: remembered, and raised on as GateInternalError so it is reported as such."""
        try:
            yield
        except (StopScript, GateInternalError):
            raise
        except Exception as exc:
            first = str(exc).splitlines()[0] if str(exc) else ""
            self.internal_error = exc
            self.stopping = True
            raise GateInternalError(f"{type(exc).__name__} in the gate's {where}: {first}") from exc

    def _stop(self) -> None:
        self.stopping = True
        raise StopScript()

    def optimizer_created(self, opt: torch.optim.Optimizer) -> None:
        if not self.quiet:  # the stand-in optimizer of a hand-written loop is ours
            self._optimizers.append(weakref.ref(opt))

    def _held(self, opt: torch.optim.Optimizer) -> set[int]:
        return {id(p) for g in opt.param_groups for p in g["params"]}

    # ---- backward
    def around_backward(self, tensors: list[torch.Tensor], run: Callable[[], Any]) -> Any:
        if self.in_backward or self.quiet:
            return run()
        if self.stopping:
            raise StopScript()  # the script swallowed our stop: stop again
        self.in_backward = True
        try:
            with self.own("loss bookkeeping before backward"):
                loss = self._loss_of(tensors)
                first_in_step = self._step_backwards == 0
                if loss is not None:
                    self._before_backward(loss, first_in_step)
            out = run()  # the script's own backward: its errors are the script's
            if loss is not None:
                with self.own("checks after backward"):
                    self._after_backward(first_in_step)
            return out
        finally:
            self.in_backward = False

    def _after_backward(self, first_in_step: bool) -> None:
        if self.backwards == 1 and self.optimizer is not None and self.ctx is None:
            # Probes run here, after the script's backward has freed its graph: nothing
            # they do can touch a tensor that graph saved, and its memory is back.
            self._start_checks()
        if self.ctx is not None:
            for sc in self._script:
                self._call(sc, "grads_after_backward", self.ctx, self.step)
            if first_in_step:
                for c in self._per_step:
                    self._call(c, "after_backward", self.ctx, self.step)

    def _loss_of(self, tensors: list[torch.Tensor]) -> torch.Tensor | None:
        if tensors and all(t.numel() == 1 and t.requires_grad for t in tensors):
            total = self._unscaled(tensors[0])
            for t in tensors[1:]:
                total = total + self._unscaled(t).to(total.device)
            return total
        shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
        self.loss_problem = f".backward() was called on a tensor of shape {shapes}, not on a scalar loss"
        return None

    def _unscaled(self, t: torch.Tensor) -> torch.Tensor:
        value = t.detach().float().reshape(())
        if self.scaled is not None and self.scaled[0] is t:
            # Divided now, on the device: scaler.update() later changes the scale in place.
            value = value / self.scaled[1].to(value.device).float()
            self.scaled = None
        return value

    def _before_backward(self, loss: torch.Tensor, first_in_step: bool) -> None:
        self.backwards += 1
        if self._in_step is not None and not first_in_step:
            return  # LBFGS re-evaluates its closure: the step's loss is the first evaluation
        if self.manual and self._pending_loss is not None:
            self._commit(None)  # hand-written updates: the previous backward was a whole step
            first_in_step = True
        if self.backwards == 1:
            self.device = loss.device
            self._first_backward()
        if first_in_step and self.ctx is not None:
            for c in self._script:
                self._call(c, "before_backward", self.ctx, self.step)
        self._pending_loss = loss if self._pending_loss is None else self._pending_loss + loss
        self._step_backwards += 1

    def _first_backward(self) -> None:
        held: set[int] | None = None
        live = [o for o in (r() for r in self._optimizers) if o is not None]
        if live:
            held = set().union(*(self._held(o) for o in live))
        top = self.modules.choose(held)
        if top is not None and live:
            mine = {id(p) for p in top.parameters()}
            best = max(live, key=lambda o: len(self._held(o) & mine))
            self.optimizer = best if self._held(best) & mine else None  # else adopted at its first step
        if top is not None and self.optimizer is None:
            mine = {id(p) for p in top.parameters() if p.requires_grad}
            self.manual = not any(self._held(o) & mine for o in live)
            if self.manual:
                with self.quietly():  # a stand-in that only lists the parameters for the checks
                    self.optimizer = torch.optim.SGD([p for p in top.parameters() if p.requires_grad], lr=0.0)
        self._decide_pinning()

    def _decide_pinning(self) -> None:
        if (
            self.pin in ("auto", "module")
            and not (self.pin == "auto" and self.loaders.used)
            and self.modules.replayable
        ):
            self.modules.replay = True
            self.targets.replay = True
        self.pinning = pinning_sentence(self)

    def _start_checks(self) -> None:
        assert self.optimizer is not None
        self.ctx = build_context(self, self.optimizer)
        if self.ctx is not None:
            for c in self.checks:
                self._call(c, "before", self.ctx)

    # ---- optimizer.step()
    def before_step(self, opt: torch.optim.Optimizer) -> None:
        if not (self.quiet or self.in_backward):
            self._in_step = opt
            # Model calls inside step() are an LBFGS closure re-evaluating, not a rollout.
            self._calls_before_step = self.modules.take_calls()

    def after_step(self, opt: torch.optim.Optimizer) -> None:
        if self.quiet or self.in_backward:
            return
        self._in_step = None
        if self.stopping:
            raise StopScript()
        with self.own("step bookkeeping"):
            self._after_step(opt)

    def _after_step(self, opt: torch.optim.Optimizer) -> None:
        self.fit.stepped(id(opt), self._pending_loss is not None)
        if self._pending_loss is None:
            self.unmatched_steps += 1
            if self.backwards == 0 and self.spy.calls and self.unmatched_steps >= NO_BACKWARD_STEPS:
                self._stop()  # a loss is computed but never backpropagated: certain already
            return
        self._stepped.add(id(opt))
        if (
            self.manual
            and self.modules.top is not None
            and self._held(opt) & {id(p) for p in self.modules.top.parameters()}
        ):
            self.manual = False  # a real optimizer steps the model after all
            self.optimizer = None
        if self.optimizer is None:
            top = self.modules.top
            if top is None or not self._held(opt) & {id(p) for p in top.parameters()}:
                self._other_step()  # another optimizer (a GAN's second one, say)
                return
            self.optimizer = opt
            self._start_checks()
        elif opt is not self.optimizer:
            self._other_step()
            return
        if self.modules.frozen_optimizer:
            self._pending_loss = None
            self.stopped_by = "frozen_optimizer"
            self._stop()
        self._commit(opt)

    def _other_step(self) -> None:
        """Another optimizer stepped: the losses since the last step were its own (a GAN's
        discriminator), not part of the next step of ours."""
        self._pending_loss = None
        self._step_backwards = 0
        held = [self._held(o) for o in (r() for r in self._optimizers) if o is not None and id(o) in self._stepped]
        self.fit.disjoint = len(held) >= 2 and not set.intersection(*held)
        self._judge_fit()

    def _commit(self, opt: torch.optim.Optimizer | None) -> None:
        """One training step of the model is complete: record its loss (no host sync)."""
        assert self._pending_loss is not None
        if self.step == 0:  # before the monitor sees a loss: it may need the spy's floor
            note = self.spy.settle(self.monitor, self.spec.loss_floor, float(self._pending_loss), self._step_backwards)
            self.notes += [note] if note else []
        due = self.stream.add(self._pending_loss)
        self.step += 1
        self._pending_loss = None
        self._step_backwards = 0
        in_step = self.modules.take_calls()
        self.fit.step_done(self._calls_before_step if opt is not None else in_step)
        if self.ctx is not None:
            self.ctx.step = self.step
            for c in self._script:
                if opt is not None or not c.needs_real_step:  # hand-written updates: no step call
                    self._call(c, "after_step", self.ctx, self.step)
        self._judge_fit()
        if due and self.sync():
            self._stop()

    def flush(self) -> None:
        """The script ended: a hand-written loop's last backward was a step too."""
        loss = self._pending_loss
        if self.manual and loss is not None and not self.stopping:
            self._pending_loss = None
            self.stream.add(loss)
            self.step += 1

    def _judge_fit(self) -> None:
        """Stop as soon as the program is one an overfit test does not fit (or has no model)."""
        if self.stopping:
            return
        why = self.fit.adversarial() or self.fit.rollout(self.loaders.used)
        if why is None and self.modules.top is None and self.modules.locked and self._stepped:
            live = [self._held(o) for o in (r() for r in self._optimizers) if o is not None]
            disjoint = len(live) >= 2 and not set.intersection(*live)
            why = self.fit.local_losses(False, len(live) if disjoint else 1)
            if why is None:  # one optimizer, and no module ever called as model(x)
                self.model_missing = True
                self.stopped_by = "model_missing"
                self._stop()
        if why is not None:
            self.not_applicable = why
            self.stopped_by = "not_applicable"
            self._stop()

    @property
    def losses(self) -> list[float | None]:
        return self.stream.losses

    def sync(self) -> bool:
        """Read the pending losses back (the only host sync); True when the run should stop."""
        decision = self.stream.sync()
        if self.ctx is not None:
            self.ctx.losses = self.losses
        if decision is not None:
            return True
        if self.ctx is not None:
            for c in self._syncing:
                if self._call(c, "on_sync", self.ctx, self.step):
                    self.stopped_by = c.name
                    return True
        m = self.monitor
        return self.step >= m.limit or (self.step >= m.budget and not m.confirming)
