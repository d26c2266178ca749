"""Where config layers come from: the config file (found first, by the bootstrap), the
``OVERFIT_GATE_*`` environment and the action's ``INPUT_*``; each read into a layer of known keys.

A file belongs to the checkout, i.e. to the change under test, so a ``WORKFLOW`` key there is
refused (docs/security.md). The report folder is also read here on its own, for the commands
that never resolve the whole config.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gate.config.model import KEYS, Config, trust
from gate.errors import ConfigError
from gate.inputs import ENV_PREFIX, INPUT_PREFIX, norm, read_env, setting

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10 fallback
    import tomli as tomllib

# OVERFIT_GATE_* / INPUT_* names that are settings but not config keys: read through their own
# channel (the token never enters the config; the config file locates the config).
_NOT_CONFIG = {"github_token", "config_file"}
TOMLError = tomllib.TOMLDecodeError


def unknown_key(key: str, source: str) -> ConfigError:
    close = difflib.get_close_matches(norm(key), KEYS, n=1, cutoff=0.6)
    did_you_mean = f"did you mean `{close[0].replace('_', '-')}`?" if close else ""
    return ConfigError(
        f"unknown config key `{key}` in {source}",
        hint=" ".join(filter(None, [did_you_mean, f"known keys: {', '.join(k.replace('_', '-') for k in KEYS)}"])),
    )


def layer(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    """``raw`` by normalised key; an unknown key is an error that names ``source``."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        k = norm(key)
        if k not in KEYS:
            raise unknown_key(key, source)
        out[k] = value
    return out


def table_of(text: str, path: Path) -> Any:
    """The gate's table in a config file's text: ``[tool.overfit-gate]`` of a pyproject.toml,
    the top level of any other TOML file. Raises ``TOMLError``."""
    data = tomllib.loads(text)
    return data.get("tool", {}).get("overfit-gate", {}) if path.name == "pyproject.toml" else data


def from_file(path: Path, required: bool = False) -> dict[str, Any]:
    """``[tool.overfit-gate]`` of a pyproject.toml, or the top level of any other TOML file.
    A file belongs to the checkout, i.e. to the change under test, so a WORKFLOW key there is an
    error (exit 2) rather than ignored: silently dropping it would run the pipeline differently
    from what its author wrote, without saying so."""
    if not path.is_file():
        if required:
            raise ConfigError(f"config file {path} does not exist")
        return {}
    try:
        table = table_of(path.read_text(), path)
    except TOMLError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    if not isinstance(table, dict):
        raise ConfigError(f"[tool.overfit-gate] in {path} must be a table")
    found = layer(table, f"{path} [tool.overfit-gate]" if path.name == "pyproject.toml" else str(path))
    refused = [k for k in found if trust(k) == "workflow"]
    if refused:
        key = refused[0].replace("_", "-")
        raise ConfigError(
            f"`{key}` cannot be set in {path}: it decides where and how the code under test runs, and "
            "the checked-out files belong to the change being tested",
            hint=f"set it in the workflow instead: the action input `{key}`, the flag `--{key}` or "
            f"${ENV_PREFIX}{refused[0].upper()} (docs/security.md)",
        )
    return found


def from_env(env: Mapping[str, str], prefix: str, source: str) -> dict[str, Any]:
    """``OVERFIT_GATE_TARGET_RATIO`` / ``INPUT_TARGET-RATIO`` (see ``gate.inputs``)."""
    raw = {k: v for k, v in read_env(env, prefix).items() if k not in _NOT_CONFIG}
    if prefix == INPUT_PREFIX:
        # Action inputs that are not config keys (github-token, config-file, args) are
        # handled by the action entry; only config keys pass through here.
        raw = {k: v for k, v in raw.items() if k in KEYS}
    return layer(raw, f"environment ({prefix}*)" if prefix == ENV_PREFIX else "action inputs")


def locate_config(
    cli: Mapping[str, Any], env: Mapping[str, str], cwd: Path, config_file: str | None = None
) -> tuple[Path, bool]:
    """The bootstrap: which file holds the config (and whether it must exist), from the layers
    that exist before it is read (flags, action inputs, environment): an explicit
    ``config-file``, else ``pyproject.toml``, in the ``working-directory`` those layers name, else
    in ``cwd``. A ``working-directory`` set in the file itself applies to the run
    (``Config.workdir``), not to where the file is looked for."""
    wd = cli.get("working_directory") or setting(env, "working_directory")
    base = cwd / wd if wd else cwd
    name = config_file or setting(env, "config_file")
    return (base / name, True) if name else (base / "pyproject.toml", False)


def out_setting(cli_out: str | None, env: Mapping[str, str]) -> str:
    """The report folder as given where the full config is not resolved (``report``,
    ``publish``, the action entry, ``run`` after a config error): the flag, the action input,
    the environment, the default — the layers' order (the pyproject table is ``run``'s alone)."""
    return cli_out or setting(env, "out") or str(Config.model_fields["out"].default)


def report_folder(cli_out: str | None, env: Mapping[str, str]) -> Path:
    return (Path.cwd() / out_setting(cli_out, env)).resolve()
