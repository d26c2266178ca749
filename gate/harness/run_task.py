"""Task mode end to end: load the entry point, place it, run the loop and the checks,
and turn it all into the result dictionary (``outcome``: the parts script mode shares)."""

from __future__ import annotations

from typing import Any

import torch

from gate.harness.batch import default_forward, input_keys, to_device
from gate.harness.check_api import Context
from gate.harness.checks import active_checks
from gate.harness.contract import CheckRecord, ResultRecord
from gate.harness.diagnose import likely_cause
from gate.harness.dropout import DropoutSwitch
from gate.harness.loop import build_optimizer, train
from gate.harness.loss_spy import LossSpy
from gate.harness.outcome import judged, make_monitor
from gate.harness.runtime import log, pick_device, seed_everything
from gate.harness.spec import Spec
from gate.harness.task import OverfitTask, load_factory, normalize


def run(spec: Spec, started: float) -> ResultRecord:
    dropout = DropoutSwitch(spec.keep_dropout).install()
    try:
        return _run(spec, started, dropout)
    finally:
        dropout.remove()


def _run(spec: Spec, started: float, dropout: DropoutSwitch) -> ResultRecord:
    ctx, task = _context(spec)
    spy, notes = _loss_spy(ctx, spec.loss_floor if spec.loss_floor is not None else task.loss_floor)
    checks = active_checks(spec, "task")
    for c in checks:
        c.before(ctx)
    spy.install()  # after the checks' probes: only the loop's own first loss is recorded
    try:
        outcome = train(ctx, ctx.monitor, checks, log=log, log_every=spec.log_every)
    finally:
        spy.close()
    check_results: list[CheckRecord] = []
    for c in checks:
        check_results.extend(c.finish(ctx))
    cause = likely_cause(outcome.decision, check_results, spy, dropout, ctx.monitor)
    return {
        **judged(outcome, check_results, ctx.monitor, spec, cause, started, str(ctx.device)),
        "mode": "task",
        "entrypoint": spec.entrypoint,
        "notes": [n for n in [*notes, dropout.note] if n],
    }


def _context(spec: Spec) -> tuple[Context, OverfitTask]:
    """Load the entry point, place its model and batch on the device, and give the checks a
    way to build it all again from the same seed (input_dependence's second run)."""
    assert spec.entrypoint
    factory = load_factory(spec.entrypoint)
    device = pick_device(spec.device)
    where = spec.entrypoint

    def fresh() -> tuple[OverfitTask, torch.nn.Module, Any, torch.optim.Optimizer]:
        seed_everything(spec.seed)
        task = normalize(factory(), where)
        model = task.model.to(device)
        return task, model, to_device(task.batch, device), build_optimizer(task.optimizer, model)

    task, model, batch, optimizer = fresh()
    log(
        f"overfit-gate harness: task {where}  device {device}  torch {torch.__version__}  "
        f"seed {spec.seed}  params {sum(p.numel() for p in model.parameters()):,}"
    )

    def make_fresh() -> tuple[torch.nn.Module, Any, Any, torch.optim.Optimizer]:
        t, m, b, o = fresh()
        return m, b, t.loss, o

    keys = input_keys(batch, task.inputs)
    ctx = Context(
        spec=spec,
        model=model,
        batch=batch,
        loss_fn=task.loss,
        optimizer=optimizer,
        forward=task.forward or default_forward(batch, task.inputs),
        input_keys=keys,
        device=device,
        monitor=make_monitor(spec, task.loss_floor),
        mode="task",
        causal_dim=spec.causal_dim if spec.causal_dim is not None else task.causal_dim,
        make_fresh=make_fresh,
    )
    return ctx, task


def _loss_spy(ctx: Context, fixed_floor: float | None) -> tuple[LossSpy, list[str]]:
    """The spy the loop's first step settles (a derived floor for the monitor, a report note);
    loss_at_init and finite read what it saw from ``ctx.shared``."""
    spy, notes = LossSpy(), []
    ctx.shared["loss_spy"] = spy
    ctx.shared["first_step"] = lambda loss: notes.append(spy.settle(ctx.monitor, fixed_floor, loss))
    return spy, notes
