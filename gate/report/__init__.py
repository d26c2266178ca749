"""Report rendering: everything a person reads, built from a Result alone (no torch).

``write_reports`` is what ``run`` and ``report`` call; each file is written on its own, so
a failure in one (a broken matplotlib, say) never costs the others."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from gate.result import Result


def _csv(result: Result, path: Path) -> None:
    from gate.harness.output import write_csv  # stdlib only; shared with the harness

    write_csv(path.parent, result.losses)


def _png(result: Result, path: Path) -> None:
    from gate.report.plot import is_current, render_png

    if not is_current(path, result):
        render_png(result, path)


def _md(result: Result, path: Path) -> None:
    from gate.report.markdown import render_markdown

    path.write_text(render_markdown(result), encoding="utf-8")


def _junit(result: Result, path: Path) -> None:
    from gate.report.junit import write_junit

    write_junit(result, path)


WRITERS: dict[str, Callable[[Result, Path], None]] = {
    "loss.csv": _csv,
    "loss.png": _png,
    "report.md": _md,
    "junit.xml": _junit,
}


def write_reports(result: Result, out_dir: Path) -> list[Path]:
    """Write loss.csv, loss.png, report.md and junit.xml into ``out_dir``; the paths written.
    (Actions outputs are ``gate.report.actions.emit``'s job, called by ``run``/``publish``.)"""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, writer in WRITERS.items():
        path = out_dir / name
        try:
            writer(result, path)
        except Exception as exc:  # one broken renderer must not lose the rest of the report
            print(f"overfit-gate: warning: could not write {path}: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        written.append(path)
    return written
