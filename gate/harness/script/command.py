"""Turn the training command (``python train.py --lr 3e-4`` / ``python -m pkg.train``) into
something runpy can execute in this process, and run it as ``__main__`` with its own
``sys.argv``, ``sys.path[0]`` and working directory, putting all three back afterwards."""

from __future__ import annotations

import importlib.util
import os
import runpy
import sys
from dataclasses import dataclass
from pathlib import Path

from gate.harness.task import TaskError

# Interpreter options that take no value and do not change what runs (we run in this interpreter).
_FLAGS = {"-u", "-B", "-O", "-OO", "-E", "-s", "-S", "-I", "-b", "-bb", "-d", "-q", "-v", "-P"}
_WITH_VALUE = {"-W", "-X"}
_HINT = "give the command as `-- python train.py ARGS` or `-- python -m package.module ARGS`"


@dataclass(frozen=True)
class Target:
    kind: str  # "path" | "module"
    name: str  # script path (as given) or dotted module name
    args: list[str]

    def describe(self) -> str:
        return f"python -m {self.name}" if self.kind == "module" else f"python {self.name}"


def _is_python(word: str) -> bool:
    base = Path(word).name.lower()
    return base.startswith("python") or word == sys.executable


def parse(command: list[str]) -> Target:
    """Raises TaskError (usage, exit 2) for launchers we cannot run in-process."""
    if not command:
        raise TaskError(f"script mode needs a training command; {_HINT}")
    words = list(command)
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
            return Target("module", words[1], words[2:])
        if words[0] in ("-c", "-"):
            raise TaskError(f"`python {words[0]}` cannot be gated; put the code in a file. {_HINT}")
    elif not words[0].endswith(".py"):
        raise TaskError(
            f"cannot run {words[0]!r} in-process (launchers like torchrun/accelerate start other processes); {_HINT}"
        )
    return Target("path", words[0], words[1:])


def run(target: Target) -> None:
    """Execute the target like the interpreter would; user exceptions (and SystemExit) propagate."""
    saved_argv, saved_path0, saved_cwd = list(sys.argv), sys.path[0] if sys.path else None, os.getcwd()
    try:
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
    finally:
        sys.argv = saved_argv
        if sys.path and saved_path0 is not None and sys.path[0] != saved_path0:
            sys.path.pop(0)
        os.chdir(saved_cwd)
