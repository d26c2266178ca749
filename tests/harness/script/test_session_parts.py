"""The parts the script-mode Session hands its jobs to, each on its own: the ledger (losses and
steps), adoption (which optimizer trains the model), the check dispatch and the guard. The
end-to-end behaviour is covered by test_script_mode / test_script_cases; these pin the rules
each part owns, without running a script."""

from __future__ import annotations

from contextlib import nullcontext

import pytest
import torch
from torch import nn

from gate.harness.check_api import Check, Context
from gate.harness.loop import LossStream
from gate.harness.loss_spy import LossSpy
from gate.harness.script.adoption import Adoption
from gate.harness.script.dispatch import CheckDispatch
from gate.harness.script.guard import GateInternalError, Guard, StopScript
from gate.harness.script.ledger import Ledger
from gate.harness.script.pinning import ModuleTracker
from gate.harness.verdict import Monitor


def _ledger(sync_every: int = 3) -> Ledger:
    return Ledger(LossStream(Monitor(steps=100), sync_every))


def test_ledger_unscales_a_grad_scaler_loss_once_and_sums_several_tensors() -> None:
    ledger = _ledger()
    a = torch.tensor(2.0, requires_grad=True)
    scaled = a * 1024.0
    ledger.scaled(scaled, torch.tensor(1024.0))
    loss = ledger.loss_of([scaled, torch.tensor(0.5, requires_grad=True)])
    assert loss is not None and float(loss) == pytest.approx(2.5)
    again = ledger.loss_of([scaled])  # the scale was used up: a later backward on it is read as is
    assert again is not None and float(again) == pytest.approx(2048.0)


def test_ledger_names_a_backward_on_a_non_scalar() -> None:
    ledger = _ledger()
    assert ledger.loss_of([torch.ones(2, 3, requires_grad=True)]) is None
    assert ledger.loss_problem is not None and "(2, 3)" in ledger.loss_problem


def test_ledger_accumulates_backwards_into_one_step_and_flushes_the_last() -> None:
    ledger = _ledger(sync_every=2)
    ledger.add(torch.tensor(1.0))
    ledger.add(torch.tensor(3.0))  # gradient accumulation: one step, loss 4
    assert ledger.step_backwards == 2 and not ledger.commit(None)
    ledger.add(torch.tensor(5.0))
    assert ledger.commit(None)  # the second step: time to read back
    ledger.add(torch.tensor(7.0))
    ledger.flush()  # a hand-written loop's last backward was a step too
    assert ledger.step == 3 and ledger.pending is None
    ledger.stream.sync()
    assert ledger.stream.losses == [4.0, 5.0, 7.0]


def test_ledger_reads_an_lbfgs_closure_as_the_same_step() -> None:
    ledger = _ledger()
    assert not ledger.re_evaluation(first_in_step=False)  # plain accumulation outside step()
    ledger.in_step = torch.optim.LBFGS([nn.Parameter(torch.zeros(1))])
    assert ledger.re_evaluation(first_in_step=False) and not ledger.re_evaluation(first_in_step=True)


def _tracked(model: nn.Module) -> ModuleTracker:
    modules = ModuleTracker()
    modules.outer_call(model, (torch.randn(2, 4),), {})
    return modules


def test_adoption_picks_the_optimizer_that_holds_the_model() -> None:
    model, other = nn.Linear(4, 2), nn.Linear(4, 2)
    adoption = Adoption()
    unrelated, mine = torch.optim.SGD(other.parameters(), lr=0.1), torch.optim.SGD(model.parameters(), lr=0.1)
    adoption.created(unrelated)
    adoption.created(mine)
    modules = _tracked(model)
    adoption.first_backward(modules, nullcontext)
    assert modules.top is model and adoption.optimizer is mine and not adoption.manual
    assert adoption.stepped(unrelated, model) == "other" and adoption.stepped(mine, model) == "ours"
    assert adoption.stepped_disjoint()  # the two hold separate parameters (a GAN's pattern)


def test_adoption_falls_back_to_hand_written_updates_until_a_real_optimizer_steps() -> None:
    model = nn.Linear(4, 2)
    adoption = Adoption()
    quiet: list[bool] = []

    class Quietly:
        def __enter__(self) -> None:
            quiet.append(True)

        def __exit__(self, *exc: object) -> None:
            pass

    adoption.first_backward(_tracked(model), Quietly)
    assert adoption.manual and isinstance(adoption.optimizer, torch.optim.SGD) and quiet == [True]
    late = torch.optim.Adam(model.parameters())  # built after the first backward
    assert adoption.stepped(late, model) == "adopted"
    assert adoption.optimizer is late and not adoption.manual


class Broken(Check):
    name = "broken"
    calls = 0

    def before(self, ctx: Context) -> None:
        Broken.calls += 1
        raise RuntimeError("needs task mode")


class Stopper(Check):
    name = "stopper"

    def before(self, ctx: Context) -> None:
        raise StopScript()


def test_dispatch_skips_a_check_that_cannot_run_and_passes_the_stop_on() -> None:
    lines: list[str] = []
    dispatch = CheckDispatch([Broken()], lines.append, nullcontext)
    ctx = object.__new__(Context)  # no hook here reads it
    dispatch.start(ctx)
    dispatch.start(ctx)
    assert Broken.calls == 1 and "needs task mode" in lines[0]
    (record,) = dispatch.finish()
    assert (
        record["status"] == "skip"
        and "could not run in script mode (RuntimeError: needs task mode)" in record["message"]
    )
    with pytest.raises(StopScript):
        CheckDispatch([Stopper()], lines.append, nullcontext).start(ctx)


def test_guard_tells_the_gates_own_error_from_a_stop() -> None:
    spy = LossSpy()
    guard = Guard(spy)
    with guard.quietly():
        assert guard.quiet and not spy.recording
    assert not guard.quiet and spy.recording
    with (
        pytest.raises(GateInternalError, match="KeyError in the gate's step bookkeeping"),
        guard.own("step bookkeeping"),
    ):
        raise KeyError("x")
    assert isinstance(guard.internal_error, KeyError) and guard.stopping
    with pytest.raises(StopScript):
        guard.stop("frozen_optimizer")
    assert guard.stopped_by == "frozen_optimizer"
