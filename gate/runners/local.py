"""The local runner: the harness as a subprocess of the current (or a chosen) Python,
in its own process group so a timeout kills everything the training script started."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

from gate.errors import RunnerError
from gate.github.env import SECRET_VARS
from gate.runners.base import SPEC_FILE, Job, LogSink, Outcome
from gate.runners.process import Tail, kill_group, pump

# The folder that holds the `gate` package: put on PYTHONPATH so the harness imports in
# a training environment where overfit-gate itself is not installed.
PACKAGE_ROOT = Path(__file__).resolve().parents[2]


class LocalRunner:
    name = "local"

    def run(self, job: Job, log: LogSink) -> Outcome:
        job.out_dir.mkdir(parents=True, exist_ok=True)
        spec_path = job.out_dir / SPEC_FILE
        spec_path.write_text(json.dumps(dict(job.spec), indent=2))
        python = job.config.python or sys.executable
        env = dict(job.env)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH", "")]))
        env["PYTHONUNBUFFERED"] = "1"
        # The training code never needs our GitHub credentials.
        for key in SECRET_VARS:
            env.pop(key, None)
        try:
            proc = subprocess.Popen(
                [python, "-m", "gate.harness", "--spec", str(spec_path)],
                cwd=job.workdir,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            raise RunnerError(
                f"could not start the harness with {python}: {exc}",
                hint="set `python` to the interpreter of your training environment",
            ) from None
        tail = Tail()
        assert proc.stdout is not None
        reader = pump(proc.stdout, log, tail)
        cancelled = False

        def _cancel(signum: int, frame: FrameType | None) -> None:
            nonlocal cancelled
            cancelled = True
            kill_group(proc)

        previous = signal.signal(signal.SIGTERM, _cancel) if _main_thread() else None
        try:
            proc.wait(timeout=job.timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
            log(f"overfit-gate: timeout after {job.timeout:g}s, stopping the run")
            kill_group(proc)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        reader.join(timeout=5)
        code = proc.returncode
        return Outcome(
            exit_code=code if code is not None and code >= 0 else None,
            timed_out=timed_out,
            cancelled=cancelled,
            log_tail=tail.text(),
        )


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
