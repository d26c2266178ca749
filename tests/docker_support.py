"""The Docker engine and the locally built images, for the tests marked ``docker``.

Import the fixture into a test module (``from tests.docker_support import docker_images``).
The set-up runs scripts/docker-engine.sh (installs docker.io and starts dockerd when no daemon
answers) and scripts/build-test-images.sh (cached by tag); at the end it stops only a daemon it
started. GATE_TEST_SKIP_DOCKER=1 skips these tests explicitly, with that reason shown.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LABEL = "dev.overfit-gate.run"


@dataclass(frozen=True)
class Images:
    base: str  # Debian bookworm + python 3.11 (the gate image's base in tests)
    train: str  # base + torch 2.13.0 CPU (the "user's training image")
    wheels: Path  # wheels of requirements/action.txt, to build the gate image offline
    started_engine: bool


def _script(name: str, *args: str, timeout: float) -> str:
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / name), *args], capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        pytest.fail(f"scripts/{name} {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout + proc.stderr


@pytest.fixture(scope="session")
def docker_images() -> Iterator[Images]:
    if os.environ.get("GATE_TEST_SKIP_DOCKER") == "1":
        pytest.skip("GATE_TEST_SKIP_DOCKER=1: docker tests turned off explicitly")
    state = Path(os.environ.get("GATE_TEST_ENGINE_STATE", "/tmp/overfit-gate-engine")) / "dockerd.pid"
    had_pid = state.exists()
    _script("docker-engine.sh", "start", timeout=600)
    started = state.exists() and not had_pid
    t0 = time.monotonic()
    out = _script("build-test-images.sh", timeout=1200)
    values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line and line.split("=", 1)[0].isupper())
    print(f"\ntest images ready in {time.monotonic() - t0:.0f}s: {values}")
    try:
        yield Images(values["BASE"], values["TRAIN"], Path(values["WHEELS"]), started)
    finally:
        if started:
            _script("docker-engine.sh", "stop", timeout=120)


def containers(name: str) -> list[str]:
    """Ids of containers (any state) the docker runner started for a gate of this name."""
    out = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label={LABEL}={name}"], capture_output=True, text=True, check=True
    ).stdout
    return out.split()
