"""What ``overfit-gate init`` learns from a repository, by reading files only (never importing
or running them): the training entry point, the framework, the runner set-up.

Heuristics, in the order a person looking at the repo would use them: a task-mode factory
(``def make_task``) beats a script; among scripts, real training evidence (``.backward()``, an
optimizer step, ``Trainer.fit`` / ``Trainer.train``) beats a file name; a ``__main__`` guard and the
conventional names (``train.py``, ``scripts/train*.py``) break ties.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

SKIP_DIRS = {".git", ".venv", "venv", "env", "node_modules", "build", "dist", "__pycache__", "site-packages", ".tox"}
MAX_FILES = 3000  # a monorepo is scanned partially rather than slowly
TASK_FUNCTIONS = ("make_task", "overfit_task", "make_overfit_task")
Framework = Literal["plain", "lightning", "hf", "task"]


@dataclass(frozen=True)
class Entry:
    path: str  # relative to the repository root, POSIX
    framework: Framework
    function: str | None = None  # task mode
    score: int = 0
    command: str | None = None  # given by the user: kept verbatim instead of `python <path>`

    @property
    def config(self) -> dict[str, str]:
        if self.function:
            return {"entrypoint": f"{self.path}:{self.function}"}
        return {"command": self.command or f"python {self.path}"}


@dataclass(frozen=True)
class Project:
    root: Path
    entry: Entry | None
    gpu_labels: list[str] = field(default_factory=list)  # a self-hosted runner's labels that name a GPU
    dockerfile: str | None = None  # a training image the repo builds (has torch in it)
    requirements: str | None = None  # how the CPU fallback installs the project's dependencies


def _python_files(root: Path) -> list[Path]:
    found: list[Path] = []
    stack = [root]
    while stack and len(found) < MAX_FILES:
        folder = stack.pop()
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        for p in entries:
            if p.is_symlink():
                continue
            if p.is_dir() and p.name not in SKIP_DIRS and not p.name.startswith("."):
                stack.append(p)
            elif p.suffix == ".py" and p.is_file():
                found.append(p)
    return found


def _calls(tree: ast.AST) -> set[str]:
    """Attribute and function names called anywhere in the module (``x.backward()`` -> backward)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute):
                names.add(f.attr)
            elif isinstance(f, ast.Name):
                names.add(f.id)
    return names


def _imports(tree: ast.AST) -> set[str]:
    mods: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            mods.add(node.module.split(".")[0])
    return mods


def _has_main_guard(tree: ast.Module) -> bool:
    return any(isinstance(n, ast.If) and "__main__" in ast.unparse(n.test) for n in tree.body)


def classify(path: Path, rel: str) -> Entry | None:
    """An entry point candidate with a score, or None when the file shows no training."""
    try:
        tree = ast.parse(path.read_text(errors="replace"))
    except (SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in TASK_FUNCTIONS:
            return Entry(rel, "task", function=node.name, score=100)
    if rel.startswith(("tests/", "test/")) or Path(rel).name.startswith("test_"):
        return None  # a test that trains is not the pipeline
    calls, imports = _calls(tree), _imports(tree)
    framework: Framework = "plain"
    score = 0
    if "Trainer" in calls and "fit" in calls and imports & {"lightning", "pytorch_lightning"}:
        framework, score = "lightning", 40
    elif "Trainer" in calls and "train" in calls and "transformers" in imports:
        framework, score = "hf", 40
    elif "backward" in calls and ("step" in calls or "torch" in imports):
        score = 40
    if not score:
        return None
    name = Path(rel).name
    if _has_main_guard(tree):
        score += 10
    if name == "train.py" or re.fullmatch(r"train[_-]?\w*\.py", name):
        score += 10
    if rel.startswith("scripts/"):
        score += 3
    score -= rel.count("/")  # the shallower, the likelier the entry point
    return Entry(rel, framework, score=score)


def find_entry(root: Path) -> Entry | None:
    best: Entry | None = None
    for path in _python_files(root):
        rel = path.relative_to(root).as_posix()
        entry = classify(path, rel)
        if entry and (best is None or entry.score > best.score):
            best = entry
    return best


# `runs-on: [self-hosted, gpu]`, `runs-on: gpu-runner`, or a block list under `runs-on:`.
_RUNS_ON = re.compile(r"^(\s*)runs-on:\s*(.*)$")


def _labels(value: str, following: list[str], indent: int) -> list[str]:
    value = value.split("#", 1)[0].strip()
    if value.startswith("["):
        return [v.strip().strip("'\"") for v in value.strip("[]").split(",") if v.strip()]
    if value:
        return [value.strip("'\"")]
    labels: list[str] = []
    for line in following:
        m = re.match(r"^(\s*)-\s*(.+)$", line)
        if not m or len(m.group(1)) < indent:
            break
        labels.append(m.group(2).split("#", 1)[0].strip().strip("'\""))
    return labels


def find_gpu_labels(root: Path) -> list[str]:
    """The labels of the first job in the repo's workflows that runs on a GPU runner."""
    folder = root / ".github" / "workflows"
    for wf in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]) if folder.is_dir() else []:
        lines = wf.read_text(errors="replace").splitlines()
        for i, line in enumerate(lines):
            m = _RUNS_ON.match(line)
            if not m:
                continue
            labels = _labels(m.group(2), lines[i + 1 :], len(m.group(1)))
            if any("gpu" in label.lower() and "${{" not in label for label in labels):
                return labels
    return []


_TORCH_IMAGE = re.compile(r"\btorch\b|pytorch|nvcr\.io/nvidia", re.IGNORECASE)


def find_dockerfile(root: Path) -> str | None:
    """A Dockerfile that builds a training image (mentions torch), repository-relative."""
    names = ["Dockerfile", "Dockerfile.train", "docker/Dockerfile", "docker/train.Dockerfile"]
    for name in names + sorted(p.name for p in root.glob("*.Dockerfile")):
        path = root / name
        if path.is_file() and not path.is_symlink() and _TORCH_IMAGE.search(path.read_text(errors="replace")):
            return name
    return None


def find_requirements(root: Path) -> str | None:
    for name in ("requirements.txt", "requirements/train.txt", "requirements/base.txt"):
        if (root / name).is_file():
            return f"-r {name}"
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and re.search(r"^\[project\]", pyproject.read_text(errors="replace"), re.MULTILINE):
        return "-e ."
    return None


def scan(root: Path) -> Project:
    return Project(
        root=root,
        entry=find_entry(root),
        gpu_labels=find_gpu_labels(root),
        dockerfile=find_dockerfile(root),
        requirements=find_requirements(root),
    )
