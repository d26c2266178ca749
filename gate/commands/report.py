"""``overfit-gate report --out DIR``: re-render loss.csv, loss.png, report.md and junit.xml
from ``DIR/result.json`` alone. Imports neither torch nor (until the PNG is drawn)
matplotlib, so it runs in a slim job that only downloaded the report artifact."""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from gate.config import report_folder
from gate.report import write_reports
from gate.report.terminal import summary
from gate.result import load_result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.usage = "overfit-gate report [--out DIR]"
    parser.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="folder holding result.json; the reports are written beside it (default: overfit-gate-report/)",
    )


def main(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Exit 0 once the reports are written, whatever the verdict: gating is `run`'s and
    `verify`'s job, and a re-render that exits 1 would read as a broken report step."""
    out_dir = report_folder(args.out, env)
    result = load_result(out_dir)
    written = write_reports(result, out_dir)
    print(summary(result, out_dir), flush=True)
    print("wrote " + ", ".join(p.name for p in written), flush=True)
    return 0
