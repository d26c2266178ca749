"""Loss-series helpers shared by the PNG, the Markdown and the terminal: downsampling,
the log-scale decision and a Unicode sparkline. Pure Python, so ``report`` starts fast."""

from __future__ import annotations

import math
from collections.abc import Sequence

Series = Sequence[float | None]

SPARK = "▁▂▃▄▅▆▇█"
# A loss that falls over two decades reads as a flat line at the bottom on a linear axis.
LOG_RATIO = 100.0


def _ok(v: float | None) -> bool:
    return v is not None and math.isfinite(v)


def finite(values: Series) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def first_nonfinite(values: Series) -> int | None:
    """Index of the first missing (non-finite) loss; JSON stores NaN/Inf as null."""
    return next((i for i, v in enumerate(values) if v is None or not math.isfinite(v)), None)


def use_log(values: Series) -> bool:
    """Log scale when every loss is positive and they span at least ``LOG_RATIO``."""
    vals = finite(values)
    if len(vals) < 2 or min(vals) <= 0:
        return False
    return max(vals) / min(vals) >= LOG_RATIO


def pick_indices(n: int, max_points: int) -> list[int]:
    """Evenly spaced indices into ``n`` items, first and last always included.

    Picking (not averaging) keeps the first, best-looking and final values exact, and an
    evenly spaced pick lets a chart put the points on a plain numeric step axis."""
    if n <= 0:
        return []
    if n <= max_points:
        return list(range(n))
    if max_points <= 1:
        return [n - 1]
    step = (n - 1) / (max_points - 1)
    out = sorted({round(i * step) for i in range(max_points)})
    return out


def envelope(values: Series, max_buckets: int) -> tuple[list[int], list[float | None]]:
    """Min and max of each bucket, in step order, so a spike survives downsampling for
    the PNG (a 100,000-step curve drawn point by point is slow and no sharper)."""
    n = len(values)
    if n <= 2 * max_buckets:
        return list(range(n)), list(values)
    points: list[tuple[int, float | None]] = []
    for b in range(max_buckets):
        lo, hi = b * n // max_buckets, (b + 1) * n // max_buckets
        good = [(i, v) for i in range(lo, hi) if (v := values[i]) is not None and math.isfinite(v)]
        picks: set[tuple[int, float | None]] = set()
        if good:
            picks.add(min(good, key=lambda p: p[1]))
            picks.add(max(good, key=lambda p: p[1]))
        if len(good) < hi - lo:  # keep the gap visible: the bucket's first missing point
            picks.add((next(i for i in range(lo, hi) if not _ok(values[i])), None))
        points.extend(sorted(picks, key=lambda p: p[0]))
    xs = [i for i, _ in points]
    ys = [v for _, v in points]
    return xs, ys


def sparkline(values: Series, width: int = 40, log: bool | None = None) -> str:
    """A one-line picture of the curve; ``✕`` where the loss was not finite."""
    if not values:
        return ""
    idx = pick_indices(len(values), width)
    pts = [values[i] for i in idx]
    log = use_log(values) if log is None else log
    vals = finite(pts)
    if not vals:
        return "✕" * len(pts)

    def scale(v: float) -> float:
        return math.log10(v) if log else v

    lo, hi = scale(min(vals)), scale(max(vals))
    span = hi - lo
    out = []
    for v in pts:
        if v is None or not math.isfinite(v):
            out.append("✕")
        elif span <= 0:
            out.append(SPARK[len(SPARK) // 2])
        else:
            out.append(SPARK[round((scale(v) - lo) / span * (len(SPARK) - 1))])
    return "".join(out)
