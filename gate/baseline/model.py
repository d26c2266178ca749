"""The data of the base-branch comparison: the run summary a check run carries, and the
``baseline`` block ``result.json`` gains.

The summary is its own versioned format (``SUMMARY_VERSION``), separate from ``result.json``'s
schema: it is what a *future* run reads back from an old commit's check run, so it must stay
small (a curve of at most ``MAX_CURVE`` points) and a reader must recognise versions it does
not know rather than misread them. Both models keep unknown keys (a newer writer may add
some), like the rest of ``result.json``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SUMMARY_VERSION = 1
MAX_CURVE = 200  # points of the base curve kept in a summary (<= 200, issue 15)

Status = Literal["no_change", "regression", "not_comparable", "skipped"]
FindingKind = Literal["steps", "check", "first_loss"]
Source = Literal["github", "folder", ""]  # where the base came from ("": nowhere yet)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Fingerprint(_Open):
    """What must match for two runs to be comparable (a differing key is named in the message)."""

    seed: int | None = None
    steps: int | None = None  # the step budget
    target: str = ""  # "ratio 0.01" / "loss 0.05", plus "floor 0.1" when one was configured
    torch: str = ""
    device: str = ""  # the device *type* (cpu, cuda): cuda:0 and cuda:1 are the same hardware class
    name: str = ""  # the gate name


class Curve(_Open):
    """The loss curve picked at ``gate.report.series.pick_indices(n, len(values))``."""

    n: int = 0  # steps in the full curve
    values: list[float | None] = Field(default_factory=list)


class RunSummary(_Open):
    """One run, as the base side of a comparison needs it."""

    version: int = SUMMARY_VERSION
    verdict: str
    steps: int = 0  # steps run
    target_step: int | None = None  # steps to target: the first step at or under the target
    first_loss: float | None = None
    best_loss: float | None = None
    final_loss: float | None = None
    target: float | None = None
    floor: float | None = None
    checks: dict[str, str] = Field(default_factory=dict)  # name -> pass|warn|fail|skip
    curve: Curve = Field(default_factory=Curve)
    fingerprint: Fingerprint = Field(default_factory=Fingerprint)
    # The GitHub event of the run this summary was published for (push, pull_request, ...):
    # only non-PR runs are trusted as a baseline (gate.baseline.find).
    event: str | None = None


class Policy(_Open):
    """The thresholds, from the config keys of the same names."""

    regression_factor: float = 2.0
    first_loss_tolerance: float = 0.5
    on_regression: Literal["warn", "fail"] = "warn"


class Finding(_Open):
    kind: FindingKind
    message: str
    head: float | str | None = None
    base: float | str | None = None


class Override(_Open):
    """What a regression under ``on-regression: fail`` replaced, so a re-comparison (the trusted
    ``publish``) can start again from the run's own verdict."""

    verdict: str
    reason: str


class BaselineBlock(_Open):
    """``result.json``'s ``baseline``: what this run was compared with, and what came of it."""

    status: Status
    message: str  # the one sentence (or why the comparison was skipped / not comparable)
    source: Source = ""
    label: str = "base"  # how the base is named in sentences: the base branch, else "base"
    sha: str | None = None
    distance: int | None = None  # commits between the PR's base commit and the one compared with
    url: str | None = None  # the base check run
    policy: Policy = Field(default_factory=Policy)
    findings: list[Finding] = Field(default_factory=list)
    base: RunSummary | None = None
    overrode: Override | None = None

    @property
    def short_sha(self) -> str:
        return (self.sha or "")[:7]
