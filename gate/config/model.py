"""The single registry of configuration keys: one pydantic model, one field per key.

The field's type, default and ``description`` are the whole declaration: the flags
(gate/commands/flags.py) and the docs tables (``keys_table``) are generated from it, and
``json_schema_extra`` says where the key may come from (its trust class, below). How keys are
read and merged is in ``sources.py`` and ``merge.py``; what a value may be, in ``values.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gate.config.values import CheckNames, Command, Gpus, Names, Pairs, Tolerations
from gate.harness.spec import Mode, Pin, Spec

# The harness's defaults are the config's: one source (gate/harness/spec.py, torch-free).
_SPEC = Spec()

# Trust classes, declared on each field (``json_schema_extra``), so a new key only says which it is.
# WORKFLOW: decides where/how the untrusted code runs; only flags, OVERFIT_GATE_* and action
# inputs may set it, never a checked-out file. CODE: names what to run (the PR's own code, which
# the PR controls anyway), read from the checkout. Unmarked keys decide the verdict: on a pull
# request they come from the base commit's file unless `config-source: head`.
WORKFLOW: dict[str, Any] = {"trust": "workflow"}
CODE: dict[str, Any] = {"trust": "code"}


class Config(BaseModel):
    """Every key the gate understands. The field description is the user-facing doc."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # What to run
    entrypoint: str | None = Field(
        None, description="Task mode: `path/to/file.py:function` returning the task mapping.", json_schema_extra=CODE
    )
    command: Command = Field(
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
    skip_checks: CheckNames = Field(default_factory=list, description="Checks to turn off, by name.")
    allow_unused: Names = Field(
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
        description="Keep dropout on in overfit mode (off by default, as the overfit recipe says).",
    )
    keep_weight_decay: bool = Field(
        _SPEC.keep_weight_decay,
        description="Keep weight decay on in overfit mode (off by default, like dropout).",
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
    gpus: Gpus = Field(
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
    kubernetes_node_selector: Pairs = Field(
        default_factory=list,
        description="Kubernetes runner: `label=value` pairs the GPU node must carry (nodeSelector).",
        json_schema_extra=WORKFLOW,
    )
    kubernetes_tolerations: Tolerations = Field(
        default_factory=list,
        description="Kubernetes runner: taints to tolerate, `key=value:Effect` or `key:Effect` (e.g. `nvidia.com/gpu:NoSchedule`).",
        json_schema_extra=WORKFLOW,
    )
    kubernetes_limits: Pairs = Field(
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


def trust(key: str) -> str:
    """``workflow``, ``code`` or ``verdict``: where the key may come from (see WORKFLOW)."""
    extra = Config.model_fields[key].json_schema_extra
    return str(extra.get("trust", "verdict")) if isinstance(extra, dict) else "verdict"


def keys_table() -> str:
    """The Markdown table of keys in the README (a test keeps the two in sync)."""
    rows = ["| key | default | meaning |", "|---|---|---|"]
    for name, field in Config.model_fields.items():
        default = "[]" if field.default_factory is not None else field.default
        shown = "—" if default is None else f"`{str(default).lower() if isinstance(default, bool) else default}`"
        only = " *Workflow only: never read from a config file.*" if trust(name) == "workflow" else ""
        rows.append(f"| `{name.replace('_', '-')}` | {shown} | {field.description}{only} |")
    return "\n".join(rows)
