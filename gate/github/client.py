"""A small GitHub REST client on requests.

- The session is injectable (tests mount adapters or point at a local server), the base URL
  comes from ``GITHUB_API_URL`` so GitHub Enterprise Server works.
- Retries with backoff on 5xx and network errors, and on primary/secondary rate limits
  honouring ``Retry-After`` and ``x-ratelimit-reset``; waits are capped (a CI job should not
  sleep for an hour) and ``sleep``/``clock`` are injectable so tests are instant.
- Errors carry GitHub's own message plus what to do; the token is sent only in the
  Authorization header and never appears in a message, an exception or a repr.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import requests

from gate import __version__
from gate.errors import GitHubError
from gate.github.env import Secret

API_VERSION = "2022-11-28"
RETRY_STATUSES = (500, 502, 503, 504)
READ_ONLY_MESSAGE = "Resource not accessible by integration"
PERMISSIONS_SNIPPET = "permissions:\n  checks: write\n  pull-requests: write\n  statuses: write\n  contents: read"


def _default_sleep(seconds: float) -> None:
    # Looked up when a client is built, so tests can swap it without a real wait.
    time.sleep(seconds)


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


class GitHubClient:
    def __init__(
        self,
        token: Secret,
        api_url: str = "https://api.github.com",
        *,
        session: requests.Session | None = None,
        retries: int = 4,
        backoff: float = 1.0,
        max_wait: float = 60.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._token = token
        self.api_url = api_url.rstrip("/")
        self.session = session or requests.Session()
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.timeout = timeout
        self.sleep = sleep if sleep is not None else _default_sleep
        self.clock = clock
        self.last_response: requests.Response | None = None

    def __repr__(self) -> str:
        return f"GitHubClient(api_url={self.api_url!r}, token=***)"

    def _headers(self) -> dict[str, str]:
        return {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self._token.reveal()}",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": f"overfit-gate/{__version__}",
        }

    def scrub(self, text: str) -> str:
        secret = self._token.reveal()
        return text.replace(secret, "***") if secret else text

    def _rate_limit_wait(self, resp: requests.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying a rate-limited response, or None if it is not one."""
        if resp.status_code not in (403, 429):
            return None
        retry_after = resp.headers.get("Retry-After")
        if retry_after is not None:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                return 60.0
        if resp.headers.get("x-ratelimit-remaining") == "0" and resp.headers.get("x-ratelimit-reset"):
            try:
                return max(0.0, float(resp.headers["x-ratelimit-reset"]) - self.clock()) + 1.0
            except ValueError:
                return 60.0
        if resp.status_code == 429 or "rate limit" in _message(resp).lower():
            # Secondary limit without headers: GitHub asks for at least a minute, growing.
            return 60.0 * (2**attempt)
        return None

    def request(self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        """Send one API call (retrying what is worth retrying); the decoded JSON body or None."""
        url = path if path.startswith("http") else f"{self.api_url}{path}"
        shown = path if not path.startswith(self.api_url) else path[len(self.api_url) :]
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                resp = self.session.request(
                    method, url, json=json, params=params, headers=self._headers(), timeout=self.timeout
                )
            except requests.RequestException as exc:
                if last:
                    raise GitHubAPIError(
                        f"could not reach GitHub at {self.api_url} for {method} {shown}: {self.scrub(type(exc).__name__)}",
                        "check $GITHUB_API_URL (GitHub Enterprise: https://HOST/api/v3) and the network",
                        method=method,
                        path=shown,
                    ) from None
                self.sleep(min(self.max_wait, self.backoff * 2**attempt))
                continue
            if resp.status_code < 400:
                self.last_response = resp
                return resp.json() if resp.content else None
            wait = self._rate_limit_wait(resp, attempt)
            if wait is not None:
                if last or wait > self.max_wait:
                    raise GitHubAPIError(
                        f"GitHub rate limit hit for {method} {shown}; it asks to wait {wait:.0f}s "
                        f"(more than the {self.max_wait:.0f}s this job will wait)",
                        "re-run the job later, or publish with a token that has its own quota",
                        status=resp.status_code,
                        api_message=self.scrub(_message(resp)),
                        method=method,
                        path=shown,
                    )
                self.sleep(wait)
                continue
            if resp.status_code in RETRY_STATUSES and not last:
                self.sleep(min(self.max_wait, self.backoff * 2**attempt))
                continue
            api_message = self.scrub(_message(resp))
            message, hint = _explain(resp.status_code, method, shown, api_message)
            raise GitHubAPIError(
                message, hint, status=resp.status_code, api_message=api_message, method=method, path=shown
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body)

    def patch(self, path: str, body: Any) -> Any:
        return self.request("PATCH", path, json=body)

    def delete(self, path: str) -> None:
        self.request("DELETE", path)

    def paginate(
        self, path: str, params: Mapping[str, Any] | None = None, key: str | None = None, max_pages: int = 50
    ) -> Iterator[Any]:
        """Items of every page, following ``Link: rel="next"``; ``key`` unwraps ``{total_count, key: [...]}``."""
        url: str | None = path
        query: Mapping[str, Any] | None = {"per_page": 100, **(params or {})}
        for _ in range(max_pages):
            if url is None:
                return
            page = self.request("GET", url, params=query)
            yield from (page.get(key, []) if key else page) or []
            nxt = self.last_response.links.get("next", {}).get("url") if self.last_response is not None else None
            # Never send the token to a host the Link header made up.
            url = nxt if nxt and nxt.startswith(self.api_url + "/") else None
            query = None  # the next link carries the query


def _message(resp: requests.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200].strip()
    return str(body.get("message", "")) if isinstance(body, dict) else ""
