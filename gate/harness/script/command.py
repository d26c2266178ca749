"""Turn the training command (``python train.py --lr 3e-4`` / ``python -m pkg.train``, or a
launcher: ``torchrun``, ``python -m torch.distributed.run``, ``accelerate launch``) into
something runpy can execute in this process, and run it as ``__main__`` with its own
``sys.argv``, ``sys.path[0]`` and working directory, putting all three back afterwards.
A launcher's worker runs as the only one (see ``launchers``)."""

from __future__ import annotations

import importlib.util
import os
import runpy
import sys
from dataclasses import dataclass
from pathlib import Path

from gate.harness.script import launchers
from gate.harness.script.launchers import Launch
from gate.harness.task import TaskError

# Interpreter options that take no value and do not change what runs (we run in this interpreter).
_FLAGS = {"-u", "-B", "-O", "-OO", "-E", "-s", "-S", "-I", "-b", "-bb", "-d", "-q", "-v", "-P"}
_WITH_VALUE = {"-W", "-X"}
_HINT = (
    "give the command as `-- python train.py ARGS`, `-- python -m package.module ARGS`, "
    "`-- torchrun --nproc_per_node=1 train.py ARGS` or `-- accelerate launch train.py ARGS`"
)


@dataclass(frozen=True)
class Target:
    kind: str  # "path" | "module"
    name: str  # script path (as given) or dotted module name
    args: list[str]
    launch: Launch | None = None  # started by torchrun / accelerate launch: run as its one worker

    def describe(self) -> str:
        own = f"python -m {self.name}" if self.kind == "module" else f"python {self.name}"
        return own if self.launch is None else f"{own} ({launchers.describe(self.launch)})"


def _is_python(word: str) -> bool:
    base = Path(word).name.lower()
    return base.startswith("python") or word == sys.executable


def parse(command: list[str]) -> Target:
    """Raises TaskError (usage, exit 2) for launchers we cannot run in-process."""
    if not command:
        raise TaskError(f"script mode needs a training command; {_HINT}")
    words = list(command)
    launcher = launchers.launcher_of(words)
    if launcher is not None:
        return _worker(launchers.split(launcher, words[2 if launcher == "accelerate launch" else 1 :]), command)
    if _is_python(words[0]):
        words.pop(0)
        while words and words[0].startswith("-") and words[0] not in ("-m", "-c", "-"):
            flag = words.pop(0)
            if flag in _WITH_VALUE and words:
                words.pop(0)
            elif flag not in _FLAGS and flag[:2] not in _WITH_VALUE:
                raise TaskError(f"unsupported python option {flag!r} in the training command; {_HINT}")
        if not words:
            raise TaskError(f"the training command {' '.join(command)!r} names no script; {_HINT}")
        if words[0] == "-m":
            if len(words) < 2:
                raise TaskError(f"`python -m` needs a module name; {_HINT}")
            if words[1] in launchers.TORCHRUN_MODULES:
                return _worker(launchers.split("torchrun", words[2:]), command)
            return Target("module", words[1], words[2:])
        if words[0] in ("-c", "-"):
            raise TaskError(f"`python {words[0]}` cannot be gated; put the code in a file. {_HINT}")
    elif not words[0].endswith(".py"):
        raise TaskError(
            f"cannot run {words[0]!r} in-process: the gate runs Python training scripts (and their "
            f"torchrun/accelerate workers) itself; {_HINT}"
        )
    return Target("path", words[0], words[1:])


def _worker(launch: Launch, command: list[str]) -> Target:
    inner = parse(["python", *launch.words])
    if inner.launch is not None:
        raise TaskError(f"nested launchers in {' '.join(command)!r}; {_HINT}")
    return Target(inner.kind, inner.name, inner.args, launch)


def run(target: Target) -> None:
    """Execute the target like the interpreter would; user exceptions (and SystemExit) propagate."""
    saved_argv, saved_path0, saved_cwd = list(sys.argv), sys.path[0] if sys.path else None, os.getcwd()
    try:
        with launchers.one_worker(target.launch):
            _run(target, saved_cwd)
    finally:
        sys.argv = saved_argv
        if sys.path and saved_path0 is not None and sys.path[0] != saved_path0:
            sys.path.pop(0)
        os.chdir(saved_cwd)


def _run(target: Target, saved_cwd: str) -> None:
    if target.kind == "module":
        # `python -m` puts the working directory first on sys.path.
        sys.path.insert(0, saved_cwd)
        try:
            found = importlib.util.find_spec(target.name) is not None
        except ImportError:  # the parent package is missing
            found = False
        if not found:
            raise TaskError(f"training module {target.name!r} not found from {saved_cwd}; {_HINT}")
        sys.argv = [target.name, *target.args]  # runpy replaces argv[0] with the file path
        runpy.run_module(target.name, run_name="__main__", alter_sys=True)
    else:
        path = Path(target.name)
        if not path.is_file():
            raise TaskError(f"training script {target.name} not found in {saved_cwd}; {_HINT}")
        sys.path.insert(0, str(path.resolve().parent))
        sys.argv = [target.name, *target.args]
        runpy.run_path(str(path), run_name="__main__")
