"""The spec the controller hands the harness (``spec.json``). Standard library only."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

Mode = Literal["task", "script"]
Pin = Literal["auto", "dataloader", "module", "off"]


@dataclass(frozen=True)
class Spec:
    """The harness's settings. Its defaults are the defaults: ``Config`` and ``Monitor`` take
    theirs from here."""

    mode: Mode = "task"
    entrypoint: str | None = None
    command: list[str] = field(default_factory=list)
    out: str = "overfit-gate-report"
    steps: int = 500
    max_steps: int | None = None  # None: EXTEND_FACTOR x steps

    EXTEND_FACTOR = 4  # how far past `steps` a still-falling loss may go by default
    target_ratio: float = 0.01
    target_loss: float | None = None
    loss_floor: float | None = None
    confirm_steps: int = 20
    divergence_factor: float = 10.0
    patience: int = 200
    seed: int = 0
    device: str = "auto"
    sync_every: int = 16
    log_every: int = 50
    skip_checks: list[str] = field(default_factory=list)
    allow_unused: list[str] = field(default_factory=list)
    fail_on_warn: bool = False
    causal_dim: int | None = None  # overrides the task's causal_dim and script mode's detection
    keep_dropout: bool = False
    keep_weight_decay: bool = False
    pin: Pin = "auto"
    samples_dependent: bool = False
    name: str = "overfit-gate"
    # One-time value from the controller, echoed in result.json: a result planted in the folder
    # (or forged by code that never saw the spec) does not carry it.
    nonce: str = ""

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Spec:
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            # The harness and controller ship together; a mismatch is a bug, say so loudly.
            raise ValueError(f"spec has unknown keys {sorted(unknown)}: harness/controller version mismatch")
        return cls(**raw)

    @classmethod
    def load(cls, path: Path) -> Spec:
        return cls.from_dict(json.loads(Path(path).read_text()))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def step_cap(self) -> int:
        """The most steps a run may take while its loss is still clearly falling."""
        return self.max_steps if self.max_steps is not None else self.EXTEND_FACTOR * self.steps

    def enabled(self, check: str) -> bool:
        return check not in self.skip_checks
