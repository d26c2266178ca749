"""Harness loop (checks off) vs a bare hand-written loop: same model, batch, optimizer,
steps, run side by side and interleaved. Target: ratio <= 1.05.

    python benchmarks/overhead.py [--steps 200] [--repeats 7] [--device cpu]

The bare loop logs ``loss.item()`` every step, as hand-written loops do; the harness keeps
losses on the device and reads them back every ``sync_every`` steps.
"""

from __future__ import annotations

import argparse
import copy
import platform

import torch
from _common import EXAMPLES, load_task, paired, table, timed

from gate.harness.batch import default_forward, input_keys, to_device
from gate.harness.check_api import Context
from gate.harness.loop import build_optimizer, train
from gate.harness.spec import Spec
from gate.harness.verdict import Monitor


def bare_loop(model: torch.nn.Module, batch: object, loss_fn, opt: torch.optim.Optimizer, steps: int) -> list[float]:
    losses = []
    model.train()
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model, batch)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def harness_loop(
    model: torch.nn.Module, batch: object, loss_fn, opt: torch.optim.Optimizer, steps: int, device: torch.device
) -> None:
    spec = Spec(steps=steps, skip_checks=["*"])
    # A monitor that never stops early, so both loops run exactly `steps` steps.
    monitor = Monitor(
        steps=steps, target_loss=-1.0, floor=-2.0, confirm_steps=steps, divergence_factor=1e12, patience=10**9
    )
    ctx = Context(
        spec=spec,
        model=model,
        batch=batch,
        loss_fn=loss_fn,
        optimizer=opt,
        forward=default_forward(batch),
        input_keys=input_keys(batch),
        device=device,
        monitor=monitor,
    )
    out = train(ctx, monitor, checks=())
    assert out.steps == steps, out.steps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--examples", default=",".join(EXAMPLES))
    args = ap.parse_args()
    device = torch.device(args.device)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    rows = []
    for name in args.examples.split(","):
        task = load_task(EXAMPLES[name])
        base_model = task.model.to(device)
        batch = to_device(task.batch, device)

        def fresh(task=task, base_model=base_model):
            model = copy.deepcopy(base_model)
            return model, build_optimizer(task.optimizer, model)

        def sync() -> None:
            if device.type == "cuda":
                torch.cuda.synchronize()

        def run_bare(task=task, batch=batch) -> None:
            m, o = fresh()
            bare_loop(m, batch, task.loss, o, args.steps)
            sync()

        def run_gate(task=task, batch=batch) -> None:
            m, o = fresh()
            harness_loop(m, batch, task.loss, o, args.steps, device)
            sync()

        run_bare(), run_gate()  # warm-up (allocator, kernels, lazy init)
        t = paired({"bare": timed(run_bare), "gate": timed(run_gate)}, args.repeats)
        rows.append((f"{name} ({args.steps} steps)", t["bare"], t["gate"]))
    print(
        f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, device {device}, "
        f"threads {torch.get_num_threads()}, repeats {args.repeats} (interleaved)"
    )
    print(table("Harness loop (checks off) vs bare loop", rows, "bare loop", "harness loop"))


if __name__ == "__main__":
    main()
