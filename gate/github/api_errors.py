"""What GitHub's answers mean: the error a refused request raises, with GitHub's own message and
what to do about it, and the reading of a response body (gate/github/client.py sends the requests).

A message never holds the token: the client scrubs GitHub's words before they get here.
"""

from __future__ import annotations

from typing import Any

import requests

from gate.errors import GitHubError

READ_ONLY_MESSAGE = "Resource not accessible by integration"
PERMISSIONS_SNIPPET = "permissions:\n  checks: write\n  pull-requests: write\n  statuses: write\n  contents: read"
GHES_HINT = "GitHub Enterprise: https://HOST/api/v3"


class GitHubAPIError(GitHubError):
    """A request GitHub refused. ``api_message`` is GitHub's own words, for callers that branch on it."""

    def __init__(
        self, message: str, hint: str = "", *, status: int = 0, api_message: str = "", method: str = "", path: str = ""
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        self.api_message = api_message
        self.method = method
        self.path = path

    @property
    def read_only(self) -> bool:
        """The token may read but not write here (fork PR, missing workflow permission)."""
        return self.status == 403 and READ_ONLY_MESSAGE.lower() in self.api_message.lower()


def refused(status: int, method: str, path: str, api_message: str) -> GitHubAPIError:
    """The error for an answer ``status`` >= 400 that is not worth retrying."""
    message, hint = _explain(status, method, path, api_message)
    return GitHubAPIError(message, hint, status=status, api_message=api_message, method=method, path=path)


def _explain(status: int, method: str, path: str, api_message: str) -> tuple[str, str]:
    said = f" (GitHub said: {api_message})" if api_message else ""
    where = f"{method} {path}"
    if status == 401:
        return (
            f"GitHub rejected the token for {where}{said}",
            "the token is missing, expired or revoked; pass a valid one with --github-token or $GITHUB_TOKEN",
        )
    if status == 403:
        if READ_ONLY_MESSAGE.lower() in api_message.lower():
            return (
                f"the token may not write {where}{said}",
                "a fork PR's token is read-only (use the workflow_run publish pattern, docs/github.md); "
                f"otherwise grant the job\n{PERMISSIONS_SNIPPET}",
            )
        return (f"GitHub refused {where}{said}", f"check the token's permissions; the job needs\n{PERMISSIONS_SNIPPET}")
    if status == 404:
        return (
            f"not found: {where}{said}",
            "check --repo / $GITHUB_REPOSITORY and the SHA; a private repository also answers 404 "
            "when the token cannot see it",
        )
    if status == 422:
        return f"GitHub rejected the request {where}{said}", "this is a bug in overfit-gate; please report it"
    return f"GitHub answered {status} to {where}{said}", "GitHub may be having trouble; re-run the job"


def unreachable(api_url: str, what: str, method: str, path: str) -> GitHubAPIError:
    return GitHubAPIError(
        f"could not reach GitHub at {api_url} for {method} {path}: {what}",
        f"check $GITHUB_API_URL ({GHES_HINT}) and the network",
        method=method,
        path=path,
    )


def rate_limited(status: int, wait: float, max_wait: float, api_message: str, method: str, path: str) -> GitHubAPIError:
    return GitHubAPIError(
        f"GitHub rate limit hit for {method} {path}; it asks to wait {wait:.0f}s "
        f"(more than the {max_wait:.0f}s this job will wait)",
        "re-run the job later, or publish with a token that has its own quota",
        status=status,
        api_message=api_message,
        method=method,
        path=path,
    )


def over_budget(budget: float, method: str, path: str) -> GitHubAPIError:
    return GitHubAPIError(
        f"gave up on {method} {path}: publishing has used its {budget:.0f}s budget",
        "GitHub (or the network to it) is too slow or not answering; re-run the job later",
        method=method,
        path=path,
    )


def never_sent(exc: requests.RequestException) -> bool:
    """True when the request surely did not reach the server (so re-sending a POST is safe)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    text = repr(exc)
    return isinstance(exc, requests.ConnectionError) and (
        "NewConnectionError" in text or "NameResolutionError" in text or "Connection refused" in text
    )


def decode(resp: requests.Response, method: str, shown: str) -> Any:
    """The JSON body of a success; an HTML page (a proxy, a captive portal) is an error, not a crash."""
    if not resp.content:
        return None
    try:
        return resp.json()
    except (ValueError, RecursionError):
        kind = resp.headers.get("Content-Type", "unknown type").split(";")[0]
        raise GitHubAPIError(
            f"GitHub answered {resp.status_code} to {method} {shown} with a body that is not JSON ({kind})",
            f"a proxy or a wrong $GITHUB_API_URL ({GHES_HINT})?",
            status=resp.status_code,
            method=method,
            path=shown,
        ) from None


def message(resp: requests.Response) -> str:
    """GitHub's ``message`` in an error body (or the start of a body that is not JSON)."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200].strip()
    return str(body.get("message", "")) if isinstance(body, dict) else ""
