"""The docker runner against a real Docker engine (started by the session fixture if needed):
the same verdicts and exit codes as the local runner, the container always removed, timeouts,
cancellation, OOM, no network and none of our environment inside, and clear start-up errors."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from gate.config import Config
from gate.result import Result
from gate.runners.base import Job
from gate.runners.docker import PIDS_LIMIT, DockerRunner
from tests.conftest import ROOT
from tests.docker_support import Images, containers, docker_images

pytestmark = [pytest.mark.docker, pytest.mark.slow]
__all__ = ["docker_images"]  # the session fixture, imported for pytest

TASKS = "docker_tasks.py"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A workspace with the example and the test tasks, as a checkout would be."""
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copy(ROOT / "examples" / "mlp_classifier.py", ws)
    shutil.copy(ROOT / "tests" / "tasks" / TASKS, ws)
    shutil.copy(ROOT / "tests" / "tasks" / "broken.py", ws)
    return ws


def _docker(images: Images, *extra: str) -> list[str]:
    name = f"test-{uuid.uuid4().hex[:8]}"
    return ["--runner", "docker", "--image", images.train, "--gpus", "0", "--name", name, *extra]


def _name(argv: list[str]) -> str:
    return argv[argv.index("--name") + 1]


@pytest.mark.parametrize(
    ("entry", "code", "verdict"),
    [
        ("mlp_classifier.py:make_task", 0, "pass"),
        ("broken.py:lr_zero", 1, "fail"),
    ],
)
def test_same_verdict_as_local_runner(
    gate_cli, docker_images: Images, ws: Path, entry: str, code: int, verdict: str
) -> None:
    argv = _docker(docker_images)
    quick = ["--patience", "40"]  # the lr=0 pipeline fails fast anyway; a short patience bounds it
    d_code, d_result, d_out = gate_cli("run", "--entrypoint", entry, *quick, *argv, cwd=ws, out=ws / "docker-report")
    l_code, l_result, l_out = gate_cli(
        "run", "--entrypoint", entry, *quick, "--runner", "local", cwd=ws, out=ws / "local-report"
    )
    assert (d_code, l_code) == (code, code), d_out + l_out
    assert d_result is not None and l_result is not None
    d, loc = Result.model_validate(d_result), Result.model_validate(l_result)
    assert d.verdict == loc.verdict == verdict
    # Same torch, same seed, same CPU: the runs are the same run.
    assert d.steps == loc.steps
    assert d.final_loss == pytest.approx(loc.final_loss, rel=1e-3)
    assert [c.status for c in d.checks] == [c.status for c in loc.checks]
    assert d.torch_version == "2.13.0+cpu" and d.device == "cpu"
    assert f"running in {docker_images.train}" in d_out
    assert "step" in d_out  # the training log was streamed
    assert containers(_name(argv)) == []  # removed afterwards
    for f in ("result.json", "loss.csv", "loss.png", "report.md"):
        assert (ws / "docker-report" / f).is_file()


def test_network_off_and_no_environment_inside(gate_cli, docker_images: Images, ws: Path) -> None:
    argv = _docker(docker_images)
    code, _, out = gate_cli(
        "run",
        "--entrypoint",
        f"{TASKS}:probe",
        *argv,
        "--no-publish",
        cwd=ws,
        out=ws / "report",
        env={"GITHUB_TOKEN": "ghs_secret", "INPUT_GITHUB-TOKEN": "ghs_secret", "MY_VAR": "1"},
    )
    assert code == 0, out
    evidence = json.loads((ws / "report" / "evidence.json").read_text())
    assert evidence["interfaces"] == ["lo"]  # network_mode none: loopback only
    inside = set(evidence["env"])
    assert not inside & {"GITHUB_TOKEN", "INPUT_GITHUB-TOKEN", "MY_VAR"}
    assert not any(k.startswith(("GITHUB_", "INPUT_")) for k in inside)
    # Files the pipeline writes belong to whoever owns the workspace, not to root by accident.
    assert (evidence["uid"], evidence["gid"]) == (ws.stat().st_uid, ws.stat().st_gid)
    assert containers(_name(argv)) == []


def test_network_is_opt_in(gate_cli, docker_images: Images, ws: Path) -> None:
    argv = _docker(docker_images, "--network")
    code, _, out = gate_cli("run", "--entrypoint", f"{TASKS}:probe", *argv, cwd=ws, out=ws / "report")
    assert code == 0, out
    assert "eth0" in json.loads((ws / "report" / "evidence.json").read_text())["interfaces"]


def test_the_container_is_hardened_and_cannot_write_the_workspace(gate_cli, docker_images: Images, ws: Path) -> None:
    """No capability, no privilege gain, a pids limit; the checkout is read-only (no hook planted
    in .git for a later job on a self-hosted runner) while $HOME and the out folder are writable."""
    (ws / ".git" / "hooks").mkdir(parents=True)
    argv = _docker(docker_images)
    code, _, out = gate_cli("run", "--entrypoint", f"{TASKS}:probe", *argv, cwd=ws, out=ws / "report")
    assert code == 0, out
    evidence = json.loads((ws / "report" / "evidence.json").read_text())
    assert int(evidence["cap_eff"], 16) == 0 and evidence["no_new_privs"] == "1"
    assert evidence["hook"].startswith("refused") and not (ws / ".git" / "hooks" / "pre-commit").exists()
    assert evidence["scratch"] == "written"
    assert evidence["pids_max"] == str(PIDS_LIMIT)


def test_hanging_task_is_killed_at_timeout(gate_cli, docker_images: Images, ws: Path) -> None:
    argv = _docker(docker_images, "--timeout", "6")
    t0 = time.monotonic()
    code, result, out = gate_cli("run", "--entrypoint", "broken.py:hangs", *argv, cwd=ws)
    elapsed = time.monotonic() - t0
    assert code == 3, out
    assert result is not None and result["verdict"] == "error"
    assert result["error"]["type"] == "Timeout" and "6s timeout" in result["reason"]
    assert elapsed < 40, f"took {elapsed:.0f}s"
    assert containers(_name(argv)) == []


def test_cancel_stops_and_removes_the_container(docker_images: Images, ws: Path) -> None:
    argv = _docker(docker_images)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "OVERFIT_GATE_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gate", "run", "--entrypoint", "broken.py:hangs", "--out", "report", *argv],
        cwd=ws,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not containers(_name(argv)):
        assert time.monotonic() < deadline and proc.poll() is None, "the container never appeared"
        time.sleep(0.2)
    time.sleep(2)  # let the harness start, so it can write its own 'cancelled' result
    proc.send_signal(signal.SIGTERM)  # what a cancelled workflow does
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 3, out
    result = json.loads((ws / "report" / "result.json").read_text())
    assert result["verdict"] == "error" and result["error"]["type"] == "Cancelled", result
    assert containers(_name(argv)) == []


def test_oom_killed_container_is_an_error_with_the_reason(docker_images: Images, ws: Path) -> None:
    from gate.collect import collect

    name = f"test-{uuid.uuid4().hex[:8]}"
    cfg = Config(entrypoint=f"{TASKS}:hog", runner="docker", image=docker_images.train, gpus="0", name=name)
    out = ws / "report"
    spec = {"mode": "task", "entrypoint": cfg.entrypoint, "out": str(out), "name": name}
    job = Job(spec=spec, out_dir=out, workdir=ws, timeout=120, config=cfg, env=dict(os.environ))
    lines: list[str] = []
    # Not a config key: a memory limit far below what the task touches, so the kernel kills it.
    outcome = DockerRunner(mem_limit="400m", memswap_limit="400m").run(job, lines.append)
    assert outcome.error_type == "OutOfMemory", (outcome, lines[-20:])
    assert "OOMKilled" in (outcome.error or "")
    result = collect(outcome, out, {"mode": "task", "name": name}, 120)
    assert result.verdict == "error" and result.error is not None and result.error.type == "OutOfMemory"
    assert containers(name) == []


def test_gpu_requested_on_a_machine_without_gpus(gate_cli, docker_images: Images, ws: Path) -> None:
    argv = _docker(docker_images)
    argv[argv.index("--gpus") + 1] = "1"
    code, _, out = gate_cli("run", "--entrypoint", "mlp_classifier.py:make_task", *argv, cwd=ws)
    assert code == 3, out
    assert "gpus: 1" in out and "without GPUs" in out
    assert "gpus: 0" in out  # the hint: how to run on the CPU instead
    assert containers(_name(argv)) == []


def test_missing_image(gate_cli, docker_images: Images, ws: Path) -> None:
    argv = _docker(docker_images)
    argv[argv.index("--image") + 1] = "overfit-gate-test/no-such-image:1"
    code, _, out = gate_cli("run", "--entrypoint", "mlp_classifier.py:make_task", *argv, cwd=ws)
    assert code == 3, out
    assert "overfit-gate-test/no-such-image:1 is not on this Docker host and could not be pulled" in out
    assert "docker build" in out


def test_no_daemon(gate_cli, ws: Path, tmp_path: Path) -> None:
    # Needs no engine: a socket path where nothing listens.
    code, result, out = gate_cli(
        "run",
        "--entrypoint",
        "mlp_classifier.py:make_task",
        "--runner",
        "docker",
        "--image",
        "x",
        "--gpus",
        "0",
        cwd=ws,
        env={"DOCKER_HOST": f"unix://{tmp_path}/none.sock"},
    )
    assert code == 3, out
    assert f"cannot reach a Docker daemon at unix://{tmp_path}/none.sock" in out
    assert "runner: local" in out
    # The report is still written: an error result that names the runner failure.
    assert result is not None and result["verdict"] == "error" and result["error"]["type"] == "RunnerError"
    assert "cannot reach a Docker daemon" in result["reason"]


def test_dockerfile_builds_the_training_image(gate_cli, docker_images: Images, ws: Path) -> None:
    (ws / "train.Dockerfile").write_text(f"FROM {docker_images.train}\nRUN echo built-by-the-gate > /built\n")
    argv = _docker(docker_images)
    tag = f"overfit-gate-test/built:{_name(argv)}"
    argv[argv.index("--image") + 1] = tag  # with `dockerfile`, `image` names the tag to build
    try:
        code, result, out = gate_cli(
            "run", "--entrypoint", "mlp_classifier.py:make_task", "--dockerfile", "train.Dockerfile", *argv, cwd=ws
        )
        assert code == 0, out
        assert f"building {tag} from train.Dockerfile" in out and f"running in {tag}" in out
        assert result is not None and result["verdict"] == "pass"
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)
