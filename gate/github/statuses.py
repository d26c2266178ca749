"""Commit statuses: the fallback when a token may not create check runs (a personal access
token gets 403 "You must authenticate via a GitHub App."). Same context name as the check
run, so branch protection can require either; ``target_url`` links to the Actions run."""

from __future__ import annotations

from typing import Any

from gate.github.client import GitHubClient
from gate.result import Result

DESCRIPTION_CHARS = 140  # GitHub truncates longer descriptions
# A commit status has no "action required": not applicable is a failure (never a pass).
STATE = {"pass": "success", "fail": "failure", "error": "error", "not_applicable": "failure"}


def description(text: str) -> str:
    return text if len(text) <= DESCRIPTION_CHARS else text[: DESCRIPTION_CHARS - 1] + "…"


def post(
    client: GitHubClient, repo: str, sha: str, *, state: str, context: str, text: str, target_url: str | None
) -> None:
    body: dict[str, Any] = {"state": state, "context": context, "description": description(text)}
    if target_url:
        body["target_url"] = target_url
    client.post(f"/repos/{repo}/statuses/{sha}", body)


def pending(client: GitHubClient, repo: str, sha: str, context: str, target_url: str | None) -> None:
    post(
        client, repo, sha, state="pending", context=context, text="The overfit gate is running.", target_url=target_url
    )


def final(client: GitHubClient, repo: str, sha: str, context: str, result: Result, target_url: str | None) -> None:
    post(
        client,
        repo,
        sha,
        state=STATE[result.verdict],
        context=context,
        text=f"{result.verdict}: {result.reason}",
        target_url=target_url,
    )
