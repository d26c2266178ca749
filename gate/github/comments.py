"""The sticky PR comment: one per PR and gate name, found by a hidden marker among the
token's *own* comments, updated in place; created if absent; never a second one.

Whose comments are "own": ``GET /user`` for a user token. The Actions ``GITHUB_TOKEN`` (an
installation token) gets 403 there, and its comments are written by ``github-actions[bot]``.
A marker quoted by a human in their own comment is therefore never edited.
"""

from __future__ import annotations

from typing import Any

from gate.github.client import GitHubAPIError, GitHubClient

ACTIONS_BOT = "github-actions[bot]"
MAX_BODY = 65536  # GitHub's limit for an issue comment body


def marker(name: str) -> str:
    # Invisible in rendered markdown; the gate name keeps several gates in one PR apart.
    return f"<!-- overfit-gate:{name} -->"


def own_login(client: GitHubClient) -> str:
    try:
        user = client.get("/user")
    except GitHubAPIError as exc:
        if exc.status in (401, 403):  # installation tokens may not read /user
            return ACTIONS_BOT
        raise
    return str((user or {}).get("login") or ACTIONS_BOT)


def with_marker(body: str, name: str) -> str:
    tag = marker(name)
    room = MAX_BODY - len(tag) - 2
    if len(body) > room:
        body = body[: room - 80] + "\n\n… (truncated; the full report is in the job's artifact)"
    return f"{tag}\n{body}"


def find(client: GitHubClient, repo: str, pr: int, name: str, login: str) -> list[dict[str, Any]]:
    """The token's own marker comments on the PR, oldest first (paginated). The marker counts
    only at the very start of the body, where ``with_marker`` puts it: quoted inside a report
    (a code span, a traceback) it is not ours to edit."""
    tag = marker(name)
    return [
        c
        for c in client.paginate(f"/repos/{repo}/issues/{pr}/comments")
        if (c.get("body") or "").startswith(tag) and ((c.get("user") or {}).get("login") or "").lower() == login.lower()
    ]


def upsert(client: GitHubClient, repo: str, pr: int, name: str, body: str) -> str:
    """Create or update the sticky comment; its html_url. Extra copies (a past race) are removed."""
    text = with_marker(body, name)
    existing = find(client, repo, pr, name, own_login(client))
    if not existing:
        created = client.post(f"/repos/{repo}/issues/{pr}/comments", {"body": text})
        return str(created.get("html_url", ""))
    first, *extra = existing
    updated = client.patch(f"/repos/{repo}/issues/comments/{first['id']}", {"body": text})
    for dup in extra:
        client.delete(f"/repos/{repo}/issues/comments/{dup['id']}")
    return str((updated or first).get("html_url", ""))
