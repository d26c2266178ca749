"""The gate's own image (Dockerfile) built offline on the locally built base, run as GitHub
runs a container action: workspace at /github/workspace, INPUT_* env, file commands, the host's
Docker socket mounted in; the training runs in a sibling container (runner: docker)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gate import __version__
from tests.conftest import ROOT
from tests.docker_support import Images, containers, docker_images

pytestmark = [pytest.mark.docker, pytest.mark.slow]
__all__ = ["docker_images"]

GATE_TAG = "overfit-gate-test/gate:dev"
RUNNER_UID = 4242  # the workspace owner, like the `runner` user of a hosted or self-hosted runner


def _context(tmp: Path, wheels: Path) -> Path:
    """What .dockerignore lets through, plus the offline wheelhouse in requirements/wheels/."""
    ctx = tmp / "ctx"
    ctx.mkdir()
    for name in ("Dockerfile", ".dockerignore", "pyproject.toml", "README.md"):
        if (ROOT / name).is_file():
            shutil.copy(ROOT / name, ctx)
    if not (ctx / "README.md").exists():  # pyproject's `readme`; the lead assembles the real one
        (ctx / "README.md").write_text("# overfit-gate\n")
    shutil.copytree(ROOT / "gate", ctx / "gate", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "requirements", ctx / "requirements")
    shutil.copytree(wheels, ctx / "requirements" / "wheels", ignore=shutil.ignore_patterns(".complete"))
    return ctx


@pytest.fixture(scope="module")
def gate_image(docker_images: Images, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    ctx = _context(tmp_path_factory.mktemp("gate-image"), docker_images.wheels)
    t0 = time.monotonic()
    proc = subprocess.run(
        ["docker", "build", "-q", "--build-arg", f"BASE={docker_images.base}", "-t", GATE_TAG, str(ctx)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    print(f"\ngate image built in {time.monotonic() - t0:.0f}s")
    # A rebuild after a change to gate/ leaves the previous build untagged; drop those (only
    # images of ours: the Dockerfile labels them) so repeated runs do not fill the disk.
    subprocess.run(
        ["docker", "image", "prune", "-f", "--filter", "label=org.opencontainers.image.title=overfit-gate"],
        capture_output=True,
        timeout=120,
    )
    yield GATE_TAG


def test_version_and_no_torch(gate_image: str) -> None:
    out = subprocess.run(["docker", "run", "--rm", gate_image, "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"overfit-gate {__version__}"
    # Slim: the controller never imports torch; training happens in the user's image.
    probe = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--entrypoint",
            "python",
            gate_image,
            "-c",
            "import importlib.util as u, docker, pydantic, matplotlib; print(u.find_spec('torch'))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.stdout.strip() == "None", probe.stderr
    size = int(subprocess.check_output(["docker", "image", "inspect", "-f", "{{.Size}}", gate_image]).strip())
    assert size < 600 * 2**20, f"gate image is {size / 2**20:.0f} MiB"


def test_runs_as_a_container_action(gate_image: str, docker_images: Images, tmp_path: Path) -> None:
    ws = tmp_path / "workspace"
    ws.mkdir()
    shutil.copy(ROOT / "examples" / "mlp_classifier.py", ws)
    (ws / "pyproject.toml").write_text('[tool.overfit-gate]\nentrypoint = "mlp_classifier.py:make_task"\n')
    files = tmp_path / "file_commands"
    files.mkdir()
    (files / "set_output").touch()
    (files / "step_summary").touch()
    for p in (ws, *ws.iterdir(), files, *files.iterdir()):
        shutil.chown(p, RUNNER_UID, RUNNER_UID)
    name = f"test-{uuid.uuid4().hex[:8]}"
    inputs = {  # what the runner passes for `with:` (dashes kept, unset inputs empty)
        "INPUT_SUBCOMMAND": "run",
        "INPUT_RUNNER": "docker",
        "INPUT_IMAGE": docker_images.train,
        "INPUT_GPUS": "0",
        "INPUT_NAME": name,
        "INPUT_GITHUB-TOKEN": "",
        "INPUT_STEPS": "",
        "INPUT_TARGET-RATIO": "",
    }
    github = {
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_WORKSPACE": "/github/workspace",
        "GITHUB_OUTPUT": "/github/file_commands/set_output",
        "GITHUB_STEP_SUMMARY": "/github/file_commands/step_summary",
        "GITHUB_REPOSITORY": "acme/trainer",
        "GITHUB_SHA": "0" * 40,
        "GITHUB_EVENT_NAME": "workflow_dispatch",
        "GITHUB_RUN_ID": "1",
        "GITHUB_SERVER_URL": "http://127.0.0.1:9",
        "GITHUB_API_URL": "http://127.0.0.1:9",
    }
    argv = [
        "docker",
        "run",
        "--rm",
        "--workdir",
        "/github/workspace",
        "-v",
        "/var/run/docker.sock:/var/run/docker.sock",
        "-v",
        f"{ws}:/github/workspace",
        "-v",
        f"{files}:/github/file_commands",
    ]
    for k, v in {**inputs, **github}.items():
        argv += ["-e", f"{k}={v}"]
    proc = subprocess.run([*argv, gate_image], capture_output=True, text=True, timeout=300)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert f"running in {docker_images.train}" in log  # the training ran in the sibling container
    report = ws / "overfit-gate-report"
    result = json.loads((report / "result.json").read_text())
    assert result["verdict"] == "pass" and result["torch_version"] == "2.13.0+cpu"
    outputs = (files / "set_output").read_text()
    assert "verdict=pass" in outputs and "steps=" in outputs and "final-loss=" in outputs
    # report-dir is relative to the workspace, usable by upload-artifact on the host.
    assert outputs.strip().splitlines()[-1] == "report-dir=overfit-gate-report"
    assert "/github/workspace" not in outputs
    assert "PASS" in (files / "step_summary").read_text().upper()
    # Nothing root-owned left in the workspace for the runner to trip over.
    owners = {(p.stat().st_uid, p.name) for p in (report, *report.iterdir())}
    assert {uid for uid, _ in owners} == {RUNNER_UID}, owners
    assert containers(name) == []
