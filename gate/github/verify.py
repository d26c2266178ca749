"""``verify``: does a commit carry a passing gate? The launch workflow's first step.

The newest check run of that name decides (a re-run that failed outweighs an older pass);
without one, a commit status of that context (the personal-token fallback) decides.

"Newest" is GitHub's own order, the run's id: ``started_at`` and ``completed_at`` are whatever
the creator sent, so a pass "started in 2099" must not outrank a later failure. Only runs created
by the app that publishes the gate count (``github-actions`` for the Actions token; ``--app``),
so another integration with ``checks: write`` cannot post a passing run under the gate's name.
A branch or tag is resolved to one commit first, and every answer is about that commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from gate.github.client import GitHubAPIError, GitHubClient

ACTIONS_APP = "github-actions"  # the app behind every workflow's GITHUB_TOKEN
ANY_APP = "any"
_SHA = re.compile(r"[0-9a-fA-F]{40}")


@dataclass(frozen=True)
class VerifyResult:
    """Whether a commit carries a passing gate (what `verify` found), not a run's verdict."""

    ok: bool
    state: str  # passed | missing | in_progress | failed | not_applicable
    reason: str
    url: str | None = None
    sha: str = ""  # the commit the answer is about (a branch name resolved once)


def resolve_sha(client: GitHubClient, repo: str, ref: str) -> str:
    """A full commit SHA for ``ref`` (a SHA, branch or tag), asked once: the check runs, the
    statuses and whatever the caller launches next all speak about that one commit."""
    if _SHA.fullmatch(ref):
        return ref.lower()
    commit = client.get(f"/repos/{repo}/commits/{quote(ref, safe='/')}")
    sha = str((commit or {}).get("sha") or "")
    if not _SHA.fullmatch(sha):
        raise GitHubAPIError(f"GitHub did not resolve {ref!r} in {repo} to a commit")
    return sha


def _check_run(client: GitHubClient, repo: str, sha: str, name: str, app: str = ACTIONS_APP) -> VerifyResult | None:
    try:
        runs = list(
            client.paginate(
                f"/repos/{repo}/commits/{sha}/check-runs", {"check_name": name, "filter": "all"}, key="check_runs"
            )
        )
    except GitHubAPIError as exc:
        if exc.status == 403:  # token without checks:read; the status may still tell
            return None
        raise
    runs = [
        r
        for r in runs
        if r.get("name") == name and (app == ANY_APP or ((r.get("app") or {}).get("slug") or "").lower() == app.lower())
    ]
    if not runs:
        return None
    latest = max(runs, key=lambda r: int(r.get("id") or 0))
    url = latest.get("html_url")
    if latest.get("status") != "completed":
        return VerifyResult(
            False, "in_progress", f"check run `{name}` on {sha[:12]} is still {latest.get('status')}", url
        )
    conclusion = latest.get("conclusion")
    if conclusion == "success":
        return VerifyResult(True, "passed", f"check run `{name}` on {sha[:12]} passed", url)
    if conclusion == "action_required":
        return VerifyResult(
            False,
            "not_applicable",
            f"check run `{name}` on {sha[:12]} concluded `action_required`: the overfit test does not apply "
            "to that training command; gate a supervised component in task mode instead",
            url,
        )
    return VerifyResult(False, "failed", f"check run `{name}` on {sha[:12]} concluded `{conclusion}`", url)


def _status(client: GitHubClient, repo: str, sha: str, name: str) -> VerifyResult | None:
    try:
        combined = client.get(f"/repos/{repo}/commits/{sha}/status", {"per_page": 100})
    except GitHubAPIError as exc:
        if exc.status == 404:
            return None
        raise
    # Statuses come newest first; the first of our context is the current one.
    mine = [s for s in (combined or {}).get("statuses", []) if (s.get("context") or "").lower() == name.lower()]
    if not mine:
        return None
    latest = mine[0]
    state, url = latest.get("state"), latest.get("target_url")
    if state == "success":
        return VerifyResult(True, "passed", f"commit status `{name}` on {sha[:12]} is success", url)
    if state == "pending":
        return VerifyResult(False, "in_progress", f"commit status `{name}` on {sha[:12]} is still pending", url)
    return VerifyResult(False, "failed", f"commit status `{name}` on {sha[:12]} is {state}", url)


def verify(client: GitHubClient, repo: str, ref: str, name: str, app: str = ACTIONS_APP) -> VerifyResult:
    sha = resolve_sha(client, repo, ref)
    found = _check_run(client, repo, sha, name, app) or _status(client, repo, sha, name)
    if found is not None:
        return VerifyResult(found.ok, found.state, found.reason, found.url, sha)
    by = "" if app == ANY_APP else f" by the `{app}` app"
    return VerifyResult(
        False,
        "missing",
        f"no `{name}` check run{by} or commit status on {repo}@{sha[:12]}: "
        "the gate has not run on this commit (or ran under another --name, or was published by another app: --app)",
        sha=sha,
    )
