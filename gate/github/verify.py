"""``verify``: does a commit carry a passing gate? The launch workflow's first step.

The newest check run of that name decides (a re-run that failed outweighs an older pass);
without one, a commit status of that context (the personal-token fallback) decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from gate.github.client import GitHubAPIError, GitHubClient


@dataclass(frozen=True)
class VerifyResult:
    """Whether a commit carries a passing gate (what `verify` found), not a run's verdict."""

    ok: bool
    state: str  # passed | missing | in_progress | failed
    reason: str
    url: str | None = None


def _check_run(client: GitHubClient, repo: str, sha: str, name: str) -> VerifyResult | None:
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
    runs = [r for r in runs if r.get("name") == name]
    if not runs:
        return None
    latest = max(runs, key=lambda r: (r.get("started_at") or "", int(r.get("id") or 0)))
    url = latest.get("html_url")
    if latest.get("status") != "completed":
        return VerifyResult(
            False, "in_progress", f"check run `{name}` on {sha[:12]} is still {latest.get('status')}", url
        )
    conclusion = latest.get("conclusion")
    if conclusion == "success":
        return VerifyResult(True, "passed", f"check run `{name}` on {sha[:12]} passed", url)
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


def verify(client: GitHubClient, repo: str, sha: str, name: str) -> VerifyResult:
    found = _check_run(client, repo, sha, name) or _status(client, repo, sha, name)
    if found is not None:
        return found
    return VerifyResult(
        False,
        "missing",
        f"no `{name}` check run or commit status on {repo}@{sha[:12]}: "
        "the gate has not run on this commit (or ran under another --name)",
    )
