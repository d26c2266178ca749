"""The pytest plugin (``pytest11`` entry point ``overfit-gate``): the gate inside a test suite.

For teams not on GitHub Actions (GitLab CI, Buildkite, Jenkins all run pytest) and for repos
that already carry a hand-written "overfit one batch" test::

    def test_pipeline_overfits(overfit_gate):
        overfit_gate.check(make_task, steps=300)              # task mode
        overfit_gate.script("python train.py --lr 3e-4")      # script mode

    @pytest.mark.overfit_gate_script("python train.py --lr 3e-4", steps=300)
    def test_train_script(overfit_gate_result):               # the gate runs before the body
        assert overfit_gate_result.steps < 300

Each gate run is a fresh ``python -m gate run`` process, exactly what the CLI does in CI: the
script-mode instrumentation patches torch globally and the harness seeds every RNG, none of
which may leak into the test process; a hang or a crash is contained by the gate's timeout.
That also keeps this module free of torch and pydantic at import: collecting a suite that
never uses the gate costs nothing, and ``pytest-xdist`` workers each start their own runs.
"""

from __future__ import annotations

import inspect
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from gate.result import Result

MARKER = "overfit_gate_script"
# Variables that would make the child publish to GitHub or see a credential: a test run never publishes.
_DROPPED_PREFIXES = ("GITHUB_", "INPUT_", "ACTIONS_", "RUNNER_")


class OverfitGateFailure(AssertionError):
    """The gate said fail, error or not applicable. An AssertionError, so pytest reports it as
    a test failure (with the gate's own summary as the message) and JUnit carries the reason."""

    def __init__(self, message: str, result: Result | None) -> None:
        super().__init__(message)
        self.result = result


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("overfit-gate")
    group.addoption(
        "--overfit-gate-out",
        metavar="DIR",
        default=None,
        help="write each gate run's report folder (result.json, loss.png, report.md, ...) under DIR/<test id>",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(command, **config): run the overfit gate on a training command (script mode) before the "
        "test body; the test fails with the gate's verdict unless it passes",
    )


def _flags(config: Mapping[str, Any]) -> list[str]:
    """Config keys as `overfit-gate run` flags, validated against the registry first so a typo
    fails here with the CLI's own "did you mean" instead of deep inside a subprocess."""
    from gate.config import Config, unknown_key  # pydantic: only once a test really runs the gate

    argv: list[str] = []
    for key, value in config.items():
        name = key.replace("-", "_")
        if name not in Config.model_fields or name in ("command", "entrypoint", "out", "publish"):
            raise unknown_key(key, "overfit_gate keyword arguments")
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            argv.append(flag if value else "--no-" + flag[2:])
        elif isinstance(value, (list, tuple)):
            argv += [f"{flag}={v}" for v in value]
        elif value is not None:
            argv.append(f"{flag}={value}")
    return argv


def _child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_PREFIXES)}


def _entrypoint(task: Callable[..., Any] | str) -> str:
    if isinstance(task, str):
        return task
    qualname = getattr(task, "__qualname__", "")
    source = inspect.getsourcefile(task) if callable(task) else None
    if not source or "<" in qualname or "." in qualname:
        raise TypeError(
            f"overfit_gate.check() needs a module-level function or 'path/to/file.py:function', got {task!r}: "
            "the gate imports it by path in a fresh process, as CI does"
        )
    return f"{Path(source).resolve()}:{qualname}"


class OverfitGate:
    """The ``overfit_gate`` fixture: run the gate from a test, fail the test unless it passes."""

    def __init__(self, node: pytest.Item, out_root: Path, cwd: Path) -> None:
        self._node, self._out_root, self._cwd = node, out_root, cwd
        self.runs: list[Result] = []

    def check(self, task: Callable[..., Any] | str, **config: Any) -> Result:
        """Task mode: ``task`` returns the task mapping (README, task-mode contract)."""
        return self._run(["--entrypoint", _entrypoint(task)], config)

    def script(self, command: str | Sequence[str], **config: Any) -> Result:
        """Script mode: an unmodified training command, e.g. ``"python train.py --lr 3e-4"``."""
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        if not argv:
            raise ValueError("overfit_gate.script() needs a command, e.g. 'python train.py'")
        return self._run(["--", *argv], config)

    def _out_dir(self) -> Path:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", self._node.nodeid).strip("_")[:150] or "test"
        if self.runs:  # a second gate run in the same test gets its own folder
            name += f"-{len(self.runs) + 1}"
        return self._out_root / name

    def _run(self, target: list[str], config: dict[str, Any]) -> Result:
        from gate.report.terminal import summary
        from gate.result import load_result

        out = self._out_dir()
        flags = _flags(config)
        tail = target if target[0] == "--" else []
        head = [] if tail else target
        argv = [sys.executable, "-m", "gate", "run", "--no-publish", "--out", str(out), *flags, *head, *tail]
        proc = subprocess.run(argv, cwd=self._cwd, env=_child_env(), capture_output=True, text=True, errors="replace")
        # The gate's log is the test's captured output, shown by pytest when the test fails.
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr)
        try:
            result = load_result(out)
        except Exception as exc:  # the CLI could not even write a result: say what it printed
            raise OverfitGateFailure(
                f"overfit-gate exited {proc.returncode} without a readable result ({exc}):\n{proc.stderr[-2000:]}",
                None,
            ) from None
        self.runs.append(result)
        self._node.user_properties += [
            ("overfit_gate_verdict", result.verdict),
            ("overfit_gate_reason", result.reason),
            ("overfit_gate_report", str(out)),
        ]
        if result.verdict != "pass":
            raise OverfitGateFailure(summary(result, out), result)
        return result


@pytest.fixture
def overfit_gate(request: pytest.FixtureRequest) -> Iterator[OverfitGate]:
    root = request.config.getoption("--overfit-gate-out")
    if root:
        yield OverfitGate(request.node, Path(root).resolve(), request.config.rootpath)
        return
    with tempfile.TemporaryDirectory(prefix="overfit-gate-") as tmp:
        yield OverfitGate(request.node, Path(tmp), request.config.rootpath)


@pytest.fixture
def overfit_gate_result(request: pytest.FixtureRequest, overfit_gate: OverfitGate) -> Result:
    """The result of the test's ``overfit_gate_script`` marker run (the gate passed, or the
    test has already failed with its verdict)."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        raise pytest.UsageError(f"overfit_gate_result needs @pytest.mark.{MARKER}('python train.py ...')")
    if not marker.args:
        raise pytest.UsageError(f"@pytest.mark.{MARKER} needs the training command as its first argument")
    return overfit_gate.script(marker.args[0], **marker.kwargs)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A marked test runs the gate even when its body does not ask for the result.
    for item in items:
        if not isinstance(item, pytest.Function) or item.get_closest_marker(MARKER) is None:
            continue
        if "overfit_gate_result" not in item.fixturenames:
            item.fixturenames.append("overfit_gate_result")
