"""The local runner: the harness as a subprocess of the current (or a chosen) Python, in its
own session. The gate makes itself non-dumpable first (the child cannot read its environment
or memory), passes the child no credential, and after every run, whatever its end, kills
everything the training code started (``gate.runners.tree``)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from gate import outdir, signals
from gate.errors import RunnerError
from gate.github.env import child_environment
from gate.runners.base import SPEC_FILE, Job, LogSink, Outcome
from gate.runners.process import Tail, kill_group, pump
from gate.runners.tree import ProcessTree, make_undumpable

# The folder that holds the `gate` package: put on PYTHONPATH so the harness imports in
# a training environment where overfit-gate itself is not installed.
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
SCAN_S = 1.0  # how often the process tree is walked while the harness runs


class LocalRunner:
    name = "local"

    def run(self, job: Job, log: LogSink) -> Outcome:
        spec_path = job.out_dir / SPEC_FILE
        outdir.write_text(spec_path, json.dumps(dict(job.spec), indent=2))
        python = job.config.python or sys.executable
        env = child_environment(job.env)  # the training code never needs our credentials
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH", "")]))
        env["PYTHONUNBUFFERED"] = "1"
        make_undumpable()
        cancelled: list[int] = []
        tree = ProcessTree()
        # The handler is in place before the child exists, so a cancel can never orphan it.
        with signals.on_cancel(cancelled.append):
            try:
                proc = _start([python, "-m", "gate.harness", "--spec", str(spec_path)], job.workdir, env)
                tree.waited.add(proc.pid)
                return self._supervise(proc, job, log, tree, cancelled)
            finally:
                tree.kill_all()
                tree.close()

    def _supervise(
        self, proc: subprocess.Popen[bytes], job: Job, log: LogSink, tree: ProcessTree, cancelled: list[int]
    ) -> Outcome:
        tail = Tail()
        assert proc.stdout is not None
        reader = pump(proc.stdout, log, tail)
        deadline = time.monotonic() + job.timeout
        timed_out = False
        try:
            while proc.poll() is None:
                if cancelled:
                    log(f"overfit-gate: cancelled, stopping the run ({_name(cancelled[0])})")
                    kill_group(proc)
                    break
                if time.monotonic() >= deadline:
                    timed_out = True
                    log(f"overfit-gate: timeout after {job.timeout:g}s, stopping the run")
                    kill_group(proc)
                    break
                tree.scan()
                _wait(proc, min(SCAN_S, max(deadline - time.monotonic(), 0.01)))
        finally:
            if proc.poll() is None:  # an exception (not a cancel) got here first
                kill_group(proc, grace=0)
            tree.kill_all(group=proc.pid)  # before joining: a grandchild may hold the pipe open
        reader.join(timeout=5)
        code = proc.returncode
        return Outcome(
            exit_code=code if code is not None and code >= 0 else None,
            signal=-code if code is not None and code < 0 else None,
            timed_out=timed_out,
            cancelled=bool(cancelled),
            log_tail=tail.text(),
        )


def _start(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        raise RunnerError(
            f"could not start the harness with {argv[0]}: {exc}",
            hint="set `python` to the interpreter of your training environment",
        ) from None


def _wait(proc: subprocess.Popen[bytes], seconds: float) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=seconds)


def _name(signum: int) -> str:
    import signal

    return signal.Signals(signum).name
