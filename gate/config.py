"""The single registry of configuration keys, and their resolution.

Precedence, lowest first: ``[tool.overfit-gate]`` in pyproject.toml (or ``config-file``),
``OVERFIT_GATE_*`` environment variables, GitHub Action inputs (``INPUT_*``), command-line flags.
Keys are snake_case here; kebab-case is accepted everywhere (``target-ratio``).

Every key declares where it may come from (docs/security.md): the checked-out files belong to
the change under test, so keys that decide where and how that code runs are ``WORKFLOW`` keys,
refused in a file; verdict keys come from the pull request's *base* commit (``config-source``,
gate/baseconfig.py); the keys that name what to run come from the checkout itself.
"""

from __future__ import annotations

import difflib
import json
import re
import shlex
import sys
from collections.abc import Callable, Mapping
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
GPUS = re.compile(r"[01]|none|device=(\d+|GPU-[0-9a-fA-F-]+)")

# Trust classes, declared on each field (``json_schema_extra``), so a new key only says which it is.
# WORKFLOW: decides where/how the untrusted code runs; only flags, OVERFIT_GATE_* and action
# inputs may set it, never a checked-out file. CODE: names what to run (the PR's own code, which
# the PR controls anyway), read from the checkout. Unmarked keys decide the verdict: on a pull
# request they come from the base commit's file unless `config-source: head`.
WORKFLOW: dict[str, Any] = {"trust": "workflow"}
CODE: dict[str, Any] = {"trust": "code"}


def _comma_list(v: Any) -> Any:
    # From env vars and action inputs: comma- or newline-separated.
    if isinstance(v, str):
        return [p.strip() for p in v.replace("\n", ",").split(",") if p.strip()]
    return v


class Config(BaseModel):
    """Every key the gate understands. The field description is the user-facing doc."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # What to run
    entrypoint: str | None = Field(
        None, description="Task mode: `path/to/file.py:function` returning the task mapping.", json_schema_extra=CODE
    )
    command: list[str] | None = Field(
        None, description="Script mode: the training command, e.g. `python train.py --lr 3e-4`.", json_schema_extra=CODE
    )
    working_directory: str = Field(
        ".", description="Folder the pipeline runs in; relative paths resolve against it.", json_schema_extra=CODE
    )
    python: str | None = Field(
        None,
        description="Python of the training environment: for the local runner (default: the gate's own), or inside the image for the docker runner (default: `python`, else `python3`).",
        json_schema_extra=WORKFLOW,
    )

    # Overfit loop and verdict
    steps: int = Field(_SPEC.steps, ge=1, description="Step budget; fail if the target is not reached within it.")
    max_steps: int | None = Field(
        None,
        ge=1,
        description=f"Go on up to this many steps while the loss still falls (default {Spec.EXTEND_FACTOR} x `steps`).",
    )
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
    timeout: float = Field(
        900.0,
        gt=0,
        description="Seconds before the run is killed and reported as an error.",
        json_schema_extra=WORKFLOW,
    )

    # Checks
    skip_checks: list[str] = Field(default_factory=list, description="Checks to turn off, by name.")
    allow_unused: list[str] = Field(
        default_factory=list, description="Parameter name patterns (fnmatch) allowed to get no gradient."
    )
    fail_on_warn: bool = Field(_SPEC.fail_on_warn, description="Treat warnings as failures.")
    causal_dim: int | None = Field(
        None,
        ge=1,
        description="Time axis of an autoregressive model's output for the `causality` check (overrides the task's "
        "`causal_dim` and script mode's detection of language models).",
    )
    keep_dropout: bool = Field(
        _SPEC.keep_dropout,
        description="Keep dropout on in overfit mode (by default it is turned off, as the overfit recipe says).",
    )
    samples_dependent: bool = Field(
        _SPEC.samples_dependent,
        description="The samples of a batch depend on each other by design (graph nodes, set models): skip `batch_independence`.",
    )

    # Script mode
    pin: Pin = Field(_SPEC.pin, description="Script mode: how to pin the batch.")

    # Runner
    runner: Literal["local", "docker", "kubernetes"] = Field(
        "local",
        description="Where the harness runs: `local`, `docker` or `kubernetes` (docs/runners.md).",
        json_schema_extra=WORKFLOW,
    )
    image: str | None = Field(None, description="Docker runner: the training image.", json_schema_extra=WORKFLOW)
    dockerfile: str | None = Field(
        None, description="Docker runner: build the training image from this Dockerfile.", json_schema_extra=WORKFLOW
    )
    gpus: str = Field(
        "1",
        description="Docker runner: `1` (one GPU), `0` (CPU only), or `device=N` for a specific GPU.",
        json_schema_extra=WORKFLOW,
    )
    network: bool = Field(
        False, description="Docker runner: give the training container network access.", json_schema_extra=WORKFLOW
    )

    # Base-branch comparison (docs/baseline.md)
    baseline: str | None = Field(
        None,
        description="Report folder of a base run to compare with, or `off`. Default: on pull requests, the gate's result on the base commit (or its nearest ancestor) on GitHub.",
    )
    regression_factor: float = Field(
        2.0, gt=1, description="Flag a regression when steps to target exceed this multiple of the base's."
    )
    first_loss_tolerance: float = Field(
        0.5,
        gt=0,
        description="Flag a first loss that moved by more than this fraction of the base's distance to the floor.",
    )
    on_regression: Literal["warn", "fail"] = Field(
        "warn", description="What a regression against the base does: `warn` (report it) or `fail` the gate."
    )

    # Kubernetes runner (docs/kubernetes.md). Like every runner key, these decide where the
    # untrusted code runs: workflow-only (flags, OVERFIT_GATE_*, action inputs), never a checked-out file.
    kubernetes_namespace: str | None = Field(
        None,
        description="Kubernetes runner: namespace of the Job (default: the service account's, else the kubeconfig context's).",
        json_schema_extra=WORKFLOW,
    )
    kubernetes_gpu_resource: str = Field(
        "nvidia.com/gpu",
        description="Kubernetes runner: extended resource for the one GPU (`nvidia.com/gpu`, `amd.com/gpu`, ...).",
        json_schema_extra=WORKFLOW,
    )
    kubernetes_node_selector: list[str] = Field(
        default_factory=list,
        description="Kubernetes runner: `label=value` pairs the GPU node must carry (nodeSelector).",
        json_schema_extra=WORKFLOW,
    )
    kubernetes_tolerations: list[str] = Field(
        default_factory=list,
        description="Kubernetes runner: taints to tolerate, `key=value:Effect` or `key:Effect` (e.g. `nvidia.com/gpu:NoSchedule`).",
        json_schema_extra=WORKFLOW,
    )
    kubernetes_limits: list[str] = Field(
        default_factory=list,
        description="Kubernetes runner: `memory=16Gi`, `cpu=4`, ...: requests and limits of the training container.",
        json_schema_extra=WORKFLOW,
    )
    kubernetes_pending_timeout: float = Field(
        300.0,
        gt=0,
        description="Kubernetes runner: seconds the pod may stay Pending (no GPU node, image pull) before the run errors.",
        json_schema_extra=WORKFLOW,
    )
    kubernetes_ttl: int = Field(
        600,
        ge=0,
        description="Kubernetes runner: ttlSecondsAfterFinished, the cluster's cleanup if the gate itself was killed.",
        json_schema_extra=WORKFLOW,
    )

    # Output and publishing
    out: str = Field(_SPEC.out, description="Report folder.", json_schema_extra=WORKFLOW)
    name: str = Field(
        _SPEC.name, description="Gate name: check run name, comment marker, status context.", json_schema_extra=WORKFLOW
    )
    publish: bool | None = Field(
        None, description="Publish to GitHub (default: when a token is present).", json_schema_extra=WORKFLOW
    )
    config_source: Literal["base", "head"] = Field(
        "base",
        description="On a pull request, whose config file sets the verdict keys: `base` (the target branch's; the PR's changes are shown) or `head` (the PR's own).",
        json_schema_extra=WORKFLOW,
    )

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
        return _comma_list(v)

    @field_validator("skip_checks")
    @classmethod
    def _known_checks(cls, v: list[str]) -> list[str]:
        from gate.harness.check_table import CHECK_NAMES

        for name in v:
            if name not in CHECK_NAMES:
                close = difflib.get_close_matches(name, CHECK_NAMES, n=1, cutoff=0.6)
                hint = f" (did you mean `{close[0]}`?)" if close else ""
                raise ValueError(f"unknown check {name!r}{hint}; checks: {', '.join(CHECK_NAMES)}")
        return v

    @field_validator("kubernetes_node_selector", "kubernetes_tolerations", "kubernetes_limits", mode="before")
    @classmethod
    def _split_pairs(cls, v: Any) -> Any:
        # Flags, env vars and inputs: "k=v,k2=v2" (workflow keys never come from a file).
        return _comma_list(v)

    @field_validator("kubernetes_node_selector", "kubernetes_limits")
    @classmethod
    def _pairs(cls, v: list[str]) -> list[str]:
        for item in v:
            key, sep, value = item.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise ValueError(f"{item!r} is not of the form key=value")
        return v

    @field_validator("kubernetes_tolerations")
    @classmethod
    def _tolerations(cls, v: list[str]) -> list[str]:
        from gate.runners.kubernetes.jobspec import toleration

        for item in v:
            toleration(item)  # raises ValueError with the accepted forms
        return v

    @field_validator("gpus", mode="before")
    @classmethod
    def _gpus_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v

    @field_validator("gpus")
    @classmethod
    def _one_gpu(cls, v: str) -> str:
        # Exactly one GPU or none, by design: `device=all`, `2` or `device=0,1` would hand the
        # code under test every GPU on a shared runner.
        value = v.strip()
        if not GPUS.fullmatch(value):
            raise ValueError('must be "1" (one GPU), "0" (CPU only) or "device=N" / "device=GPU-<uuid>" (that GPU)')
        return value

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


def trust(key: str) -> str:
    """``workflow``, ``code`` or ``verdict``: where the key may come from (see WORKFLOW)."""
    extra = Config.model_fields[key].json_schema_extra
    return str(extra.get("trust", "verdict")) if isinstance(extra, dict) else "verdict"


def _table(data: dict[str, Any], path: Path) -> Any:
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
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    table = _table(data, path)
    if not isinstance(table, dict):
        raise ConfigError(f"[tool.overfit-gate] in {path} must be a table")
    layer = _layer(table, f"{path} [tool.overfit-gate]" if path.name == "pyproject.toml" else str(path))
    refused = [k for k in layer if trust(k) == "workflow"]
    if refused:
        key = refused[0].replace("_", "-")
        raise ConfigError(
            f"`{key}` cannot be set in {path}: it decides where and how the code under test runs, and "
            "the checked-out files belong to the change being tested",
            hint=f"set it in the workflow instead: the action input `{key}`, the flag `--{key}` or "
            f"${ENV_PREFIX}{refused[0].upper()} (docs/security.md)",
        )
    return layer


def from_env(env: Mapping[str, str], prefix: str, source: str) -> dict[str, Any]:
    """``OVERFIT_GATE_TARGET_RATIO`` / ``INPUT_TARGET-RATIO`` (see ``gate.inputs``)."""
    raw = {k: v for k, v in read_env(env, prefix).items() if k not in _NOT_CONFIG}
    if prefix == INPUT_PREFIX:
        # Action inputs that are not config keys (github-token, config-file, args) are
        # handled by the action entry; only config keys pass through here.
        raw = {k: v for k, v in raw.items() if k in KEYS}
    return _layer(raw, f"environment ({prefix}*)" if prefix == ENV_PREFIX else "action inputs")


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
        _layer({k: v for k, v in cli.items() if v is not None}, "command line"),
    ]
    source = next((t["config_source"] for t in reversed(trusted) if "config_source" in t), "base")
    changes: list[str] = []
    if base is not None and source == "base":
        file_layer, changes = _with_base(file_layer, base(cfg_path), cfg_path)
    merged: dict[str, Any] = {}
    for layer in (file_layer, *trusted):
        merged.update(layer)
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
            table = _table(tomllib.loads(base_text), path)
            base = {norm(k): v for k, v in table.items()} if isinstance(table, dict) else {}
        except tomllib.TOMLDecodeError:
            notes.append("the base commit's config file is not valid TOML: the defaults apply to this run")
    # A key this version does not know, or a WORKFLOW key, in the base file is never applied.
    base = {k: v for k, v in base.items() if k in KEYS and trust(k) == "verdict"}
    layer = {k: v for k, v in head.items() if trust(k) == "code"} | base
    for key in sorted(k for k in KEYS if trust(k) == "verdict" and head.get(k) != base.get(k)):
        notes.append(f"`{key.replace('_', '-')}`: {_shown(base.get(key))} → {_shown(head.get(key))}")
    return layer, notes


def _shown(value: Any) -> str:
    return "unset" if value is None else json.dumps(value)


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


def keys_table() -> str:
    """The Markdown table of keys in the README (a test keeps the two in sync)."""
    rows = ["| key | default | meaning |", "|---|---|---|"]
    for name, field in Config.model_fields.items():
        default = "[]" if field.default_factory is not None else field.default
        shown = "—" if default is None else f"`{str(default).lower() if isinstance(default, bool) else default}`"
        only = " *Workflow only: never read from a config file.*" if trust(name) == "workflow" else ""
        rows.append(f"| `{name.replace('_', '-')}` | {shown} | {field.description}{only} |")
    return "\n".join(rows)
