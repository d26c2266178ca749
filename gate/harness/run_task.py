"""Task mode end to end: load the entry point, place it, run the loop and the checks,
and turn it all into the result dictionary."""

from __future__ import annotations

import random
import time
from typing import Any

import torch

from gate.harness.batch import default_forward, input_keys, to_device
from gate.harness.check_api import Context
from gate.harness.checks import active_checks
from gate.harness.contract import CheckRecord, ResultRecord, Verdict
from gate.harness.diagnose import likely_cause
from gate.harness.dropout import DropoutSwitch
from gate.harness.loop import LoopOutcome, build_optimizer, train
from gate.harness.loss_spy import LossSpy
from gate.harness.spec import Spec
from gate.harness.task import OverfitTask, load_factory, normalize
from gate.harness.verdict import Monitor


def log(line: str) -> None:
    print(line, flush=True)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    try:
        import numpy as np
    except ImportError:  # numpy is optional in the training environment
        return
    np.random.seed(seed % 2**32)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} was asked for but CUDA is not available (torch {torch.__version__})")
    return dev


def make_monitor(spec: Spec, task_floor: float | None) -> Monitor:
    floor = spec.loss_floor if spec.loss_floor is not None else (task_floor or 0.0)
    return Monitor(
        steps=spec.steps,
        target_ratio=spec.target_ratio,
        target_loss=spec.target_loss,
        floor=float(floor),
        confirm_steps=spec.confirm_steps,
        divergence_factor=spec.divergence_factor,
        patience=spec.patience,
    )


def decide(outcome: LoopOutcome, checks: list[CheckRecord], fail_on_warn: bool, cause: str = "") -> tuple[Verdict, str]:
    """The loss decision, overridden by any failing check (a pass with a broken pipeline is a
    fail). ``cause``: what the gate saw that likely explains a failing loss."""
    bad = [c for c in checks if c["status"] == "fail" or (fail_on_warn and c["status"] == "warn")]
    if outcome.stopped_by:
        first = next((c for c in bad if c["name"] == outcome.stopped_by), None)
        if first is not None:
            return "fail", f"stopped at step {outcome.steps}: {first['message']}"
    if outcome.decision.verdict == "not_applicable":
        return "not_applicable", outcome.decision.reason  # never a pass, and no check verdict on top
    if outcome.decision.verdict != "pass":
        return "fail", outcome.decision.reason + (f"; likely cause: {cause}" if cause else "")
    if bad:
        names = ", ".join(c["name"] for c in bad)
        return "fail", f"the loss reached its target, but {names} failed: {bad[0]['message']}"
    return "pass", outcome.decision.reason


def run(spec: Spec, started: float) -> ResultRecord:
    dropout = DropoutSwitch(spec.keep_dropout).install()
    try:
        return _run(spec, started, dropout)
    finally:
        dropout.remove()


def _run(spec: Spec, started: float, dropout: DropoutSwitch) -> ResultRecord:
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
    keys = input_keys(batch, task.inputs)
    forward = task.forward or default_forward(batch, task.inputs)
    monitor = make_monitor(spec, task.loss_floor)

    def make_fresh() -> tuple[torch.nn.Module, Any, Any, torch.optim.Optimizer]:
        t, m, b, o = fresh()
        return m, b, t.loss, o

    ctx = Context(
        spec=spec,
        model=model,
        batch=batch,
        loss_fn=task.loss,
        optimizer=optimizer,
        forward=forward,
        input_keys=keys,
        device=device,
        monitor=monitor,
        mode="task",
        causal_dim=spec.causal_dim if spec.causal_dim is not None else task.causal_dim,
        make_fresh=make_fresh,
    )
    spy, notes = _loss_spy(ctx, spec.loss_floor if spec.loss_floor is not None else task.loss_floor)
    checks = active_checks(spec, "task")
    for c in checks:
        c.before(ctx)
    spy.install()  # after the checks' probes: only the loop's own first loss is recorded
    try:
        outcome = train(ctx, monitor, checks, log=log, log_every=spec.log_every)
    finally:
        spy.close()
    check_results: list[CheckRecord] = []
    for c in checks:
        check_results.extend(c.finish(ctx))
    cause = likely_cause(outcome.decision, check_results, spy, dropout, monitor)
    verdict, reason = decide(outcome, check_results, spec.fail_on_warn, cause)
    return {
        **loss_fields(outcome, monitor),
        "verdict": verdict,
        "reason": reason,
        "checks": check_results,
        "duration_s": round(time.perf_counter() - started, 3),
        "device": str(device),
        "mode": "task",
        "entrypoint": spec.entrypoint,
        "notes": [n for n in [*notes, dropout.note] if n],
    }


def _loss_spy(ctx: Context, fixed_floor: float | None) -> tuple[LossSpy, list[str]]:
    """The spy the loop's first step settles (a derived floor for the monitor, a report note);
    loss_at_init and finite read what it saw from ``ctx.shared``."""
    spy, notes = LossSpy(), []
    ctx.shared["loss_spy"] = spy
    ctx.shared["first_step"] = lambda loss: notes.append(spy.settle(ctx.monitor, fixed_floor, loss))
    return spy, notes


def loss_fields(outcome: LoopOutcome, monitor: Monitor) -> ResultRecord:
    finite = [v for v in outcome.losses if v is not None]
    return {
        "steps": outcome.steps,
        "losses": outcome.losses,
        "initial_loss": monitor.first,
        "final_loss": outcome.losses[-1] if outcome.losses else None,
        "best_loss": min(finite) if finite else None,
        "best_step": monitor.best_step,
        "target": monitor.target,
        "floor": monitor.floor,
        "target_step": monitor.target_step,
        "event_step": outcome.decision.step if outcome.decision.verdict == "fail" else None,
        # What happened there (nonfinite, below_floor, diverged, stalled, budget): reports label it.
        "event_kind": outcome.decision.kind if outcome.decision.verdict == "fail" else None,
        "loop_s": round(outcome.seconds, 4),
    }
