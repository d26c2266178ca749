"""Publishing for a run: the Publisher (gate/github/publisher.py) built from the GitHub
environment, or none when publishing is off or impossible (with a notice when it was asked for),
and the PR context a run leaves for a later ``publish`` in a workflow_run job (the fork pattern).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import requests

from gate.github.client import GitHubAPIError, GitHubClient
from gate.github.env import GitHubEnv, from_environ
from gate.github.publisher import Publisher, PublishTarget, Say, print_line

__all__ = ["CONTEXT_FILE", "PublishTarget", "Publisher", "for_run", "make_client", "publisher", "write_context"]

CONTEXT_FILE = "github-context.json"  # written by `run` beside result.json for the fork pattern


def write_context(gh: GitHubEnv, out_dir: Path) -> None:
    """Record the PR the run belongs to, for a later `publish` in a workflow_run job (data only:
    `publish` checks it against GitHub before trusting it)."""
    from gate import outdir

    path = out_dir / CONTEXT_FILE
    if not gh.present:
        outdir.remove(path)
        return
    data = {"repository": gh.repository, "event_name": gh.event_name, "sha": gh.target_sha, "pr": gh.event.pr_number}
    outdir.write_text(path, json.dumps(data, indent=2) + "\n")


def _pr_from_context(client: GitHubClient, repo: str, sha: str, out_dir: Path | None, say: Say) -> int | None:
    """The PR number an untrusted run left behind, only if GitHub agrees that PR's head is ``sha``."""
    path = out_dir / CONTEXT_FILE if out_dir else None
    if path is None or not path.is_file():
        return None
    try:
        number = json.loads(path.read_text(encoding="utf-8")).get("pr")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        return None
    try:
        pull = client.get(f"/repos/{repo}/pulls/{number}")
    except GitHubAPIError as exc:
        say(f"overfit-gate: notice: cannot confirm PR #{number} from {CONTEXT_FILE}: {exc.message}; no comment")
        return None
    if ((pull or {}).get("head") or {}).get("sha") != sha:
        say(f"overfit-gate: notice: PR #{number} from {CONTEXT_FILE} is not at {sha[:12]}; no comment")
        return None
    return number


def make_client(gh: GitHubEnv, session: requests.Session | None = None) -> GitHubClient:
    return GitHubClient(gh.token, gh.api_url, session=session)


def publisher(
    gh: GitHubEnv,
    name: str,
    *,
    publish: bool | None = None,
    repo: str | None = None,
    sha: str | None = None,
    pr: int | None = None,
    out_dir: Path | None = None,
    session: requests.Session | None = None,
    say: Say = print_line,
) -> Publisher | None:
    """A Publisher when publishing is on (None = auto: a token and the GitHub environment)
    and possible; otherwise None, with a notice when publishing was asked for explicitly."""
    if publish is False:
        return None
    repo = repo or gh.repository
    sha = sha or gh.target_sha
    missing = [
        what
        for what, ok in (
            ("a token (--github-token or $GITHUB_TOKEN)", bool(gh.token)),
            ("the repository ($GITHUB_REPOSITORY or --repo)", bool(repo)),
            ("the commit ($GITHUB_SHA or --sha)", bool(sha)),
        )
        if not ok
    ]
    if missing:
        if publish:
            say(f"overfit-gate: notice: not publishing to GitHub: missing {', '.join(missing)}")
        return None
    assert repo and sha
    client = make_client(gh, session)
    if pr is None:
        pr = gh.event.pr_number
    if pr is None and gh.event_name == "workflow_run":
        pr = _pr_from_context(client, repo, sha, out_dir, say)
    target = PublishTarget(repo=repo, sha=sha, pr=pr, details_url=gh.run_url)
    pub = Publisher(client=client, target=target, name=name, say=say, event=gh.tested_event)
    if gh.read_only and repo == gh.repository:
        pub.skip(f"this pull request comes from a fork ({gh.event.head_repo}), so its token is read-only")
    return pub


def for_run(
    cli_token: str | None, publish: bool | None, name: str, env: Mapping[str, str], out_dir: Path, say: Say = print_line
) -> Publisher | None:
    """`run`'s entry: read the environment once, leave the PR context for a later `publish`,
    and start the check run when publishing is on."""
    gh = from_environ(env, cli_token)
    try:
        write_context(gh, out_dir)
    except OSError as exc:  # the folder's own trouble is reported when the result is written
        say(f"overfit-gate: notice: could not write {CONTEXT_FILE}: {exc.strerror or exc}")
    pub = publisher(gh, name, publish=publish, out_dir=out_dir, say=say)
    if pub is not None:
        try:
            pub.start()
        except Exception as exc:
            pub.skip(f"publishing failed unexpectedly ({type(exc).__name__}: {pub.client.scrub(str(exc))})")
    return pub
