"""A result -> its compact summary, and the summary's text form in a check run's ``output.text``.

The check run the gate posts on every commit is the store: it needs no artifact storage, it
exists wherever the required status check does, and the checks API reads it back from any
later job, fork PRs' trusted ``publish`` included. The text is Markdown on the check run's
page, so the JSON sits in an HTML comment (invisible there) under a one-line explanation, and
``<``/``>`` are written as JSON escapes so nothing inside can close the comment.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pydantic import ValidationError

from gate.baseline.model import MAX_CURVE, SUMMARY_VERSION, Curve, Fingerprint, RunSummary
from gate.report.series import pick_indices
from gate.result import Result

HEADER = (
    "Machine-readable summary of this overfit-gate run, read back by later runs to compare "
    "with this commit (docs/baseline.md)."
)
_BLOCK = re.compile(r"<!-- overfit-gate-summary v(\d+)\n(.*?)\n-->", re.DOTALL)
MAX_TEXT = 60000  # well under the check run's 65,535: a summary is ~3 KB


class SummaryError(ValueError):
    """A check run's text holds no summary this version can read; the message says why."""


def _num(x: float | None) -> float | None:
    # Six significant digits: the comparison needs ratios, not bits, and the text stays small.
    return None if x is None or not math.isfinite(x) else float(f"{x:.6g}")


def fingerprint(result: Result) -> Fingerprint:
    cfg = result.config
    if cfg.get("target_loss") is not None:
        target = f"loss {cfg['target_loss']:g}"
    elif cfg.get("target_ratio") is not None:
        target = f"ratio {cfg['target_ratio']:g}"
    else:
        target = ""
    if cfg.get("loss_floor") is not None:
        target += f", floor {cfg['loss_floor']:g}"
    steps = cfg.get("steps")
    return Fingerprint(
        seed=result.seed,
        steps=int(steps) if isinstance(steps, int) else None,
        target=target,
        torch=result.torch_version,
        device=(result.device or "").split(":")[0],
        name=result.name,
    )


def from_result(result: Result, event: str | None = None) -> RunSummary:
    losses = result.losses
    idx = pick_indices(len(losses), MAX_CURVE)
    return RunSummary(
        version=SUMMARY_VERSION,
        verdict=result.verdict,
        steps=result.steps,
        target_step=result.target_step,
        first_loss=_num(result.initial_loss),
        best_loss=_num(result.best_loss),
        final_loss=_num(result.final_loss),
        target=_num(result.target),
        floor=_num(result.floor),
        checks={c.name: c.status for c in result.checks},
        curve=Curve(n=len(losses), values=[_num(losses[i]) for i in idx]),
        fingerprint=fingerprint(result),
        event=event,
    )


def encode(summary: RunSummary) -> str:
    data = json.dumps(summary.model_dump(mode="json"), separators=(",", ":"), allow_nan=False)
    data = data.replace("<", "\\u003c").replace(">", "\\u003e")  # cannot end the HTML comment
    return f"{HEADER}\n\n<!-- overfit-gate-summary v{summary.version}\n{data}\n-->\n"


def check_run_text(result: Result, event: str | None) -> str | None:
    """The gate's check run ``output.text``; None if it cannot be built (a missing summary costs
    a future comparison, never this check run)."""
    try:
        return encode(from_result(result, event))
    except Exception:
        return None


def decode(text: str | None) -> RunSummary:
    """The summary in a check run's text; SummaryError saying why there is none to use."""
    match = _BLOCK.search(text or "")
    if match is None:
        raise SummaryError("its check run carries no overfit-gate summary (a gate older than this comparison?)")
    version = int(match.group(1))
    if version > SUMMARY_VERSION:
        raise SummaryError(
            f"its summary is version {version}, newer than this gate reads ({SUMMARY_VERSION}): upgrade overfit-gate"
        )
    try:
        raw: Any = json.loads(match.group(2))
        return RunSummary.model_validate(raw)
    except (ValueError, ValidationError) as exc:
        first = str(exc).splitlines()[0][:200]
        raise SummaryError(f"its summary is unreadable ({first})") from None


def curve_points(curve: Curve) -> list[tuple[int, float | None]]:
    """(step, loss) pairs of a stored curve; a curve whose sizes disagree gives none."""
    idx = pick_indices(curve.n, len(curve.values)) if curve.values else []
    if len(idx) != len(curve.values):
        return []
    return list(zip(idx, curve.values, strict=True))
