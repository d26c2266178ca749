"""The comparison's keys as flags of ``publish`` and ``compare``, resolved like ``run``'s
config (pyproject.toml < ``OVERFIT_GATE_*`` < action inputs < flags).

``publish`` is the trusted half of the fork pattern: its thresholds come from its own job,
never from the (untrusted) report folder's recorded config."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gate.config import Config

KEYS = ("baseline", "regression_factor", "first_loss_tolerance", "on_regression")
_TYPES: dict[str, Any] = {"regression_factor": float, "first_loss_tolerance": float}


def add_flags(parser: argparse.ArgumentParser, *, with_baseline: bool = True) -> None:
    group = parser.add_argument_group("comparison with the base run (docs/baseline.md)")
    for key in KEYS:
        if key == "baseline" and not with_baseline:
            continue
        field = Config.model_fields[key]
        kwargs: dict[str, Any] = {"dest": key, "default": None, "help": (field.description or "").replace("%", "%%")}
        if key == "on_regression":
            kwargs["choices"] = ["warn", "fail"]
        else:
            kwargs["type"] = _TYPES.get(key, str)
            kwargs["metavar"] = key.upper()
        group.add_argument("--" + key.replace("_", "-"), **kwargs)


def resolve(args: argparse.Namespace, env: Mapping[str, str]) -> Config:
    """The config as ``run`` resolves it (pyproject.toml in the current folder, environment,
    action inputs), with these flags on top; a bad value is a ConfigError naming the key."""
    from gate.config import resolve as resolve_all

    cli = {k: getattr(args, k) for k in KEYS if getattr(args, k, None) is not None}
    return resolve_all(cli, env, Path.cwd())
