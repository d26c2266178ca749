"""The loss curve as a Mermaid ``xychart-beta`` block, which GitHub renders inline in
comments, check-run summaries and job summaries (no image hosting needed)."""

from __future__ import annotations

import math

from gate.report.series import Series, first_nonfinite, pick_indices, use_log

MAX_POINTS = 100


def number(x: float, digits: int = 4) -> str:
    """A number Mermaid's lexer accepts: ``[+-]?(\\d+(\\.\\d+)?|\\.\\d+)``, so no exponent."""
    s = f"{x:.{digits}g}"
    if "e" in s or "E" in s:
        v = float(s)
        places = max(0, digits - 1 - math.floor(math.log10(abs(v)))) if v else 0
        s = f"{v:.{places}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def xychart(losses: Series, baseline: Series | None = None, max_points: int = MAX_POINTS) -> str | None:
    """The chart, or None when there is nothing to draw (fewer than two finite steps).

    Only the finite prefix is drawn (the gate stops at the first NaN; the text says where),
    on a numeric step axis, so the picked points must be evenly spaced."""
    cut = first_nonfinite(losses)
    head = list(losses[:cut] if cut is not None else losses)
    if len(head) < 2:
        return None
    idx = pick_indices(len(head), max_points)
    base = None
    if baseline is not None and len(baseline) >= len(head):
        picked = [baseline[i] for i in idx]
        if all(v is not None and math.isfinite(v) for v in picked):
            base = [float(v) for v in picked if v is not None]
    log = use_log([*head, *(base or [])])

    def fmt(v: float) -> str:
        return number(math.log10(v)) if log else number(v)

    lines = [
        "xychart-beta",
        f'    title "{"log10(loss)" if log else "loss"} per step"',
        f'    x-axis "step" 0 --> {len(head) - 1}',
        f'    y-axis "{"log10(loss)" if log else "loss"}"',
        "    line [" + ", ".join(fmt(float(head[i])) for i in idx) + "]",  # type: ignore[arg-type]
    ]
    if base is not None:
        lines.append("    line [" + ", ".join(fmt(v) for v in base) + "]")
    return "\n".join(lines)
