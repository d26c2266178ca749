"""Shared fixtures. Each test area may add its own conftest-style fixtures in its module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def gate_cli(tmp_path: Path) -> Callable[..., tuple[int, dict[str, Any] | None, str]]:
    """Run the real CLI in a subprocess (as users and CI do); returns (exit code, result.json, output)."""

    def _run(
        *args: str, out: Path | None = None, env: dict[str, str] | None = None, cwd: Path = ROOT, timeout: float = 180
    ) -> tuple[int, dict[str, Any] | None, str]:
        out = out or tmp_path / "report"
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "OVERFIT_GATE_"))}
        full_env.update(env or {})
        argv = list(args)
        if argv and argv[0] == "run" and "--out" not in argv:
            argv[1:1] = ["--out", str(out)]
        proc = subprocess.run(
            [sys.executable, "-m", "gate", *argv],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        result_path = out / "result.json"
        result = json.loads(result_path.read_text()) if result_path.is_file() else None
        return proc.returncode, result, proc.stdout + proc.stderr

    return _run


def pytest_configure(config: pytest.Config) -> None:
    """Tests behave the same on a laptop and inside GitHub Actions (ci.yml): the job's own
    GITHUB_* variables (GITHUB_ACTIONS, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, the event) would make
    the gate under test write into, or publish from, the real CI job. Tests that need them set them."""
    for key in [k for k in os.environ if k.startswith(("GITHUB_", "INPUT_", "OVERFIT_GATE_"))]:
        del os.environ[key]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `gpu` need CUDA: skipped, with the reason shown, where there is none."""
    if not any(item.get_closest_marker("gpu") for item in items):
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="no CUDA GPU on this machine (run them where one is lent)")
    for item in items:
        if item.get_closest_marker("gpu"):
            item.add_marker(skip)
