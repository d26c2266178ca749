"""The ``overfit-gate`` command. The top level imports only the standard library so that
``--help`` and ``--version`` are instant; each subcommand's module is imported on use."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Mapping, Sequence

from gate import __version__
from gate.errors import EXIT_ERROR, EXIT_USAGE, GateError

# name -> (module, one-line help). Each module has add_arguments(parser) and main(args, env).
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("gate.commands.run", "run the overfit gate on a task entry point or a training script"),
    "report": ("gate.commands.report", "re-render the reports in --out from result.json alone"),
    "publish": ("gate.commands.publish", "publish a finished result to GitHub (check run, PR comment, summary)"),
    "verify": ("gate.commands.verify", "exit 0 only if a commit carries a passing gate check"),
    "init": ("gate.commands.init", "write a gate workflow and [tool.overfit-gate] table for this repository"),
    "compare": ("gate.commands.compare", "compare two report folders (base run vs this run), as CI does on PRs"),
}

EPILOG = """exit codes: 0 pass, 1 fail (the pipeline is broken), 2 usage or config error,
3 the pipeline errored (exception, timeout, out of memory, runner failure),
4 not applicable (an overfit test does not fit the program: RL, GANs, local losses; never a pass)

examples:
  overfit-gate run --entrypoint examples/mlp_classifier.py:make_task
  overfit-gate run --steps 300 -- python train.py --lr 3e-4
  overfit-gate verify --sha $GITHUB_SHA
  overfit-gate compare main-report/ overfit-gate-report/"""


def _top_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="overfit-gate",
        description="Prove a training pipeline can learn (overfit one batch) and has no silent bugs, as a CI gate.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"overfit-gate {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_) in COMMANDS.items():
        sub.add_parser(name, help=help_, add_help=False)
    return p


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    env = dict(os.environ) if env is None else dict(env)
    top = _top_parser()
    first = next((a for a in argv if not a.startswith("-")), None) if argv and not argv[0].startswith("-") else None
    if first not in COMMANDS:
        try:
            top.parse_args(argv or ["--help"])
        except SystemExit as exc:  # argparse: --help/--version exit 0, bad usage exits 2
            return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USAGE
        return EXIT_USAGE
    module_name, help_ = COMMANDS[first]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(
        prog=f"overfit-gate {first}",
        description=help_,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    module.add_arguments(parser)
    rest = argv[1:]
    # Script mode: everything after `--` is the user's command, untouched by our parser.
    trailing: list[str] = []
    if "--" in rest:
        cut = rest.index("--")
        rest, trailing = rest[:cut], rest[cut + 1 :]
    try:
        args = parser.parse_args(rest)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USAGE
    args.trailing = trailing
    try:
        return int(module.main(args, env))
    except GateError as exc:
        print(f"overfit-gate: error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("overfit-gate: interrupted", file=sys.stderr)
        return EXIT_ERROR
