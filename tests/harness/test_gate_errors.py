"""The gate's own side effects and errors are never the pipeline's: probes leave every
tensor a pending graph may have saved untouched, run on a bounded slice of the batch, and
a failure inside the gate's instrumentation, a check or its probe is reported as the
gate's own (GateInternalError, or ``warn: could not run``), with the phase a killed
harness died in."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
import torch

from gate.collect import collect
from gate.harness import phase
from gate.harness.check_api import Check, Context, guard
from gate.harness.checks import probe
from gate.harness.checks._util import preserved
from gate.harness.checks.batch_independence import BatchIndependence
from gate.harness.script.pinning import ModuleTracker
from gate.harness.spec import Spec
from gate.harness.verdict import Monitor
from gate.runners.base import Outcome
from tests.harness.script.test_script_mode import LOOP, Harness, harness, write  # noqa: F401 - the fixture


def _ctx(model: torch.nn.Module, x: torch.Tensor) -> Context:
    return Context(
        spec=Spec(),
        model=model,
        batch=(x,),
        loss_fn=lambda m, b: m(b[0]).sum(),
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
        forward=lambda m, b: m(b[0]),
        input_keys=[0],
        device=torch.device("cpu"),
        monitor=Monitor(steps=10),
    )


def test_probe_between_forward_and_backward_leaves_the_pending_graph_intact() -> None:
    # The mechanism behind "modified by an inplace operation" on BatchNorm models: the
    # probe must not bump the version of buffers the script's graph saved.
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 3))
    x = torch.randn(16, 4)
    model.train()
    loss = model(x).pow(2).mean()  # the script's graph, not yet backpropagated
    versions = [t._version for t in [*model.parameters(), *model.buffers()]]
    check = BatchIndependence()
    check.before(_ctx(model, x))
    assert check.outcome is not None and check.outcome["status"] == "pass"
    assert [t._version for t in [*model.parameters(), *model.buffers()]] == versions
    loss.backward()  # raised RuntimeError before the fix
    assert all(m.training for m in model.modules())


def test_preserved_gives_the_probe_its_own_buffers() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.BatchNorm1d(4))
    original = cast(torch.Tensor, model[1].running_mean)
    version = original._version
    with preserved(model, torch.device("cpu")):
        model.train()
        model(torch.randn(8, 4) + 3)  # a training-mode forward updates the probe's copy
        assert model[1].running_mean is not original
    assert model[1].running_mean is original
    assert original._version == version and torch.equal(original, torch.zeros(4))


def test_probe_runs_on_a_slice_and_falls_back_to_the_whole_batch() -> None:
    ctx = _ctx(torch.nn.Linear(4, 2), torch.randn(32, 4))
    p = probe.run(ctx, 32)
    assert isinstance(p, probe.Probe) and p.n == probe.SAMPLES and p.output.shape[0] == probe.SAMPLES

    class Baked(torch.nn.Module):  # a batch size hard-coded in a reshape
        def __init__(self) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(4, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.lin(x).view(32, 2)

    p = probe.run(_ctx(Baked(), torch.randn(32, 4)), 32)
    assert isinstance(p, probe.Probe) and p.n == 32


def test_take_slices_only_per_sample_tensors() -> None:
    batch: dict[str, Any] = {
        "x": torch.zeros(10, 3),
        "mask": torch.ones(1, 3),
        "n": torch.tensor(5),
        "k": [torch.ones(10)],
    }
    got = probe.take(batch, 10, 4)
    assert got["x"].shape == (4, 3) and got["mask"].shape == (1, 3) and got["n"].dim() == 0
    assert got["k"][0].shape == (4,)


class OutOfMemoryInProbe(Check):
    name = "oom_probe"

    def before(self, ctx: Context) -> None:
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_a_probe_out_of_memory_is_the_gates_warning() -> None:
    model = torch.nn.Linear(4, 2)
    ctx = _ctx(model, torch.randn(8, 4))
    c = guard(OutOfMemoryInProbe())
    c.before(ctx)
    (r,) = c.finish(ctx)
    assert r["status"] == "warn"
    assert r["message"].startswith("could not run: the gate's own probe ran out of memory in before")
    assert "not your pipeline" in r["hint"] and 'skip_checks = ["oom_probe"]' in r["hint"]


def test_instrumentation_error_is_the_gates_not_the_pipelines(
    harness: Harness,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(self: ModuleTracker, module: torch.nn.Module, out: Any) -> None:
        raise KeyError("bookkeeping bug")

    monkeypatch.setattr(ModuleTracker, "outer_result", broken)
    # The script's own `except Exception` must not swallow the gate's error either.
    body = "    try:\n        loss.backward()\n    except Exception:\n        pass"
    code, result = harness("python", write(tmp_path, "t.py", LOOP.format(steps=50, body=body)))
    assert code == 3
    assert result["error"]["type"] == "GateInternalError"
    assert result["reason"].startswith("overfit-gate internal error, not your pipeline")
    assert "KeyError" in result["reason"] and "bookkeeping bug" in result["error"]["traceback"]
    assert "the pipeline raised" not in result["reason"]


def test_a_killed_harness_names_its_phase(tmp_path: Path) -> None:
    phase.setup(tmp_path)
    with phase.within("the gate's own batch_independence check"):
        pass
    assert phase.read(tmp_path) == phase.TRAINING
    with phase.within("the gate's own batch_independence check"):
        r = collect(Outcome(exit_code=None, log_tail=""), tmp_path, {"mode": "script"}, 60)
    assert r.verdict == "error" and r.error is not None
    assert "during the gate's own batch_independence check" in r.reason
    assert "not your training step" in r.reason
    phase.finish()
    assert phase.read(tmp_path) is None
