"""Settings from the environment, with their names normalised in one place.

``OVERFIT_GATE_TARGET_RATIO``, ``INPUT_TARGET-RATIO`` (Actions keeps an input's dashes) and
``INPUT_TARGET_RATIO`` all name the key ``target_ratio``. Standard library only: the action
entry reads its inputs before pydantic is imported.
"""

from __future__ import annotations

from collections.abc import Mapping

ENV_PREFIX = "OVERFIT_GATE_"
INPUT_PREFIX = "INPUT_"


def norm(key: str) -> str:
    """``Target-Ratio`` -> ``target_ratio``: kebab-case and snake_case name the same key."""
    return key.strip().lower().replace("-", "_")


def read_env(env: Mapping[str, str], prefix: str) -> dict[str, str]:
    """Every ``PREFIX<NAME>`` variable by its normalised name. Empty values mean unset: an action
    input left at its default ``''`` must not override the config file."""
    return {norm(k[len(prefix) :]): v.strip() for k, v in env.items() if k.startswith(prefix) and v.strip()}


def setting(env: Mapping[str, str], key: str) -> str | None:
    """A setting read outside the config file: the action input, else ``OVERFIT_GATE_<KEY>``
    (the layers' order: inputs override the environment)."""
    key = norm(key)
    return read_env(env, INPUT_PREFIX).get(key) or read_env(env, ENV_PREFIX).get(key)
