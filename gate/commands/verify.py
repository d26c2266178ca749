"""``overfit-gate verify --sha SHA``: exit 0 only if that commit carries a completed,
successful gate check run (or a success commit status of that context); otherwise exit 1 with
the reason (missing, in progress, failed) and a link. A launch workflow runs this before it
starts an expensive training job."""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from gate.errors import EXIT_FAIL, EXIT_PASS, UsageError
from gate.github.env import from_environ, split_repo
from gate.github.publish import make_client
from gate.github.verify import ACTIONS_APP, ANY_APP, verify


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sha", default=None, help="commit to check (default: $GITHUB_SHA)")
    parser.add_argument("--name", default="overfit-gate", help="check run / status name (default: overfit-gate)")
    parser.add_argument("--repo", default=None, help="owner/name (default: $GITHUB_REPOSITORY)")
    parser.add_argument("--github-token", default=None, help="token (default: $GITHUB_TOKEN); never printed")
    parser.add_argument(
        "--app",
        default=ACTIONS_APP,
        help=f"only check runs created by this GitHub App count (default: {ACTIONS_APP}, the Actions token's; "
        f"`{ANY_APP}` to accept any)",
    )


def main(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    gh = from_environ(env, args.github_token)
    repo = args.repo or gh.repository
    sha = args.sha or gh.sha
    if not repo or not sha:
        raise UsageError(
            "verify needs a repository and a commit",
            hint="overfit-gate verify --sha $GITHUB_SHA --repo owner/name (in Actions both default)",
        )
    split_repo(repo)
    if not gh.token:
        raise UsageError(
            "verify needs a token to read check runs",
            hint="`env: GITHUB_TOKEN: ${{ github.token }}` with `permissions: checks: read, statuses: read`",
        )
    found = verify(make_client(gh), repo, sha, args.name, args.app)
    print(f"overfit-gate verify: {found.state}: {found.reason}", flush=True)
    if gh.output and found.sha:
        # The one commit the answer is about: a launch job trains exactly that one.
        with open(gh.output, "a", encoding="utf-8") as fh:
            fh.write(f"sha={found.sha}\n")
    if found.url:
        print(f"  {found.url}", flush=True)
    if not found.ok and found.state == "missing":
        print("  hint: run the gate on this commit first (see docs/github.md, launch workflow)", flush=True)
    return EXIT_PASS if found.ok else EXIT_FAIL
