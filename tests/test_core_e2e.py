"""End-to-end: the real CLI on the bundled examples and on deliberately broken tasks."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gate.result import Result
from tests.conftest import ROOT

# Every test runs the real CLI in a subprocess, most of them training: the slow loop.
pytestmark = pytest.mark.slow

BROKEN = "tests/tasks/broken.py"


@pytest.mark.parametrize(
    "entry",
    ["examples/mlp_classifier.py:make_task", "examples/cnn_bn_dropout.py:make_task", "examples/tiny_gpt.py:make_task"],
)
def test_examples_pass(gate_cli, entry: str, tmp_path: Path) -> None:
    code, result, output = gate_cli("run", "--entrypoint", entry)
    assert code == 0, output
    assert result is not None
    r = Result.model_validate(result)  # the contract, validated
    assert r.verdict == "pass" and r.mode == "task" and r.schema_version == 1
    assert r.final_loss is not None and r.target is not None and r.best_loss is not None
    assert r.best_loss <= r.target
    assert len(r.losses) == r.steps and r.steps < 500  # early stop after confirmation
    assert r.torch_version.startswith("2.") and r.device == "cpu"
    assert r.config["entrypoint"] == entry
    assert (tmp_path / "report" / "loss.csv").read_text().startswith("step,loss\n0,")
    assert "PASS" in output


@pytest.mark.parametrize(
    ("func", "kind"),
    [
        ("sign_flipped", "below its floor|at or below the floor"),
        ("mse_sign_flipped", "below its floor"),
        ("nan_loss", "nan"),
        ("diverges", "diverged"),
    ],
)
def test_broken_tasks_fail(gate_cli, func: str, kind: str) -> None:
    code, result, output = gate_cli("run", "--entrypoint", f"{BROKEN}:{func}", "--steps", "200")
    assert code == 1, output
    assert result["verdict"] == "fail"
    assert re.search(kind, result["reason"]), result["reason"]
    assert result["steps"] < 200  # fail fast


def test_lr_zero_fails_fast(gate_cli) -> None:
    code, result, output = gate_cli("run", "--entrypoint", f"{BROKEN}:lr_zero", "--patience", "50")
    assert code == 1, output
    assert result["verdict"] == "fail"
    assert result["steps"] < 150  # stalled long before the 500-step budget


def test_a_loss_still_falling_at_the_budget_gets_more_steps(gate_cli) -> None:
    code, result, output = gate_cli("run", "--entrypoint", f"{BROKEN}:healthy", "--steps", "20")
    assert code == 0, output
    assert 20 < result["steps"] <= 80 and "budget of 20 steps was extended to" in result["reason"]
    code, result, output = gate_cli("run", "--entrypoint", f"{BROKEN}:healthy", "--steps", "20", "--max-steps", "20")
    assert code == 1 and result["steps"] == 20, output
    assert "it is still improving: raise `steps` (to about" in result["reason"]


def test_loss_floor_from_task(gate_cli) -> None:
    code, result, output = gate_cli("run", "--entrypoint", f"{BROKEN}:with_floor")
    assert code == 0, output
    assert result["floor"] == pytest.approx(0.4851, abs=1e-3)
    # Without the declared floor the same pipeline cannot reach 1% of its first loss.
    code, result, _ = gate_cli("run", "--entrypoint", f"{BROKEN}:with_floor", "--loss-floor", "0", "--steps", "150")
    assert code == 1


def test_exception_is_an_error_with_traceback(gate_cli) -> None:
    code, result, output = gate_cli("run", "--entrypoint", f"{BROKEN}:raises")
    assert code == 3, output
    assert result["verdict"] == "error"
    assert result["error"]["type"] == "ValueError"
    assert "shape mismatch in my_loss" in result["reason"]
    assert "broken.py" in result["error"]["traceback"]


def test_out_of_memory_is_named(gate_cli) -> None:
    code, result, _ = gate_cli("run", "--entrypoint", f"{BROKEN}:oom")
    assert code == 3 and result["error"]["type"] == "OutOfMemory"
    assert "out of memory" in result["reason"]


def test_hang_is_killed_at_timeout(gate_cli) -> None:
    t0 = time.monotonic()
    code, result, output = gate_cli("run", "--entrypoint", f"{BROKEN}:hangs", "--timeout", "4")
    assert code == 3, output
    assert time.monotonic() - t0 < 30
    assert result["verdict"] == "error" and result["error"]["type"] == "Timeout"
    assert "4s timeout" in result["reason"]


def test_hang_kills_the_whole_process_group(tmp_path: Path) -> None:
    script = tmp_path / "spawn.py"
    marker = tmp_path / "child.pid"
    script.write_text(
        "import subprocess, sys, time, torch\n"
        f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"open({str(marker)!r}, 'w').write(str(p.pid))\n"
        "def make_task():\n"
        "    time.sleep(600)\n"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gate",
            "run",
            "--entrypoint",
            f"{script}:make_task",
            # Long enough for the harness to import torch and load the file on a loaded machine
            # (4 s was not: the child was never started, the marker never written).
            "--timeout",
            "30",
            "--out",
            str(tmp_path / "r"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3
    assert marker.is_file(), "the entry file never ran: the timeout was too short for this machine"
    pid = int(marker.read_text())
    time.sleep(0.5)
    with contextlib.suppress(FileNotFoundError):  # gone, or a zombie: either way it no longer runs
        assert "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_missing_entrypoint_file_is_usage_error(gate_cli) -> None:
    code, _result, output = gate_cli("run", "--entrypoint", "nope/missing.py:make_task")
    assert code == 2
    assert "not found" in output and "working-directory" in output


def test_working_directory_in_pyproject_is_where_the_run_happens(gate_cli, tmp_path: Path) -> None:
    # Regression: the key was accepted from pyproject.toml and then ignored for the run.
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "task.py").write_text((ROOT / BROKEN).read_text())
    (tmp_path / "pyproject.toml").write_text('[tool.overfit-gate]\nworking-directory = "sub"\n')
    code, result, output = gate_cli("run", "--entrypoint", "task.py:healthy", cwd=tmp_path)
    assert code == 0, output
    assert result is not None and result["config"]["working_directory"] == "sub"


def test_missing_function_is_usage_error(gate_cli) -> None:
    code, result, output = gate_cli("run", "--entrypoint", f"{BROKEN}:no_such_function")
    assert code == 2, output
    assert result["verdict"] == "error" and result["error"]["type"] == "EntrypointError"
    assert "no function 'no_such_function'" in result["reason"] and "healthy" in result["reason"]


def test_task_contract_violation_is_usage_error(gate_cli) -> None:
    code, result, _ = gate_cli("run", "--entrypoint", f"{BROKEN}:missing_loss")
    assert code == 2 and "without 'loss'" in result["reason"]


def test_detached_loss_is_explained(gate_cli) -> None:
    code, result, _ = gate_cli("run", "--entrypoint", f"{BROKEN}:detached_loss")
    assert code == 3 and "does not require grad" in result["reason"]


def test_bad_config_key_exits_2_with_hint(gate_cli, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.overfit-gate]\nstep = 10\n")
    code, _, output = gate_cli("run", "--entrypoint", f"{ROOT}/{BROKEN}:healthy", cwd=tmp_path)
    assert code == 2
    assert "unknown config key `step`" in output and "did you mean `steps`" in output


def test_bad_flag_exits_2(gate_cli) -> None:
    code, _, output = gate_cli("run", "--stepz", "3")
    assert code == 2 and "--stepz" in output


def test_nothing_to_run_exits_2(gate_cli) -> None:
    code, _, output = gate_cli("run")
    assert code == 2 and "nothing to run" in output


def test_seed_makes_runs_identical(gate_cli, tmp_path: Path) -> None:
    runs = []
    for i in range(2):
        out = tmp_path / f"r{i}"
        code, result, _ = gate_cli("run", "--entrypoint", f"{BROKEN}:healthy", out=out)
        assert code == 0
        runs.append(result["losses"])
    assert runs[0] == runs[1]


def test_stale_result_is_removed(gate_cli, tmp_path: Path) -> None:
    out = tmp_path / "report"
    out.mkdir()
    (out / "result.json").write_text(json.dumps({"schema": 1, "verdict": "pass", "reason": "old"}))
    code, result, _ = gate_cli("run", "--entrypoint", "nope.py:f", out=out)
    assert code == 2
    # The stale pass is gone, never mistaken for this run's: the report says why nothing ran.
    assert result["verdict"] == "error" and result["error"]["type"] == "EntrypointError"
    assert "nope.py not found" in result["reason"]


def test_config_error_still_writes_report(gate_cli, tmp_path: Path) -> None:
    code, result, output = gate_cli("run", "--entrypoint", f"{BROKEN}:healthy", env={"OVERFIT_GATE_TARGET_RATIOS": "1"})
    assert code == 2 and "did you mean `target-ratio`" in output
    assert result["verdict"] == "error" and result["error"]["type"] == "ConfigError"


def test_help_does_not_import_torch() -> None:
    code = "import sys; from gate.cli import main\ntry: main(['--help'])\nexcept SystemExit: pass\nprint('torch' in sys.modules, 'pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT).stdout
    assert out.strip().splitlines()[-1] == "False False"


def test_version() -> None:
    out = subprocess.run([sys.executable, "-m", "gate", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.startswith("overfit-gate ")
