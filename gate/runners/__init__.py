"""Runner backends, listed in one place. Imported lazily: the docker SDK and the kubernetes
client are only loaded when their runner is used."""

from __future__ import annotations

import importlib

from gate.errors import ConfigError
from gate.runners.base import Job, LogSink, Outcome, Runner

# name -> "module:Class"
RUNNERS: dict[str, str] = {
    "local": "gate.runners.local:LocalRunner",
    "docker": "gate.runners.docker:DockerRunner",
    "kubernetes": "gate.runners.kubernetes:KubernetesRunner",
}


def get_runner(name: str) -> Runner:
    try:
        target = RUNNERS[name]
    except KeyError:
        raise ConfigError(f"unknown runner {name!r}", hint=f"runner = one of {', '.join(RUNNERS)}") from None
    module, cls = target.split(":")
    runner: Runner = getattr(importlib.import_module(module), cls)()
    return runner


__all__ = ["RUNNERS", "Job", "LogSink", "Outcome", "Runner", "get_runner"]
