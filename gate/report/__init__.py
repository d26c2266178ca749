"""Report rendering: everything a person reads, built from a Result alone (no torch).

``write_reports`` is what ``run`` and ``report`` call; each file is written on its own, so
a failure in one (a broken matplotlib, say) never costs the others. Each renderer returns the
file's bytes and ``gate.outdir`` puts them in place: never through a link planted in the folder."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path

from gate import outdir
from gate.result import Result


def _csv(result: Result, path: Path) -> bytes | None:
    from gate.harness.output import csv_text  # stdlib only; shared with the harness

    return csv_text(result.losses).encode()


def _png(result: Result, path: Path) -> bytes | None:
    from gate.report.plot import is_current, render_png

    if is_current(path, result):
        return None
    buf = io.BytesIO()
    render_png(result, buf)
    return buf.getvalue()


def _md(result: Result, path: Path) -> bytes | None:
    from gate.report.markdown import render_markdown

    return render_markdown(result).encode("utf-8")


def _junit(result: Result, path: Path) -> bytes | None:
    from gate.report.junit import junit_bytes

    return junit_bytes(result)


# Each returns the file's content, or None when the file on disk is already current.
WRITERS: dict[str, Callable[[Result, Path], bytes | None]] = {
    "loss.csv": _csv,
    "loss.png": _png,
    "report.md": _md,
    "junit.xml": _junit,
}


def write_reports(result: Result, out_dir: Path) -> list[Path]:
    """Write loss.csv, loss.png, report.md and junit.xml into ``out_dir``; the paths written.
    (Actions outputs are ``gate.report.actions.emit``'s job, called by ``run``/``publish``.)"""
    outdir.ensure_dir(out_dir)
    written = []
    for name, writer in WRITERS.items():
        path = out_dir / name
        try:
            data = writer(result, path)
            if data is not None:
                outdir.write_bytes(path, data)
        except Exception as exc:  # one broken renderer must not lose the rest of the report
            print(f"overfit-gate: warning: could not write {path}: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        written.append(path)
    return written
