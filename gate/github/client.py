"""A small GitHub REST client on requests.

- The session is injectable (tests mount adapters or point at a local server), the base URL
  comes from ``GITHUB_API_URL`` so GitHub Enterprise Server works.
- Retries with backoff on 5xx and network errors, and on primary/secondary rate limits
  honouring ``Retry-After`` and ``x-ratelimit-reset``; waits are capped (a CI job should not
  sleep for an hour) and ``sleep``/``clock`` are injectable so tests are instant.
- Errors carry GitHub's own message plus what to do (api_errors.py); the token is sent only in the
  Authorization header and never appears in a message, an exception or a repr.
- A POST is not idempotent: after an answer that may hide a success (a read timeout, a dropped
  connection, a 5xx) it is re-sent only when the caller's ``lookup`` finds nothing (a check
  run with our ``external_id``, say), and never when there is no lookup and it may have landed.
- All requests of a client share one time budget (``budget``, seconds spent inside requests
  and their retries), so a server that never answers costs a bounded time, not 30 s × retries ×
  calls; ``extend`` grants a few seconds more to conclude a check run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import requests

from gate import __version__
from gate.github import api_errors
from gate.github.api_errors import GitHubAPIError
from gate.github.env import Secret

__all__ = ["GitHubAPIError", "GitHubClient"]

API_VERSION = "2022-11-28"
RETRY_STATUSES = (500, 502, 503, 504)
PUBLISH_BUDGET_S = 120.0  # all of a run's GitHub calls together, retries and waits included


def _default_sleep(seconds: float) -> None:
    # Looked up when a client is built, so tests can swap it without a real wait.
    time.sleep(seconds)


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
        budget: float = PUBLISH_BUDGET_S,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
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
        self.monotonic = monotonic
        self.budget = budget
        self.spent = 0.0  # in finished requests
        self._since: float | None = None  # start of the request in flight
        self.last_response: requests.Response | None = None

    def _used(self) -> float:
        return self.spent + (self.monotonic() - self._since if self._since is not None else 0.0)

    def remaining(self) -> float:
        return self.budget - self._used()

    def extend(self, seconds: float) -> None:
        """Allow ``seconds`` more from now (a last, minimal call to conclude a check run)."""
        self.budget = self._used() + seconds

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
        if resp.status_code == 429 or "rate limit" in api_errors.message(resp).lower():
            # Secondary limit without headers: GitHub asks for at least a minute, growing.
            return 60.0 * (2**attempt)
        return None

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        lookup: Callable[[], Any] | None = None,
    ) -> Any:
        """Send one API call (retrying what is worth retrying); the decoded JSON body or None.
        ``lookup`` (POST only): finds what an earlier attempt may have created, before a re-send."""
        if self._since is not None:  # a lookup inside a request: already counted
            return self._request(method, path, json, params, lookup)
        self._since = self.monotonic()
        try:
            return self._request(method, path, json, params, lookup)
        finally:
            self.spent, self._since = self._used(), None

    def _wait(self, seconds: float, method: str, shown: str) -> None:
        if seconds >= self.remaining():
            raise api_errors.over_budget(self.budget, method, shown)
        self.sleep(seconds)

    def _request(
        self, method: str, path: str, json: Any, params: Mapping[str, Any] | None, lookup: Callable[[], Any] | None
    ) -> Any:
        url = path if path.startswith("http") else f"{self.api_url}{path}"
        shown = path if not path.startswith(self.api_url) else path[len(self.api_url) :]
        maybe_sent = False  # a POST that may have landed: look before sending it again
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            if maybe_sent and lookup is not None:
                found = lookup()
                if found is not None:
                    return found
            left = self.remaining()
            if left <= 0:
                raise api_errors.over_budget(self.budget, method, shown)
            try:
                resp = self.session.request(
                    method, url, json=json, params=params, headers=self._headers(), timeout=min(self.timeout, left)
                )
            except requests.RequestException as exc:
                landed = method == "POST" and not api_errors.never_sent(exc)
                if last or (landed and lookup is None):
                    what = self.scrub(type(exc).__name__)
                    raise api_errors.unreachable(self.api_url, what, method, shown) from None
                maybe_sent = maybe_sent or landed
                self._wait(min(self.max_wait, self.backoff * 2**attempt), method, shown)
                continue
            if resp.status_code < 400:
                self.last_response = resp
                return api_errors.decode(resp, method, shown)
            self._retry_or_raise(resp, attempt, last, method, shown)  # raises unless worth retrying
            # A 5xx answer to a POST may hide a success: look (lookup) before sending it again.
            maybe_sent = maybe_sent or (method == "POST" and resp.status_code in RETRY_STATUSES)
        raise AssertionError("unreachable")  # pragma: no cover

    def _retry_or_raise(self, resp: requests.Response, attempt: int, last: bool, method: str, shown: str) -> None:
        """After a refused request: wait when it is worth retrying (a rate limit, a 5xx), else raise."""
        wait = self._rate_limit_wait(resp, attempt)
        if wait is not None:
            if last or wait > self.max_wait:
                api_message = self.scrub(api_errors.message(resp))
                raise api_errors.rate_limited(resp.status_code, wait, self.max_wait, api_message, method, shown)
            self._wait(wait, method, shown)
            return
        if resp.status_code in RETRY_STATUSES and not last:
            self._wait(min(self.max_wait, self.backoff * 2**attempt), method, shown)
            return
        raise api_errors.refused(resp.status_code, method, shown, self.scrub(api_errors.message(resp)))

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any, lookup: Callable[[], Any] | None = None) -> Any:
        return self.request("POST", path, json=body, lookup=lookup)

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
