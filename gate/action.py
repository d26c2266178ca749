"""The GitHub container action's entry point (``python -m gate.action``, see action.yml).

Inputs arrive only as ``INPUT_*`` environment variables (never interpolated into a shell). The
``subcommand`` input picks what the step does: ``run`` (default: gate the pipeline and publish),
``publish`` (post a finished report, e.g. from a trusted ``workflow_run`` job), ``verify`` (exit 0
only if a commit carries a passing gate), ``report`` (re-render a report folder). Config inputs
(``entrypoint``, ``steps``, ``gpus``, ...) are read by the config resolver itself.

With arguments (``docker run IMAGE --version``, ``docker run IMAGE run ...``) it is just the CLI.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

from gate.errors import EXIT_USAGE
from gate.inputs import INPUT_PREFIX, norm, read_env

SUBCOMMANDS = ("run", "publish", "verify", "report")


def _input(env: Mapping[str, str], name: str) -> str:
    """An input by its kebab-case name; Actions keeps the dashes (``INPUT_GITHUB-TOKEN``)."""
    return read_env(env, INPUT_PREFIX).get(norm(name), "")


def argv_for(env: Mapping[str, str]) -> list[str]:
    """The overfit-gate command line the inputs ask for."""
    sub = _input(env, "subcommand") or "run"
    if sub not in SUBCOMMANDS:
        raise ValueError(f"input `subcommand` must be one of {', '.join(SUBCOMMANDS)}, got {sub!r}")
    argv = [sub]
    out, name, sha = _input(env, "out"), _input(env, "name"), _input(env, "sha")
    if sub in ("publish", "report") and out:
        argv += ["--out", out]
    if sub in ("publish", "verify"):
        argv += ["--name", name] if name else []
        argv += ["--sha", sha] if sha else []
    if sub == "publish" and _input(env, "pr"):
        argv += ["--pr", _input(env, "pr")]
    if sub == "publish" and _input(env, "require-publish").lower() == "true":
        argv += ["--require-publish"]
    # Escape hatch for flags without an input of their own; split like a shell, never run by one.
    argv += shlex.split(_input(env, "args"))
    return argv


def _report_dir(env: Mapping[str, str]) -> Path:
    from gate.config import report_folder  # pydantic: only once a subcommand has run

    return report_folder(None, env)


def _give_back(out_dir: Path, workspace: str | None) -> None:
    """As root in a container action, hand the report folder to the workspace's owner, so a
    self-hosted runner can clean the workspace without root-owned leftovers."""
    if os.geteuid() != 0 or not workspace or not out_dir.is_dir():
        return
    st = Path(workspace).stat()
    if st.st_uid == 0:
        return
    for path in [out_dir, *out_dir.rglob("*")]:
        with contextlib.suppress(OSError):
            os.chown(path, st.st_uid, st.st_gid, follow_symlinks=False)


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    from gate.cli import main as cli

    argv = sys.argv[1:] if argv is None else argv
    env = dict(os.environ) if env is None else dict(env)
    if argv:
        return cli(argv, env)
    try:
        args = argv_for(env)
    except ValueError as exc:
        print(f"overfit-gate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    code = cli(args, env)
    if args[0] in ("run", "report"):
        _give_back(_report_dir(env), env.get("GITHUB_WORKSPACE"))
    return code


if __name__ == "__main__":
    sys.exit(main())
