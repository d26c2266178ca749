"""Script mode: unmodified training scripts gated in-process (the harness entry point, as
the local runner starts it) and through the real CLI for the contract."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from torch.optim import optimizer as optim_mod
from torch.utils.data import DataLoader

from gate.harness.__main__ import main as harness_main
from gate.harness.script import command
from gate.harness.task import TaskError
from gate.result import Result
from tests.conftest import ROOT

SCRIPTS = ROOT / "examples" / "scripts"
Harness = Callable[..., tuple[int, dict[str, Any]]]


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Harness:
    """Run the harness in this process on ``command`` (cwd = the repo root unless given)."""

    def _run(*cmd: str, cwd: Path = ROOT, **spec: Any) -> tuple[int, dict[str, Any]]:
        out = tmp_path / "out"
        spec_path = tmp_path / "spec.json"
        spec_path.write_text(json.dumps({"mode": "script", "command": list(cmd), "out": str(out), **spec}))
        monkeypatch.chdir(cwd)
        code = harness_main(["--spec", str(spec_path)])
        return code, json.loads((out / "result.json").read_text())

    return _run


def write(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return str(path)


def check(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in result["checks"] if c["name"] == name)


# A small training loop reused by the error-case scripts; {body} goes inside the step loop.
LOOP = """
import sys, torch
from torch import nn
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 3))
opt = torch.optim.Adam(model.parameters(), lr=0.05)
x, y = torch.randn(8, 4), torch.randint(0, 3, (8,))
for step in range({steps}):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
{body}
    opt.step()
"""


# ---- the command line


@pytest.mark.parametrize(
    ("cmd", "kind", "name", "args"),
    [
        (["python", "train.py", "--lr", "3"], "path", "train.py", ["--lr", "3"]),
        (["python3", "-u", "-W", "ignore", "train.py"], "path", "train.py", []),
        ([sys.executable, "-m", "pkg.train", "--x"], "module", "pkg.train", ["--x"]),
        (["train.py", "a"], "path", "train.py", ["a"]),
    ],
)
def test_parse_command(cmd: list[str], kind: str, name: str, args: list[str]) -> None:
    target = command.parse(cmd)
    assert (target.kind, target.name, target.args) == (kind, name, args)


@pytest.mark.parametrize("cmd", [["deepspeed", "train.py"], ["python", "-c", "print(1)"], ["python"], ["python", "-m"]])
def test_unsupported_commands_are_usage_errors(cmd: list[str]) -> None:
    with pytest.raises(TaskError):
        command.parse(cmd)


def test_missing_script_is_a_usage_error(harness: Harness) -> None:
    code, result = harness("python", "no/such/train.py")
    assert code == 2 and result["verdict"] == "error"
    assert "not found" in result["reason"]


# ---- examples pass


@pytest.mark.slow
def test_dataloader_example_passes_through_the_cli(gate_cli, tmp_path: Path) -> None:
    code, result, output = gate_cli(
        "run", "--", "python", "examples/scripts/train_mlp.py", "--ckpt-dir", str(tmp_path / "ckpt")
    )
    assert code == 0, output
    r = Result.model_validate(result)
    assert r.mode == "script" and r.verdict == "pass" and r.steps < 500
    assert r.pinning is not None and r.pinning.startswith("DataLoader")
    assert r.command == ["python", "examples/scripts/train_mlp.py", "--ckpt-dir", str(tmp_path / "ckpt")]
    assert {c.name: c.status for c in r.checks}["grads_zeroed"] == "pass"
    assert "val loss" in output  # the script's own eval pass ran (and ended) between steps


def test_nanogpt_example_passes_by_module_replay(harness: Harness) -> None:
    code, result = harness("python", str(SCRIPTS / "train_nanogpt.py"))
    assert code == 0, result["reason"]
    assert result["pinning"].startswith("module replay") and "GPT" in result["pinning"]
    assert result["losses"][-1] < 0.05 * result["losses"][0]
    statuses = {c["name"]: c["status"] for c in result["checks"]}
    assert statuses["input_dependence"] == "pass"  # the script was run again with `idx` zeroed, `targets` kept
    assert set(statuses.values()) <= {"pass", "skip"}, result["checks"]


def test_python_dash_m_with_own_argv(harness: Harness, tmp_path: Path) -> None:
    pkg = tmp_path / "mypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    header = 'import os, sys, json\nassert __name__ == "__main__"\n'
    header += 'json.dump({"argv": sys.argv[1:], "cwd": os.getcwd()}, open("seen.json", "w"))\n'
    (pkg / "train.py").write_text(header + LOOP.format(steps=2000, body="    loss.backward()"))
    code, result = harness(sys.executable, "-m", "mypkg.train", "--flag", "v", cwd=tmp_path)
    assert code == 0, result["reason"]
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen == {"argv": ["--flag", "v"], "cwd": str(tmp_path)}
    assert sys.argv[1:] != ["--flag", "v"]  # argv given back


# ---- broken twins fail for the right reason


@pytest.mark.parametrize(
    ("script", "name", "words"),
    [
        ("broken_no_zero_grad.py", "grads_zeroed", "never zeroed"),
        ("broken_clip_zero.py", "grads_clipped", "exactly zero when optimizer.step"),
        ("broken_negated_loss.py", "loss_direction", "wrong way"),
        ("broken_frozen_encoder.py", "gradient_flow", "encoder"),
        ("broken_self_labels.py", "input_dependence", "inputs of MLP zeroed the loss still fell to"),
    ],
)
def test_broken_twins_fail(harness: Harness, script: str, name: str, words: str) -> None:
    code, result = harness("python", str(SCRIPTS / script), steps=120)
    assert code == 1, result["reason"]
    assert result["verdict"] == "fail"
    found = check(result, name)
    assert found["status"] == "fail" and words in found["message"], found


def test_fail_stops_early(harness: Harness) -> None:
    code, result = harness("python", str(SCRIPTS / "broken_no_zero_grad.py"))
    assert code == 1 and result["steps"] <= 16  # stopped at the first sync, not after 500 steps
    assert result["reason"].startswith("stopped at step 16")


# ---- errors and early exits


def test_no_backward_is_an_error(harness: Harness, tmp_path: Path) -> None:
    script = "import torch\nmodel = torch.nn.Linear(4, 2)\nfor _ in range(5):\n    model(torch.randn(3, 4))\n"
    code, result = harness("python", write(tmp_path, "t.py", script))
    assert code == 3 and result["error"]["type"] == "NoBackward"
    assert "never called .backward()" in result["reason"] and "optimizer.step() ran 0 times" in result["reason"]


def test_loss_stepped_without_backward_is_a_fail(harness: Harness, tmp_path: Path) -> None:
    # A loss computed with gradients, optimizer.step() called, backward forgotten: nothing
    # trains. A silent bug (Lightning's training_step without `return loss`), not an error.
    code, result = harness("python", write(tmp_path, "t.py", LOOP.format(steps=5, body="    pass")))
    assert code == 1 and result["verdict"] == "fail"
    assert "optimizer.step() ran 5 times, but .backward() was never called" in result["reason"]


def test_crash_is_an_error_with_traceback(harness: Harness, tmp_path: Path) -> None:
    body = "    loss.backward()\n    if step == 3:\n        raise ValueError('bad shape in my loop')"
    code, result = harness("python", write(tmp_path, "crashy.py", LOOP.format(steps=100, body=body)))
    assert code == 3 and result["error"]["type"] == "ValueError"
    assert "bad shape in my loop" in result["reason"] and "crashy.py" in result["error"]["traceback"]


def test_loss_not_found(harness: Harness, tmp_path: Path) -> None:
    body = "    out = model(x)\n    out.backward(torch.ones_like(out))"
    code, result = harness("python", write(tmp_path, "t.py", LOOP.format(steps=5, body=body)))
    assert code == 3 and result["error"]["type"] == "LossNotFound"
    assert "could not find the loss" in result["reason"] and "(8, 3)" in result["reason"]


@pytest.mark.parametrize(("stop", "verdict"), [(8, "not_applicable"), (30, "pass")])
def test_exit_zero_before_verdict_decides_on_what_was_seen(
    harness: Harness, tmp_path: Path, stop: int, verdict: str
) -> None:
    body = f"    loss.backward()\n    if step == {stop}:\n        sys.exit(0)"
    code, result = harness("python", write(tmp_path, "t.py", LOOP.format(steps=1000, body=body)))
    assert (code, result["verdict"]) == ({"pass": 0, "not_applicable": 4}[verdict], verdict)
    assert result["steps"] == stop and len(result["losses"]) == stop
    if verdict == "pass":  # at the target for its last steps (at least 5), until it ended itself
        assert "until the script called sys.exit(0)" in result["reason"]
    else:  # 8 steps tell nothing: never a bug diagnosis, and the reason says what to change
        assert (
            f"not applicable: the script called sys.exit(0) after {stop} steps, short of the target" in result["reason"]
        )
        assert "too short a run to judge" in result["reason"] and "raise its epochs or iterations" in result["reason"]


def test_nonzero_exit_is_an_error(harness: Harness, tmp_path: Path) -> None:
    body = "    loss.backward()\n    if step == 3:\n        sys.exit(4)"
    code, result = harness("python", write(tmp_path, "t.py", LOOP.format(steps=100, body=body)))
    assert code == 3 and "exited with code 4" in result["reason"]


def test_stop_is_not_swallowed_by_except_exception(harness: Harness, tmp_path: Path) -> None:
    script = """
        import torch
        from torch import nn
        model = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 3))
        opt = torch.optim.Adam(model.parameters(), lr=0.05)
        x, y = torch.randn(8, 4), torch.randint(0, 3, (8,))
        while True:  # only the gate can end this loop
            try:
                opt.zero_grad()
                nn.functional.cross_entropy(model(x), y).backward()
                opt.step()
            except Exception:
                print("swallowed")
    """
    code, result = harness("python", write(tmp_path, "t.py", script))
    assert code == 0, result["reason"]
    assert result["steps"] < 500


# ---- pinning options


def test_pin_module_on_a_dataloader_script(harness: Harness, tmp_path: Path) -> None:
    _code, result = harness(
        "python", str(SCRIPTS / "train_mlp.py"), "--ckpt-dir", str(tmp_path), pin="module", steps=40
    )
    assert result["pinning"].startswith("module replay") and "MLP" in result["pinning"]


def test_pin_off_trains_on_real_batches(harness: Harness, tmp_path: Path) -> None:
    code, result = harness("python", str(SCRIPTS / "train_mlp.py"), "--ckpt-dir", str(tmp_path), pin="off", steps=30)
    assert code == 1 and result["pinning"].startswith("not pinned (pin = off)")
    assert "the script returned" not in result["reason"]  # the epoch loop went on long enough


# ---- the process is left as it was


def _torch_state() -> dict[str, Any]:
    return {
        "tensor_backward": torch.Tensor.__dict__["backward"],
        "autograd_backward": torch.autograd.backward,
        "module_call": torch.nn.Module.__dict__["__call__"],
        "optimizer_init": torch.optim.Optimizer.__dict__["__init__"],
        "loader_iter": DataLoader.__dict__["__iter__"],
        "scaler_scale": torch.amp.GradScaler.__dict__["scale"],
        "post_hooks": dict(optim_mod._global_optimizer_post_hooks),
        "pre_hooks": dict(optim_mod._global_optimizer_pre_hooks),
        "argv": list(sys.argv),
        "path": list(sys.path),
        "main": sys.modules["__main__"],
    }


@pytest.mark.parametrize("body", ["    loss.backward()", "    loss.backward()\n    raise RuntimeError('boom')"])
def test_patches_are_restored(harness: Harness, tmp_path: Path, body: str) -> None:
    before = _torch_state()
    harness(
        "python", write(tmp_path, "t.py", "import os\nos.chdir('/')\n" + LOOP.format(steps=50, body=body)), steps=20
    )
    assert _torch_state() == before
    assert os.getcwd() == str(ROOT)
    # and torch works as before: backward and step with nothing listening
    model = torch.nn.Linear(2, 1)
    model(torch.ones(1, 2)).sum().backward()
    assert model.weight.grad is not None


def test_grad_scaler_loss_is_unscaled(harness: Harness, tmp_path: Path) -> None:
    script = LOOP.format(steps=3, body="    scaler.scale(loss).backward()")
    script = script.replace("for step in", "scaler = torch.amp.GradScaler('cpu', init_scale=1024.0)\nfor step in")
    script = script.replace("    opt.step()", "    scaler.step(opt)\n    scaler.update()")
    code, result = harness("python", write(tmp_path, "amp.py", script), steps=3)
    assert result["steps"] == 3 and code == 1  # three steps are too few to pass
    assert 0.5 < result["losses"][0] < 3.0  # cross-entropy over 3 classes, not 1024x that


def test_zero_grad_without_set_to_none_counts_as_zeroed(harness: Harness, tmp_path: Path) -> None:
    script = LOOP.format(steps=1000, body="    loss.backward()").replace(
        "opt.zero_grad()", "opt.zero_grad(set_to_none=False)"
    )
    code, result = harness("python", write(tmp_path, "t.py", script))
    assert code == 0, result["reason"]
    assert check(result, "grads_zeroed")["status"] == "pass"


def test_gradient_accumulation_sums_the_micro_batch_losses(harness: Harness, tmp_path: Path) -> None:
    # Two backwards of loss/2 per optimizer step: one step, whose loss is the full loss.
    body = "    (loss / 2).backward()\n    (nn.functional.cross_entropy(model(x), y) / 2).backward()"
    code, result = harness("python", write(tmp_path, "t.py", LOOP.format(steps=1000, body=body)))
    assert code == 0, result["reason"]
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.Tanh(), torch.nn.Linear(32, 3))
    x, y = torch.randn(8, 4), torch.randint(0, 3, (8,))
    assert result["losses"][0] == pytest.approx(torch.nn.functional.cross_entropy(model(x), y).item(), rel=1e-5)
    assert check(result, "grads_zeroed")["status"] == "pass"
