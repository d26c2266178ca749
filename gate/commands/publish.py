"""``overfit-gate publish --out DIR``: publish a finished ``result.json`` (check run or commit
status, sticky PR comment, job summary, outputs).

This is the trusted half of the fork-safe pattern: a ``workflow_run`` job downloads the report
folder an unprivileged ``pull_request`` job uploaded, and publishes it. The folder is data only:
nothing in it is executed, and the gate name, repository and commit come from this job
(flags and the trusted event), never from the folder.

Exit code: the verdict's (0/1/3/4), as ``run``; 3 if a write that was allowed failed (bad
credentials, repository not found, GitHub down after retries), because publishing is this
command's only job. A read-only or fork token is not a failure.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from gate.baseline import options
from gate.baseline.ci import for_publish_command
from gate.commands.flags import add_token_flags, token_from_args
from gate.config import report_folder
from gate.ending import Ending
from gate.errors import EXIT_ERROR, UsageError
from gate.github.env import from_environ, secret_values, split_repo
from gate.github.publish import publisher
from gate.report.actions import command, one_line
from gate.report.untrusted import inline
from gate.result import Result, load_result

DEFAULT_NAME = "overfit-gate"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=None, help="report folder holding result.json (default: overfit-gate-report)")
    parser.add_argument("--name", default=None, help=f"check run / status / comment name (default: {DEFAULT_NAME})")
    add_token_flags(parser)
    parser.add_argument("--repo", default=None, help="owner/name (default: $GITHUB_REPOSITORY)")
    parser.add_argument(
        "--sha", default=None, help="commit to mark (default: the PR head / workflow_run head / $GITHUB_SHA)"
    )
    parser.add_argument(
        "--pr", type=int, default=None, help="pull request number for the sticky comment (default: from the event)"
    )
    parser.add_argument(
        "--require-publish",
        action="store_true",
        help="exit 3 when the token may not write (no `checks: write`), instead of an error annotation and the verdict's code",
    )
    options.add_flags(parser)


def _announce(result: Result, out_dir: Path) -> str:
    return f"overfit-gate: verdict {result.verdict}: {one_line(result.reason)}"


def main(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    token = token_from_args(args)
    name = args.name or DEFAULT_NAME
    ending = Ending(
        env=env,
        out_dir=report_folder(args.out, env),
        write_files=False,  # the folder is input (maybe from an untrusted job): never written
        secrets=secret_values(env, token),
        base={"name": name},
        announce=_announce,
    )
    return ending.guard(lambda: _publish(args, env, token, name, ending))


def _publish(args: argparse.Namespace, env: Mapping[str, str], token: str | None, name: str, ending: Ending) -> int:
    if args.repo:
        split_repo(args.repo)
    gh = from_environ(env, token)
    # Before reading the folder, so that a folder that cannot be read still concludes a check run.
    out_dir = ending.folder
    pub = ending.publisher = publisher(gh, name, repo=args.repo, sha=args.sha, pr=args.pr, out_dir=out_dir)
    result = load_result(out_dir)
    if result.name and result.name != name:
        # The folder may come from an untrusted job: its name could impersonate another
        # required check, so only this job's --name counts.
        print(
            f"overfit-gate: notice: result.json names the gate `{one_line(result.name)}`; publishing as `{name}` "
            "(pass --name to change)",
            flush=True,
        )
    # Re-compare with the PR's base, by this job's thresholds (docs/baseline.md); never raises.
    where = (pub.client, pub.target.repo, pub.target.pr) if pub is not None else (None, None, None)
    result = for_publish_command(result.model_copy(update={"name": name}), options.resolve(args, env), name, *where)
    # Job summary, outputs and annotations even when GitHub writes are skipped; one POST that
    # creates the check run already completed.
    code = ending.finish(result)
    if pub is None:
        raise UsageError(
            "cannot publish: no token or no repository/commit",
            hint="in a workflow: `env: GITHUB_TOKEN: ${{ github.token }}`; elsewhere $GITHUB_TOKEN or "
            "--github-token-file, --repo and --sha",
        )
    if pub.notices:
        _nothing_published(pub.notices[0], env)
        if args.require_publish:
            return EXIT_ERROR
    return EXIT_ERROR if pub.failures else code


def _nothing_published(why: str, env: Mapping[str, str]) -> None:
    """A publish job whose token may not write posts nothing; that must not look like success
    (the PR would simply never get its check). An error annotation on the run, and the summary."""
    text = (
        f"overfit-gate published nothing: {why}. Grant this job `permissions: checks: write, "
        "pull-requests: write`, or pass --require-publish (input `require-publish`) to fail the job instead."
    )
    print(command("error", text, title="overfit-gate: not published"), flush=True)
    summary = env.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(f"\n> [!CAUTION]\n> {inline(text)}\n")
