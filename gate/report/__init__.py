"""Report rendering: everything a person reads, built from a Result alone (no torch)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from gate.result import Result


def write_reports(result: Result, out_dir: Path, env: Mapping[str, str]) -> None:
    """Write loss.csv (re-derived from the result, so ``report`` alone can rebuild it)."""
    from gate.harness.output import write_csv

    write_csv(out_dir, result.losses)
