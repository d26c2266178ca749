"""Resolution: merge the layers (file < ``OVERFIT_GATE_*`` < ``INPUT_*`` < flags), apply the
trust classes, validate once.

On a pull request with ``config-source: base`` (the default), the verdict keys of the file layer
come from the base commit's file, read through a ``BaseReader`` (gate/baseconfig.py), so a PR
cannot pass its own gate by loosening it; what the PR's file changes is listed for reviewers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gate.config.model import KEYS, Config, trust
from gate.config.sources import TOMLError, from_env, from_file, layer, locate_config, table_of
from gate.errors import ConfigError
from gate.inputs import ENV_PREFIX, INPUT_PREFIX, norm

# Reads the config file as it was in the pull request's base commit: its text, or None when the
# file did not exist there (gate/baseconfig.py).
BaseReader = Callable[[Path], "str | None"]


def resolve(
    cli: Mapping[str, Any],
    env: Mapping[str, str],
    cwd: Path,
    config_file: str | None = None,
    base: BaseReader | None = None,
) -> Config:
    return resolve_with_changes(cli, env, cwd, config_file, base)[0]


def resolve_with_changes(
    cli: Mapping[str, Any],
    env: Mapping[str, str],
    cwd: Path,
    config_file: str | None = None,
    base: BaseReader | None = None,
) -> tuple[Config, list[str]]:
    """Merge the layers (later wins) and validate once, so every error names its key. ``cwd`` is
    the folder the gate started in; ``config_file`` the ``--config-file`` flag. With a ``base``
    reader (a pull request) and ``config-source: base``, the verdict keys of the file layer come
    from the base commit; the second value lists what the PR's file changes."""
    cfg_path, explicit = locate_config(cli, env, cwd, config_file)
    file_layer = from_file(cfg_path, required=explicit)
    trusted = [
        from_env(env, ENV_PREFIX, "environment"),
        from_env(env, INPUT_PREFIX, "action inputs"),
        layer({k: v for k, v in cli.items() if v is not None}, "command line"),
    ]
    source = next((t["config_source"] for t in reversed(trusted) if "config_source" in t), "base")
    changes: list[str] = []
    if base is not None and source == "base":
        file_layer, changes = _with_base(file_layer, base(cfg_path), cfg_path)
    merged: dict[str, Any] = {}
    for found in (file_layer, *trusted):
        merged.update(found)
    try:
        return Config.model_validate(merged), changes
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "config"
        raise ConfigError(
            f"invalid value for `{key.replace('_', '-')}`: {first['msg']}",
            hint=f"got {first.get('input')!r}" if "input" in first and key != "config" else "",
        ) from None


def _with_base(head: dict[str, Any], base_text: str | None, path: Path) -> tuple[dict[str, Any], list[str]]:
    """The file layer under ``config-source: base``: what to run from the head, the verdict
    keys from the base; plus one line per verdict key the head changes (or a note on the base)."""
    notes: list[str] = []
    base: dict[str, Any] = {}
    if base_text is not None:
        try:
            table = table_of(base_text, path)
            base = {norm(k): v for k, v in table.items()} if isinstance(table, dict) else {}
        except TOMLError:
            notes.append("the base commit's config file is not valid TOML: the defaults apply to this run")
    # A key this version does not know, or a WORKFLOW key, in the base file is never applied.
    base = {k: v for k, v in base.items() if k in KEYS and trust(k) == "verdict"}
    merged = {k: v for k, v in head.items() if trust(k) == "code"} | base
    for key in sorted(k for k in KEYS if trust(k) == "verdict" and head.get(k) != base.get(k)):
        notes.append(f"`{key.replace('_', '-')}`: {_shown(base.get(key))} → {_shown(head.get(key))}")
    return merged, notes


def _shown(value: Any) -> str:
    return "unset" if value is None else json.dumps(value)
