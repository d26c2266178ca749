"""Find the base side on GitHub: the gate's summary on the PR's base commit, else on the
nearest ancestor that has one, within ``MAX_ANCESTORS`` commits.

Only summaries published for a non-PR run (a push to the base branch, a merge queue, a manual
run) are used: a pull request's run is the code under test, and a fork PR whose head is an
existing base-branch commit must not be able to plant that commit's baseline. Every way of
not finding one raises ``Missing`` with the sentence the report shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from gate.baseline.model import RunSummary
from gate.baseline.summary import SummaryError, decode
from gate.github.client import GitHubAPIError, GitHubClient

MAX_ANCESTORS = 20  # the base commit and up to 19 before it: one page of the commits API
UNTRUSTED_EVENTS = ("pull_request", "pull_request_target")


class Missing(Exception):
    """No usable baseline; ``str(exc)`` says why, for the report."""


@dataclass(frozen=True)
class Found:
    summary: RunSummary
    sha: str
    distance: int  # 0: the base commit itself
    url: str | None


def _runs(client: GitHubClient, repo: str, sha: str, name: str) -> list[dict[str, object]]:
    runs = client.paginate(
        f"/repos/{repo}/commits/{sha}/check-runs", {"check_name": name, "filter": "all"}, key="check_runs", max_pages=2
    )
    mine = [r for r in runs if r.get("name") == name and r.get("status") == "completed"]
    return sorted(mine, key=lambda r: (str(r.get("started_at") or ""), int(str(r.get("id") or 0))), reverse=True)


def summary_at(client: GitHubClient, repo: str, sha: str, name: str) -> tuple[RunSummary, str | None] | str | None:
    """The newest usable summary on ``sha`` with its check run's URL; else why the runs there
    are unusable (a string), or None when the commit has no completed run of the gate."""
    problem = None
    for run in _runs(client, repo, sha, name):
        output = run.get("output")
        text = output.get("text") if isinstance(output, dict) else None
        try:
            summary = decode(text if isinstance(text, str) else None)
        except SummaryError as exc:
            problem = problem or str(exc)
            continue
        if summary.event in UNTRUSTED_EVENTS:
            problem = problem or f"its summary comes from a {summary.event} run, not from the branch itself"
            continue
        url = run.get("html_url")
        return summary, url if isinstance(url, str) else None
    return problem


def _ancestors(client: GitHubClient, repo: str, sha: str) -> list[str]:
    page = client.get(f"/repos/{repo}/commits", {"sha": sha, "per_page": MAX_ANCESTORS})
    shas = [c.get("sha") for c in page or [] if isinstance(c, dict)]
    return [s for s in shas if isinstance(s, str)][:MAX_ANCESTORS]


def find(client: GitHubClient, repo: str, base_sha: str, name: str, label: str = "the base branch") -> Found:
    """The nearest usable baseline; ``Missing`` with the reason otherwise (API errors included)."""
    try:
        first = summary_at(client, repo, base_sha, name)
        if isinstance(first, tuple):
            return Found(first[0], base_sha, 0, first[1])
        problems = [f"{base_sha[:7]}: {first}"] if first else []
        history = _ancestors(client, repo, base_sha)
        older = [s for s in history if s != base_sha]
        for distance, sha in enumerate(older, start=1):
            got = summary_at(client, repo, sha, name)
            if isinstance(got, tuple):
                return Found(got[0], sha, distance, got[1])
            if got:
                problems.append(f"{sha[:7]}: {got}")
    except GitHubAPIError as exc:
        raise Missing(f"could not read {label}'s results from GitHub: {exc.message}") from None
    searched = f"{label}'s commit {base_sha[:7]} or the {len(older)} commits before it"
    if problems:
        raise Missing(f"no usable `{name}` result on {searched} ({'; '.join(problems[:3])})")
    raise Missing(
        f"no `{name}` check run on {searched}: the gate must also run on pushes to {label} "
        "(first run, or a new gate name?)"
    )
