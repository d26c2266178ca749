"""One gated script run: the patches report backward, ``optimizer.step()`` and module calls
here, and the session has its collaborators do the work (the ledger counts losses and steps,
adoption finds the model's optimizer, the dispatch runs the checks, the guard stops the
script with ``StopScript`` once the outcome is known). ``summary()`` is what the end of the
run reads."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch

from gate.harness.check_api import Check
from gate.harness.dropout import DropoutSwitch
from gate.harness.loop import LossStream
from gate.harness.loss_spy import LossSpy
from gate.harness.script import pinning_plan
from gate.harness.script.adoption import Adoption
from gate.harness.script.applicability import Applicability
from gate.harness.script.context import build_context
from gate.harness.script.dispatch import CheckDispatch
from gate.harness.script.guard import GateInternalError, Guard, StopScript
from gate.harness.script.ledger import Ledger
from gate.harness.script.pinning import LoaderPins, ModuleTracker
from gate.harness.script.summary import ScriptSummary, lightning
from gate.harness.script.targets import TargetPins
from gate.harness.script.workers import Workers
from gate.harness.spec import Spec
from gate.harness.verdict import Monitor

__all__ = ["GateInternalError", "Session", "StopScript"]

NO_BACKWARD_STEPS = 32  # optimizer steps with a loss computed but no backward before the gate stops


class Session:
    def __init__(
        self,
        spec: Spec,
        monitor: Monitor,
        checks: list[Check],
        log: Callable[[str], None],
        launch: str = "",  # how a launcher's worker was run (torchrun / accelerate launch)
        zero: tuple[str, set[Any]] | None = None,  # input_dependence's rerun: the inputs to zero
    ) -> None:
        self.spec, self.monitor, self.launch = spec, monitor, launch
        # What the patches feed: installed with them, so they see the very first training loss.
        self.spy = LossSpy()
        self.dropout = DropoutSwitch(spec.keep_dropout)
        self.loaders, self.modules, self.targets = LoaderPins(), ModuleTracker(zero), TargetPins()
        self.fit = Applicability()
        self.workers = Workers(log)
        # The collaborators, each with one job.
        self.guard = Guard(self.spy)
        self.ledger = Ledger(LossStream(monitor, spec.sync_every, log, spec.log_every))
        self.adoption = Adoption()
        self.dispatch = CheckDispatch(checks, log, self.guard.quietly)
        self.notes: list[str] = []  # for the report: a derived floor, dropout turned off
        self.not_applicable: str | None = None  # why an overfit test does not fit this program
        self.model_missing = False  # optimizers step, but no module was ever called as model(x)
        self.device = torch.device("cpu")
        self.pinning = ""  # how the batch was pinned, decided at the first backward
        self.t0 = time.perf_counter()

    def optimizer_created(self, opt: torch.optim.Optimizer) -> None:
        if not self.guard.quiet:  # the stand-in optimizer of a hand-written loop is ours
            self.adoption.created(opt)

    # ---- backward
    def around_backward(self, tensors: list[torch.Tensor], run: Callable[[], Any]) -> Any:
        ledger = self.ledger
        if ledger.in_backward or self.guard.quiet:
            return run()
        if self.guard.stopping:
            raise StopScript()  # the script swallowed our stop: stop again
        ledger.in_backward = True
        try:
            with self.guard.own("loss bookkeeping before backward"):
                loss = ledger.loss_of(tensors)
                first_in_step = ledger.step_backwards == 0
                if loss is not None:
                    self._before_backward(loss, first_in_step)
            out = run()  # the script's own backward: its errors are the script's
            if loss is not None:
                with self.guard.own("checks after backward"):
                    self._after_backward(first_in_step)
            return out
        finally:
            ledger.in_backward = False

    def _before_backward(self, loss: torch.Tensor, first_in_step: bool) -> None:
        ledger = self.ledger
        ledger.backwards += 1
        if ledger.re_evaluation(first_in_step):
            return
        if self.adoption.manual and ledger.pending is not None:
            self._commit(real_step=False)  # hand-written updates: the previous backward was a whole step
            first_in_step = True
        if ledger.backwards == 1:
            self.device = loss.device
            self.adoption.first_backward(self.modules, self.guard.quietly)
            pinning_plan.choose(self.spec.pin, self.loaders, self.modules, self.targets)
            self.pinning = self.pinning_sentence()
        if first_in_step:
            self.dispatch.before_backward(ledger.step)
        ledger.add(loss)

    def _after_backward(self, first_in_step: bool) -> None:
        if self.ledger.backwards == 1 and self.adoption.optimizer is not None and self.dispatch.ctx is None:
            # Probes run here, after the script's backward has freed its graph: nothing
            # they do can touch a tensor that graph saved, and its memory is back.
            self._start_checks()
        self.dispatch.after_backward(self.ledger.step, first_in_step)
        if self.adoption.manual and self.adoption.optimizer is not None:
            self.ledger.step_sizes.watch(self.adoption.optimizer.param_groups[0]["params"])

    def _start_checks(self) -> None:
        assert self.adoption.optimizer is not None
        self.dispatch.start(
            build_context(self.spec, self.monitor, self.modules, self.spy, self.device, self.adoption.optimizer)
        )

    # ---- optimizer.step()
    def before_step(self, opt: torch.optim.Optimizer) -> None:
        if not (self.guard.quiet or self.ledger.in_backward):
            self.ledger.in_step = opt
            # Model calls inside step() are an LBFGS closure re-evaluating, not a rollout.
            self.ledger.calls_before_step = self.modules.take_calls()

    def after_step(self, opt: torch.optim.Optimizer) -> None:
        if self.guard.quiet or self.ledger.in_backward:
            return
        self.ledger.in_step = None
        if self.guard.stopping:
            raise StopScript()
        with self.guard.own("step bookkeeping"):
            self._after_step(opt)

    def _after_step(self, opt: torch.optim.Optimizer) -> None:
        ledger = self.ledger
        self.fit.stepped(id(opt), ledger.pending is not None)
        if ledger.pending is None:
            ledger.unmatched_steps += 1
            if ledger.backwards == 0 and self.spy.calls and ledger.unmatched_steps >= NO_BACKWARD_STEPS:
                self.guard.stop()  # a loss is computed but never backpropagated: certain already
            return
        role = self.adoption.stepped(opt, self.modules.top)
        if role == "other":
            # Another optimizer (a GAN's discriminator): the losses since the last step were
            # its own, not part of the next step of ours.
            ledger.drop()
            self.fit.disjoint = self.adoption.stepped_disjoint()
            self._judge_fit()
            return
        if role == "adopted":
            self._start_checks()
        if self.modules.frozen_optimizer:
            ledger.drop()
            self.guard.stop("frozen_optimizer")
        self._commit(real_step=True)

    def _commit(self, real_step: bool) -> None:
        """One training step of the model is complete: record its loss (no host sync)."""
        ledger = self.ledger
        assert ledger.pending is not None
        if ledger.step == 0:  # before the monitor sees a loss: it may need the spy's floor
            note = self.spy.settle(self.monitor, self.spec.loss_floor, float(ledger.pending), ledger.step_backwards)
            self.notes += [note] if note else []
        due = ledger.commit(self.adoption.optimizer if real_step else None)
        in_step = self.modules.take_calls()
        self.fit.step_done(ledger.calls_before_step if real_step else in_step)
        self.dispatch.after_step(ledger.step, real_step)
        self._judge_fit()
        if due and self.sync():
            self.guard.stop()

    def _judge_fit(self) -> None:
        """Stop as soon as the program is one an overfit test does not fit (or has no model)."""
        if self.guard.stopping:
            return
        why = self.fit.adversarial() or self.fit.rollout(self.loaders.used)
        if why is None and self.modules.top is None and self.modules.locked and self.adoption.any_stepped:
            why = self.fit.local_losses(False, self.adoption.turns())
            if why is None:  # one optimizer, and no module ever called as model(x)
                self.model_missing = True
                self.guard.stop("model_missing")
        if why is not None:
            self.not_applicable = why
            self.guard.stop("not_applicable")

    def sync(self) -> bool:
        """Read the pending losses back (the only host sync); True when the run should stop."""
        decision = self.ledger.sync()
        certain = self.dispatch.synced(self.ledger.stream.losses, self.ledger.step, decided=decision is not None)
        if decision is not None:
            return True
        if certain is not None:
            self.guard.stopped_by = certain
            return True
        m, step = self.monitor, self.ledger.step
        return step >= m.limit or (step >= m.budget and not m.confirming)

    # ---- the end of the script
    def pinning_sentence(self) -> str:
        return pinning_plan.sentence(
            self.spec.pin,
            self.loaders,
            self.modules,
            self.targets,
            self.adoption.manual,
            self.launch,
            self.workers.notes,
        )

    def end(self) -> ScriptSummary:
        """The script ended: count a hand-written loop's last backward as a step, and say how
        the batch was pinned now that it is fully known (targets, short batches)."""
        if self.adoption.manual and not self.guard.stopping:
            self.ledger.flush()
        if self.pinning:
            self.pinning = self.pinning_sentence()
        return self.summary()

    def read_back(self) -> None:
        """The losses still on the device, for the curve (the monitor decides nothing more)."""
        self.ledger.stream.sync()

    def summary(self) -> ScriptSummary:
        ledger, modules = self.ledger, self.modules
        frozen = type(modules.top).__name__ if modules.frozen_optimizer else None
        return ScriptSummary(
            steps=ledger.step,
            backwards=ledger.backwards,
            losses=list(self.ledger.stream.losses),
            device=str(self.device),
            pinning=self.pinning,
            notes=[n for n in [*self.notes, self.dropout.note] if n],
            stopping=self.guard.stopping,
            stopped_by=self.guard.stopped_by,
            not_applicable=self.not_applicable,
            model_missing=self.model_missing,
            frozen_model=frozen,
            loss_problem=ledger.loss_problem,
            unmatched_steps=ledger.unmatched_steps,
            children=self.workers.children,
            loss_name=self.spy.calls[0].name if self.spy.calls else None,
            lightning=lightning(modules.seen()),
            loop_s=time.perf_counter() - self.t0,
        )
