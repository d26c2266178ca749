"""Small things a user sees: every default in ``run --help`` is a real value, and the
loss.png subtitle wraps a long reason instead of running off the figure."""

from __future__ import annotations

import subprocess
import sys

from gate.report.plot import SUBTITLE_LINES, SUBTITLE_WIDTH, subtitle
from tests.conftest import ROOT


def test_run_help_shows_no_undefined_defaults() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "gate", "run", "--help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "Undefined" not in out
    flat = " ".join(out.split())
    assert "--skip-checks NAME Checks to turn off, by name. Repeatable." in flat


def test_subtitle_wraps_long_reasons_and_keeps_short_ones() -> None:
    reason = (
        "the loss reached its target, but input_dependence failed: with the inputs of GPT zeroed the loss "
        "still reached the target 0.03568 (step 36; the real run needed 172): the loss does not depend on the input"
    )
    lines = subtitle(reason).split("\n")
    assert 1 < len(lines) <= SUBTITLE_LINES and all(len(line) <= SUBTITLE_WIDTH for line in lines)
    assert " ".join(lines) == reason  # nothing lost when it fits
    long = subtitle(reason * 4).split("\n")
    assert len(long) == SUBTITLE_LINES and long[-1].endswith("…")
    assert subtitle("short") == "short"
