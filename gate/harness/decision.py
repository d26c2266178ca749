"""A verdict decision and the one number format every report line uses (pure Python)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    verdict: str  # "pass" | "fail" | "not_applicable"
    reason: str
    step: int | None = None  # the step that decided it (target confirmed, first NaN, ...)
    # machine-readable: confirmed, nonfinite, below_floor, diverged, stalled, budget; not applicable:
    # sign_changes, ended_early, unknown_floor, lr_cut (and the script-mode kinds)
    kind: str = ""


def fmt(x: float | None) -> str:
    if x is None:
        return "n/a"
    if not math.isfinite(x):
        return str(x)
    return f"{x:.4g}"
