"""``loss.png``: the loss curve as a person should see it in a PR comment.

matplotlib is imported inside :func:`render_png` only, so ``overfit-gate report`` and the
rest of the controller start without paying for it (and work where it is missing)."""

from __future__ import annotations

import hashlib
import struct
import textwrap
from pathlib import Path
from typing import Any, BinaryIO, overload

from gate import __version__
from gate.harness.verdict import fmt
from gate.report.series import envelope, finite, first_nonfinite, use_log
from gate.result import Result

# 8 x 4.2 in at 125 dpi = 1000 x 525 px: GitHub shows comment images up to ~880 px wide,
# so the picture is shown at (nearly) 1:1 and the 10 pt text stays readable.
FIG_INCHES = (8.0, 4.2)
DPI = 125
SIZE_PX = (round(FIG_INCHES[0] * DPI), round(FIG_INCHES[1] * DPI))
SUBTITLE_WIDTH = 100  # characters per subtitle line: fits the 8 in figure at 9 pt
SUBTITLE_LINES = 3
SUBTITLE_CHARS = SUBTITLE_WIDTH * SUBTITLE_LINES
MAX_BUCKETS = 1500  # min/max envelope above 3,000 points: same picture, fast to draw

COLORS = {"pass": "#1a7f37", "fail": "#cf222e", "error": "#9a6700", "not_applicable": "#6e7781"}
LOSS, BASELINE, TARGET, FLOOR = "#0969da", "#bc4c00", "#1a7f37", "#6e7781"
BASE_RUN = "#8250df"  # the base branch's run (gate.baseline), dashed
BASELINE_CHECK = "input_dependence"


FINGERPRINT_KEY = "overfit-gate-result"


def fingerprint(result: Result) -> str:
    """What the picture was drawn from: the result and the renderer's version."""
    return hashlib.sha256(f"{__version__}\n{result.model_dump_json()}".encode()).hexdigest()


def _text_chunks(path: Path, limit: int = 1 << 16) -> dict[str, str]:
    """The PNG's tEXt metadata (read with the standard library: no matplotlib import)."""
    try:
        data = path.read_bytes()[:limit]
    except OSError:
        return {}
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return {}
    out, pos = {}, 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"IDAT":
            break  # metadata comes before the image data
        if kind == b"tEXt":
            key, _, value = data[pos + 8 : pos + 8 + length].partition(b"\0")
            out[key.decode("latin-1")] = value.decode("latin-1")
        pos += 12 + length
    return out


def is_current(path: Path, result: Result) -> bool:
    """True when ``path`` was drawn from exactly this result by this version: ``report``
    then skips re-drawing it (and importing matplotlib, the bulk of its start-up)."""
    return _text_chunks(path).get(FINGERPRINT_KEY) == fingerprint(result)


def baseline_losses(result: Result) -> list[float | None] | None:
    """The input-dependence check's curve (inputs replaced), when it ran and recorded one."""
    for c in result.checks:
        if c.name == BASELINE_CHECK and isinstance(c.data.get("losses"), list):
            return [v if isinstance(v, (int, float)) else None for v in c.data["losses"]]
    return None


EVENT_LABELS = {
    "nonfinite": "non-finite loss",
    "below_floor": "below floor",
    "diverged": "diverged",
    "stalled": "stalled",
    "budget": "budget spent",
}


def event_label(result: Result) -> str | None:
    """What went wrong at ``event_step``, for the marker's label."""
    step = result.event_step
    if result.verdict != "fail" or step is None:
        return None
    if result.event_kind in EVENT_LABELS:
        return f"{EVENT_LABELS[result.event_kind]} @ step {step}"
    # Results from before `event_kind` existed: read it off the losses and the reason.
    losses = result.losses
    if step < len(losses) and losses[step] is None:
        return f"non-finite loss @ step {step}"
    reason = result.reason.lower()
    for word, label in (("diverged", "diverged"), ("below its floor", "below floor"), ("stopped improving", "stalled")):
        if word in reason:
            return f"{label} @ step {step}"
    return f"stopped @ step {step}"


def title(result: Result) -> str:
    name = "" if result.name == "overfit-gate" else f" [{result.name}]"
    head = f"overfit-gate{name}: {result.verdict.replace('_', ' ').upper()}"
    if result.steps and result.initial_loss is not None:
        final = "non-finite" if result.final_loss is None and result.losses else fmt(result.final_loss)
        head += f"  ·  loss {fmt(result.initial_loss)} → {final} in {result.steps} steps"
    return head


def describe(result: Result) -> str:
    """The picture in words (the PNG's Description), naming each curve drawn."""
    from gate.baseline.render import overlay

    curves = ["loss per step"]
    if baseline_losses(result):
        curves.append(f"dashed: inputs replaced ({BASELINE_CHECK})")
    base_run = overlay(result)
    if base_run:
        curves.append(f"dashed: {base_run[2]}")
    return "; ".join(curves)


def subtitle(reason: str) -> str:
    """The reason wrapped onto up to SUBTITLE_LINES lines (a single line was cut off at the
    figure's edge); longer reasons end in an ellipsis and show in full in the report."""
    lines = textwrap.wrap(reason, SUBTITLE_WIDTH) or [""]
    if len(lines) > SUBTITLE_LINES:
        rest = textwrap.shorten(" ".join(lines[SUBTITLE_LINES - 1 :]), SUBTITLE_WIDTH, placeholder=" …")
        lines = [*lines[: SUBTITLE_LINES - 1], rest]
    return "\n".join(lines)


def load_pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (never a display, even where one is configured)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


@overload
def render_png(result: Result, path: Path) -> Path: ...
@overload
def render_png(result: Result, path: BinaryIO) -> BinaryIO: ...
def render_png(result: Result, path: Path | BinaryIO) -> Path | BinaryIO:
    """Draw the loss curve into ``path`` (a file name, or a binary file object)."""
    plt = load_pyplot()
    with plt.rc_context({"font.size": 10, "axes.spines.top": False, "axes.spines.right": False}):
        fig, ax = plt.subplots(figsize=FIG_INCHES, dpi=DPI)
        try:
            _draw(ax, result)
            color = COLORS[result.verdict]
            fig.suptitle(title(result), color=color, fontweight="bold", x=0.01, ha="left")
            ax.set_title(
                subtitle(result.reason),
                fontsize=9,
                loc="left",
                color="#57606a",
            )
            fig.tight_layout()
            if isinstance(path, Path):
                path.parent.mkdir(parents=True, exist_ok=True)
            metadata = {
                "Software": "overfit-gate",
                FINGERPRINT_KEY: fingerprint(result),
                "Description": describe(result),
            }
            fig.savefig(path, dpi=DPI, format="png", metadata=metadata)
        finally:
            plt.close(fig)
    return path


def _draw(ax: Any, result: Result) -> None:
    from gate.baseline.render import overlay

    losses = result.losses
    base = baseline_losses(result)
    base_run = overlay(result)
    everything = list(losses) + list(base or []) + list(base_run[1] if base_run else [])
    if not finite(everything):
        ax.set_axis_off()
        msg = "no finite loss was recorded" + ("" if not losses else f" ({len(losses)} steps, all non-finite)")
        if len(result.reason) > SUBTITLE_CHARS:  # the subtitle cut it short: show all of it here
            msg += "\n\n" + textwrap.fill(textwrap.shorten(result.reason, 600), 90)
        ax.text(0.5, 0.5, msg, ha="center", va="center", transform=ax.transAxes, color="#57606a")
        return

    log = use_log(everything)
    if log:
        ax.set_yscale("log")
    xs, ys = envelope(losses, MAX_BUCKETS)
    ax.plot(xs, [float("nan") if v is None else v for v in ys], color=LOSS, lw=1.6, label="loss")
    if base:
        bx, by = envelope(base, MAX_BUCKETS)
        ax.plot(
            bx,
            [float("nan") if v is None else v for v in by],
            color=BASELINE,
            lw=1.3,
            ls="--",
            label="inputs replaced (input_dependence)",
        )
    if base_run:
        steps, values, label = base_run
        ax.plot(steps, [float("nan") if v is None else v for v in values], color=BASE_RUN, lw=1.4, ls="--", label=label)
    if result.target is not None and (result.target > 0 or not log):
        ax.axhline(result.target, color=TARGET, lw=1, ls="--", label=f"target {fmt(result.target)}")
    if result.floor is not None and (result.floor > 0 or not log):
        ax.axhline(result.floor, color=FLOOR, lw=1, ls=":", label=f"floor {fmt(result.floor)}")
    _mark_target(ax, result)
    _mark_event(ax, result)
    ax.set_xlabel("step")
    ax.set_ylabel("loss (log scale)" if log else "loss")
    last = max(len(losses), len(base or []), base_run[0][-1] + 1 if base_run else 0, 2) - 1
    ax.set_xlim(-0.01 * last, 1.02 * last)  # room for a marker on the first or last step
    ax.grid(True, which="major", alpha=0.25)
    ax.legend(loc="best", fontsize=8, framealpha=0.9)


def _mark_target(ax: Any, result: Result) -> None:
    step = result.target_step
    if step is None or step >= len(result.losses) or result.losses[step] is None:
        return
    y = result.losses[step]
    ax.plot([step], [y], marker="o", ms=7, color=TARGET, zorder=5, ls="none", label=f"target reached @ step {step}")
    ax.axvline(step, color=TARGET, lw=0.8, alpha=0.5)


def _mark_event(ax: Any, result: Result) -> None:
    label = event_label(result)
    step = result.event_step
    if label is None or step is None:
        return
    ax.axvline(step, color=COLORS["fail"], lw=1.2, alpha=0.8, label=label)
    bad = first_nonfinite(result.losses)
    if bad is not None and bad == step:
        # No value to plot at a NaN: put the cross on the last finite point's level.
        prior = finite(result.losses[:step]) or finite(result.losses)
        ax.plot([step], [prior[-1]], marker="X", ms=10, color=COLORS["fail"], zorder=6, ls="none")
    elif step < len(result.losses) and result.losses[step] is not None:
        ax.plot([step], [result.losses[step]], marker="X", ms=10, color=COLORS["fail"], zorder=6, ls="none")
