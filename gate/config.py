"""The single registry of configuration keys, and their resolution.

Precedence, lowest first: ``[tool.overfit-gate]`` in pyproject.toml (or ``config-file``),
``OVERFIT_GATE_*`` environment variables, GitHub Action inputs (``INPUT_*``), command-line flags.
Keys are snake_case here; kebab-case is accepted everywhere (``target-ratio``).
"""

from __future__ import annotations

import difflib
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gate.errors import ConfigError
from gate.harness.spec import Mode, Pin, Spec
from gate.inputs import ENV_PREFIX, INPUT_PREFIX, norm, read_env, setting

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10 fallback
    import tomli as tomllib

# OVERFIT_GATE_* / INPUT_* names that are settings but not config keys: read through their own
# channel (the token never enters the config; the config file locates the config).
_NOT_CONFIG = {"github_token", "config_file"}
# The harness's defaults are the config's: one source (gate/harness/spec.py, torch-free).
_SPEC = Spec()


class Config(BaseModel):
    """Every key the gate understands. The field description is the user-facing doc."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # What to run
    entrypoint: str | None = Field(
        None, description="Task mode: `path/to/file.py:function` returning the task mapping."
    )
    command: list[str] | None = Field(
        None, description="Script mode: the training command, e.g. `python train.py --lr 3e-4`."
    )
    working_directory: str = Field(".", description="Folder the pipeline runs in; relative paths resolve against it.")
    python: str | None = Field(
        None,
        description="Python of the training environment: for the local runner (default: the gate's own), or inside the image for the docker runner (default: `python`, else `python3`).",
    )

    # Overfit loop and verdict
    steps: int = Field(_SPEC.steps, ge=1, description="Step budget; fail if the target is not reached within it.")
    target_ratio: float = Field(
        _SPEC.target_ratio, gt=0, lt=1, description="Pass when `loss - floor <= ratio * (first - floor)`."
    )
    target_loss: float | None = Field(None, description="Absolute target instead of the ratio.")
    loss_floor: float | None = Field(
        None, description="Lowest achievable loss (default: the task's `loss_floor`, else 0)."
    )
    confirm_steps: int = Field(
        _SPEC.confirm_steps, ge=1, description="Consecutive steps the loss must stay at the target before passing."
    )
    divergence_factor: float = Field(
        _SPEC.divergence_factor, gt=1, description="Fail when `loss - floor` exceeds this multiple of `first - floor`."
    )
    patience: int = Field(
        _SPEC.patience, ge=1, description="Fail early when the best loss has not improved for this many steps."
    )
    seed: int = Field(_SPEC.seed, description="Seed for python, numpy and torch RNGs.")
    device: str = Field(_SPEC.device, description="`auto` (cuda if available), `cpu`, `cuda`, `cuda:N`.")
    sync_every: int = Field(
        _SPEC.sync_every, ge=1, description="Read the loss back to the host every N steps (no per-step sync)."
    )
    log_every: int = Field(_SPEC.log_every, ge=1, description="Print a progress line every N steps.")
    timeout: float = Field(900.0, gt=0, description="Seconds before the run is killed and reported as an error.")

    # Checks
    skip_checks: list[str] = Field(default_factory=list, description="Checks to turn off, by name.")
    allow_unused: list[str] = Field(
        default_factory=list, description="Parameter name patterns (fnmatch) allowed to get no gradient."
    )
    fail_on_warn: bool = Field(_SPEC.fail_on_warn, description="Treat warnings as failures.")

    # Script mode
    pin: Pin = Field(_SPEC.pin, description="Script mode: how to pin the batch.")

    # Runner
    runner: Literal["local", "docker"] = Field("local", description="Where the harness runs.")
    image: str | None = Field(None, description="Docker runner: the training image.")
    dockerfile: str | None = Field(None, description="Docker runner: build the training image from this Dockerfile.")
    gpus: str = Field(
        "1", description="Docker runner: `1` (one GPU), `0` (CPU only), or `device=N` for a specific GPU."
    )
    network: bool = Field(False, description="Docker runner: give the training container network access.")

    # Base-branch comparison (docs/baseline.md)
    baseline: str | None = Field(
        None,
        description="Report folder of a base run to compare with, or `off`. Default: on pull requests, the gate's result on the base commit (or its nearest ancestor) on GitHub.",
    )
    regression_factor: float = Field(
        2.0, gt=1, description="Flag a regression when steps to target exceed this multiple of the base's."
    )
    first_loss_tolerance: float = Field(
        0.25,
        gt=0,
        description="Flag a first loss that moved by more than this fraction of the base's distance to the floor.",
    )
    on_regression: Literal["warn", "fail"] = Field(
        "warn", description="What a regression against the base does: `warn` (report it) or `fail` the gate."
    )

    # Output and publishing
    out: str = Field(_SPEC.out, description="Report folder.")
    name: str = Field(_SPEC.name, description="Gate name: check run name, comment marker, status context.")
    publish: bool | None = Field(None, description="Publish to GitHub (default: when a token is present).")

    @field_validator("command", mode="before")
    @classmethod
    def _split_command(cls, v: Any) -> Any:
        # Env vars and action inputs arrive as one string: split it like a shell would.
        if isinstance(v, str):
            return shlex.split(v) or None
        return v

    @field_validator("skip_checks", "allow_unused", mode="before")
    @classmethod
    def _split_list(cls, v: Any) -> Any:
        # From env vars and action inputs: comma- or newline-separated.
        if isinstance(v, str):
            return [p.strip() for p in v.replace("\n", ",").split(",") if p.strip()]
        return v

    @field_validator("skip_checks")
    @classmethod
    def _known_checks(cls, v: list[str]) -> list[str]:
        from gate.harness.spec import CHECK_NAMES

        for name in v:
            if name not in CHECK_NAMES:
                close = difflib.get_close_matches(name, CHECK_NAMES, n=1, cutoff=0.6)
                hint = f" (did you mean `{close[0]}`?)" if close else ""
                raise ValueError(f"unknown check {name!r}{hint}; checks: {', '.join(CHECK_NAMES)}")
        return v

    @field_validator("gpus", mode="before")
    @classmethod
    def _gpus_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v

    @model_validator(mode="after")
    def _one_mode(self) -> Config:
        if self.entrypoint and self.command:
            raise ValueError("set either `entrypoint` (task mode) or `command` (script mode), not both")
        return self

    @property
    def mode(self) -> Mode:
        return "script" if self.command else "task"

    def workdir(self, cwd: Path) -> Path:
        """The folder the pipeline runs in: ``working_directory`` against the folder the gate
        started in (the repository root), whichever layer set it — the pyproject table too."""
        return (cwd / self.working_directory).resolve()


KEYS = tuple(Config.model_fields)


def unknown_key(key: str, source: str) -> ConfigError:
    close = difflib.get_close_matches(norm(key), KEYS, n=1, cutoff=0.6)
    did_you_mean = f"did you mean `{close[0].replace('_', '-')}`?" if close else ""
    return ConfigError(
        f"unknown config key `{key}` in {source}",
        hint=" ".join(filter(None, [did_you_mean, f"known keys: {', '.join(k.replace('_', '-') for k in KEYS)}"])),
    )


def _layer(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        k = norm(key)
        if k not in KEYS:
            raise unknown_key(key, source)
        out[k] = value
    return out


def from_file(path: Path, required: bool = False) -> dict[str, Any]:
    """``[tool.overfit-gate]`` of a pyproject.toml, or the top level of any other TOML file."""
    if not path.is_file():
        if required:
            raise ConfigError(f"config file {path} does not exist")
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("overfit-gate", {}) if path.name == "pyproject.toml" else data
    if not isinstance(table, dict):
        raise ConfigError(f"[tool.overfit-gate] in {path} must be a table")
    return _layer(table, f"{path} [tool.overfit-gate]" if path.name == "pyproject.toml" else str(path))


def from_env(env: Mapping[str, str], prefix: str, source: str) -> dict[str, Any]:
    """``OVERFIT_GATE_TARGET_RATIO`` / ``INPUT_TARGET-RATIO`` (see ``gate.inputs``)."""
    raw = {k: v for k, v in read_env(env, prefix).items() if k not in _NOT_CONFIG}
    if prefix == INPUT_PREFIX:
        # Action inputs that are not config keys (github-token, config-file, args) are
        # handled by the action entry; only config keys pass through here.
        raw = {k: v for k, v in raw.items() if k in KEYS}
    return _layer(raw, f"environment ({prefix}*)" if prefix == ENV_PREFIX else "action inputs")


def resolve(
    cli: Mapping[str, Any],
    env: Mapping[str, str],
    cwd: Path,
    config_file: str | None = None,
) -> Config:
    """Merge the layers (later wins) and validate once, so every error names its key. ``cwd`` is
    the folder the gate started in; ``config_file`` the ``--config-file`` flag."""
    cfg_path, explicit = locate_config(cli, env, cwd, config_file)
    layers = [
        from_file(cfg_path, required=explicit),
        from_env(env, ENV_PREFIX, "environment"),
        from_env(env, INPUT_PREFIX, "action inputs"),
        _layer({k: v for k, v in cli.items() if v is not None}, "command line"),
    ]
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update(layer)
    try:
        return Config.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "config"
        raise ConfigError(
            f"invalid value for `{key.replace('_', '-')}`: {first['msg']}",
            hint=f"got {first.get('input')!r}" if "input" in first and key != "config" else "",
        ) from None


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


def report_folder(cli_out: str | None, env: Mapping[str, str]) -> Path:
    """The report folder where the full config is not resolved (``report``, ``publish``, the
    action entry, ``run`` after a config error): the flag, the action input, the environment,
    the default — the layers' order (the pyproject table is ``run``'s alone)."""
    out = cli_out or setting(env, "out") or Config.model_fields["out"].default
    return (Path.cwd() / out).resolve()


def keys_table() -> str:
    """The Markdown table of keys in the README (a test keeps the two in sync)."""
    rows = ["| key | default | meaning |", "|---|---|---|"]
    for name, field in Config.model_fields.items():
        default = "[]" if field.default_factory is not None else field.default
        shown = "—" if default is None else f"`{str(default).lower() if isinstance(default, bool) else default}`"
        rows.append(f"| `{name.replace('_', '-')}` | {shown} | {field.description} |")
    return "\n".join(rows)
