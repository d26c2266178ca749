"""Script mode around ``torch.compile`` and parallel wrappers: the gate looks through
OptimizedModule / DDP / DataParallel to the real module (its signature names the labels,
its forward is what the probes run), and its own ``nn.Module.__call__`` instrumentation
stays out of dynamo's tracing: no graph break or recompile the plain script does not have."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import cast

import pytest
import torch
from torch import nn

from gate.harness.script.context import _param_names
from gate.harness.script.patches import Patcher, install
from gate.harness.script.pinning import unwrap
from gate.harness.script.session import Session
from gate.harness.spec import Spec
from gate.harness.verdict import Monitor


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 16)
        self.blocks = nn.ModuleList([nn.Sequential(nn.LayerNorm(16), nn.Linear(16, 16)) for _ in range(2)])
        self.head = nn.Linear(16, 10)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.emb(idx)
        for b in self.blocks:
            x = x + b(x)
        logits = self.head(x)
        return logits, nn.functional.cross_entropy(logits.view(-1, 10), targets.view(-1))


def test_unwrap_looks_through_compile_and_data_parallel() -> None:
    m = Tiny()
    # torch.compile's stubs return a callable; at run time it is an nn.Module (OptimizedModule).
    compiled = cast(nn.Module, torch.compile(m, backend="eager"))
    assert unwrap(compiled) is m and unwrap(nn.DataParallel(m)) is m and unwrap(m) is m
    assert unwrap(cast(nn.Module, torch.compile(nn.DataParallel(m), backend="eager"))) is m
    assert _param_names(unwrap(compiled)) == ["idx", "targets"]  # OptimizedModule.forward(*args, **kwargs): none


def _train_compiled(steps: int, session: Session | None = None) -> dict[str, int]:
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    torch.manual_seed(0)
    plain = Tiny()
    model = cast(nn.Module, torch.compile(plain, backend="eager"))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    idx, tgt = torch.randint(0, 10, (4, 8)), torch.randint(0, 10, (4, 8))

    @torch.compile(backend="eager")
    def compiled_loss(i: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return plain(i, t)[1]  # a compiled function calling the module: traced from the outermost call

    for step in range(steps):
        loss = compiled_loss(idx, tgt) if step % 2 else model(idx, tgt)[1]
        loss.backward()
        opt.step()
        opt.zero_grad()
    with torch.no_grad():  # an eval pass: a recompile for grad mode in both runs
        model(idx, tgt)
        if session is not None:
            # The gate's state changes while the script runs (its checks run "quietly"): a
            # traced wrapper would guard on it and recompile here.
            with session.quietly():
                model(idx, tgt)
        else:
            model(idx, tgt)
    return {"graph_breaks": sum(counters["graph_break"].values()), "graphs": counters["stats"]["unique_graphs"]}


@pytest.mark.skipif(sys.platform == "win32", reason="torch.compile is not supported on Windows")
def test_instrumentation_adds_no_graph_break_or_recompile(tmp_path: Path) -> None:
    plain = _train_compiled(4)
    spec = Spec(mode="script", command=["python", "x.py"], out=str(tmp_path), steps=100)
    session = Session(spec, Monitor(steps=100), [], log=lambda line: None)
    patcher = Patcher()
    install(session, patcher, pin_loaders=True)
    try:
        gated = _train_compiled(4, session)
    finally:
        patcher.restore()
    assert session.step == 4 and isinstance(session.modules.top, Tiny)  # looked through OptimizedModule
    assert gated == plain, (plain, gated)
