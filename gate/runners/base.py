"""The runner protocol: start the harness with a spec, stream its log, enforce the timeout,
collect the output folder, always clean up. Backends live beside this file and are listed
in ``gate.runners.RUNNERS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from gate.config import Config

SPEC_FILE = "spec.json"
LogSink = Callable[[str], None]


@dataclass(frozen=True)
class Job:
    """Everything a runner needs; built once by the run command from the resolved config."""

    spec: Mapping[str, Any]  # JSON-able harness spec (see gate/harness/spec.py)
    out_dir: Path  # absolute; the harness writes result.json and loss.csv here
    workdir: Path  # absolute; the pipeline's working directory
    timeout: float  # seconds
    # The resolved config: runners read their keys (image, gpus, python, ...) as typed
    # attributes, so the registry's defaults are the only defaults.
    config: Config
    env: Mapping[str, str] = field(default_factory=dict)  # the controller's environment, read at the edge


@dataclass
class Outcome:
    """What happened to the process. The verdict itself is in ``out_dir/result.json``."""

    exit_code: int | None  # None when it was killed by us
    timed_out: bool = False
    cancelled: bool = False
    log_tail: str = ""  # last lines of the combined log, for error results
    error: str | None = None  # a runner-level failure the user must see (OOM-killed, ...)
    error_type: str = "RunnerError"


class Runner(Protocol):
    name: str

    def run(self, job: Job, log: LogSink) -> Outcome:
        """Run the harness to completion (or timeout/cancel). Raise RunnerError if it cannot start."""
        ...
