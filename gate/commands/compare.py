"""``overfit-gate compare BASE_DIR HEAD_DIR``: compare two report folders, with the same
logic and thresholds as a pull request's comparison in CI, and no GitHub.

Exit code: 0 when HEAD is no regression against BASE (or the two are not comparable: the
message says why), 1 for a regression under ``on-regression: fail``, 2 when a folder holds no
readable result. ``--write`` records the comparison in HEAD_DIR (result.json's ``baseline``
block, and the reports re-rendered: loss.png overlays BASE's curve).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from gate.baseline import options
from gate.baseline.attach import apply, from_folder, guarded, policy_of, restore
from gate.baseline.render import markdown
from gate.errors import EXIT_FAIL, EXIT_PASS, ResultError, UsageError
from gate.result import load_result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.usage = "overfit-gate compare [options] BASE_DIR HEAD_DIR"
    parser.epilog = (
        "exit codes: 0 no regression (or not comparable: the message says why), 1 a regression under\n"
        "on-regression fail, 2 a folder without a readable result.json or a bad option\n\n"
        "example:\n  overfit-gate compare main-report/ overfit-gate-report/ --on-regression fail"
    )
    parser.add_argument("base_dir", metavar="BASE_DIR", help="report folder of the base run (e.g. main's)")
    parser.add_argument("head_dir", metavar="HEAD_DIR", help="report folder of the run to judge")
    parser.add_argument(
        "--write",
        action="store_true",
        help="record the comparison in HEAD_DIR: result.json's `baseline` block and the reports re-rendered",
    )
    options.add_flags(parser, with_baseline=False)


def main(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    base_dir, head_dir = Path(args.base_dir).resolve(), Path(args.head_dir).resolve()
    try:
        head = load_result(head_dir)
        load_result(base_dir)  # a missing base is a usage error here, not a skipped comparison
    except ResultError as exc:
        raise UsageError(exc.message, exc.hint) from None
    policy = policy_of(options.resolve(args, env))
    restore(head)  # a folder compared before (CI, --write) is judged on its own verdict again
    block = guarded(lambda: from_folder(head, base_dir, policy), policy)
    result = apply(head, block)
    print(markdown(result), flush=True)
    if args.write:
        from gate.report import write_reports

        result.write(head_dir)
        written = write_reports(result, head_dir)
        print("wrote result.json, " + ", ".join(p.name for p in written), flush=True)
    failed = block.status == "regression" and block.policy.on_regression == "fail"
    return EXIT_FAIL if failed else EXIT_PASS
