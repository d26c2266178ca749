"""The GitHub Actions environment, read once at the edge into a frozen model.

Everything below this module gets a ``GitHubEnv`` (or plain values from it), never
``os.environ``: tests build one from a dict, and nothing else reads the process environment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gate.errors import UsageError

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_SERVER_URL = "https://github.com"
# Where the token may come from, in order (the CLI flag is checked by the caller first).
TOKEN_VARS = ("GITHUB_TOKEN", "INPUT_GITHUB-TOKEN", "INPUT_GITHUB_TOKEN")
# Credentials the training code must never see (the local runner drops them from the child's
# environment): every place we read a token from, the other names tokens travel under, and the
# runner's own credentials (artifact/cache service, OIDC token request).
SECRET_VARS = (
    *TOKEN_VARS,
    "GH_TOKEN",
    "OVERFIT_GATE_GITHUB_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_RUNTIME_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_CACHE_URL",
    "ACTIONS_CACHE_SERVICE_V2",
    "ACTIONS_RESULTS_URL",
)
# Any other ACTIONS_* variable is dropped too (GitHub adds new credentials under that prefix),
# except the two debug switches, which carry no secret and change nothing the gate decides.
SECRET_PREFIX = "ACTIONS_"
HARMLESS = ("ACTIONS_STEP_DEBUG", "ACTIONS_RUNNER_DEBUG")
MIN_SECRET_CHARS = 8  # shorter values ("1", "true") would scrub ordinary words
PR_EVENTS = ("pull_request", "pull_request_target")


class Secret:
    """A token that never shows itself: not in repr, str, f-strings, tracebacks or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class EventInfo:
    """What the gate needs from ``GITHUB_EVENT_PATH``: the commit to mark and the PR to comment on."""

    head_sha: str | None = None
    pr_number: int | None = None
    head_repo: str | None = None
    base_repo: str | None = None
    base_sha: str | None = None  # the PR's target commit: its config decides (gate/baseconfig.py)
    # The PR's base branch (the base-branch comparison names it), and for a workflow_run the
    # event of the run it follows (a baseline is only taken from non-PR runs).
    base_ref: str | None = None
    run_event: str | None = None

    @property
    def is_fork(self) -> bool:
        # A fork PR's GITHUB_TOKEN is read-only whatever the workflow asks for.
        return bool(self.head_repo and self.base_repo and self.head_repo.lower() != self.base_repo.lower())


def parse_event(event_name: str, payload: Mapping[str, Any]) -> EventInfo:
    """Pick the head SHA / PR number out of a webhook payload (absent keys mean "not a PR")."""
    pr = payload.get("pull_request")
    if event_name in PR_EVENTS and isinstance(pr, Mapping):
        head, base = pr.get("head") or {}, pr.get("base") or {}
        number = pr.get("number", payload.get("number"))
        return EventInfo(
            head_sha=head.get("sha"),
            pr_number=int(number) if number is not None else None,
            head_repo=(head.get("repo") or {}).get("full_name"),
            base_repo=(base.get("repo") or {}).get("full_name"),
            base_sha=base.get("sha"),
            base_ref=base.get("ref"),
        )
    run = payload.get("workflow_run")
    if event_name == "workflow_run" and isinstance(run, Mapping):
        # The trusted half of the fork pattern: mark the commit the untrusted run tested.
        # GitHub leaves `pull_requests` empty for fork PRs; publish then needs --pr.
        sha = run.get("head_sha")
        prs = [p for p in run.get("pull_requests") or [] if (p.get("head") or {}).get("sha") == sha]
        return EventInfo(
            head_sha=sha,
            pr_number=int(prs[0]["number"]) if prs else None,
            head_repo=(run.get("head_repository") or {}).get("full_name"),
            base_repo=(run.get("repository") or {}).get("full_name"),
            run_event=run.get("event"),
        )
    return EventInfo()


@dataclass(frozen=True)
class GitHubEnv:
    api_url: str = DEFAULT_API_URL
    server_url: str = DEFAULT_SERVER_URL
    repository: str | None = None
    event_name: str | None = None
    sha: str | None = None
    run_id: str | None = None
    step_summary: str | None = None
    output: str | None = None
    actions: bool = False
    event: EventInfo = field(default_factory=EventInfo)
    token: Secret = field(default_factory=lambda: Secret(""))

    @property
    def target_sha(self) -> str | None:
        """The PR's head SHA for PR events (GITHUB_SHA is the merge commit there), else GITHUB_SHA."""
        return self.event.head_sha or self.sha

    @property
    def tested_event(self) -> str | None:
        """The event whose code was tested: for the trusted workflow_run half, the event of the
        run it publishes (pull_request for a fork PR), never its own; unknown counts as a PR."""
        if self.event_name == "workflow_run":
            return self.event.run_event or "pull_request"
        return self.event_name

    @property
    def run_url(self) -> str | None:
        if not (self.repository and self.run_id):
            return None
        return f"{self.server_url.rstrip('/')}/{self.repository}/actions/runs/{self.run_id}"

    @property
    def present(self) -> bool:
        """Enough of the GitHub environment to know where to publish."""
        return bool(self.repository and self.target_sha)

    @property
    def read_only(self) -> bool:
        # Only PR-triggered runs from forks are known to be read-only up front; the rest
        # is discovered from GitHub's answer (403 "Resource not accessible by integration").
        return self.event_name in PR_EVENTS and self.event.is_fork and self.event_name != "pull_request_target"


def is_secret_var(name: str) -> bool:
    return name in SECRET_VARS or (name.startswith(SECRET_PREFIX) and name not in HARMLESS)


def child_environment(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without any credential: what the training code may see."""
    return {k: v for k, v in env.items() if not is_secret_var(k)}


def secret_values(env: Mapping[str, str], *extra: str | Secret | None) -> tuple[str, ...]:
    """Every credential value in ``env`` (and ``extra``), longest first, to scrub from
    whatever the gate writes: a value that leaked to the training code must not come back
    unmasked in result.json, a report, the summary, the outputs or the comment."""
    values = {v.strip() for k, v in env.items() if is_secret_var(k)}
    values |= {e.reveal() if isinstance(e, Secret) else e.strip() for e in extra if e}
    return tuple(sorted((v for v in values if len(v) >= MIN_SECRET_CHARS), key=len, reverse=True))


def resolve_token(cli_token: str | None, env: Mapping[str, str]) -> Secret:
    for value in (cli_token, *(env.get(k) for k in TOKEN_VARS)):
        if value and value.strip():
            return Secret(value.strip())
    return Secret("")


def load_event(path: str | None) -> tuple[dict[str, Any], str | None]:
    """The event payload, or ({}, why-not) when it cannot be read; a bad payload is not fatal."""
    if not path:
        return {}, None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {}, f"could not read the event payload {path}: {exc}"
    return (data, None) if isinstance(data, dict) else ({}, f"event payload {path} is not a JSON object")


def from_environ(env: Mapping[str, str], cli_token: str | None = None) -> GitHubEnv:
    """Build the model from the process environment (the only place it is read)."""
    event_name = env.get("GITHUB_EVENT_NAME") or None
    payload, problem = load_event(env.get("GITHUB_EVENT_PATH"))
    if problem:
        print(f"overfit-gate: notice: {problem}; treating the run as not a pull request", flush=True)
    return GitHubEnv(
        api_url=(env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
        server_url=(env.get("GITHUB_SERVER_URL") or DEFAULT_SERVER_URL).rstrip("/"),
        repository=env.get("GITHUB_REPOSITORY") or None,
        event_name=event_name,
        sha=env.get("GITHUB_SHA") or None,
        run_id=env.get("GITHUB_RUN_ID") or None,
        step_summary=env.get("GITHUB_STEP_SUMMARY") or None,
        output=env.get("GITHUB_OUTPUT") or None,
        actions=env.get("GITHUB_ACTIONS") == "true",
        event=parse_event(event_name or "", payload),
        token=resolve_token(cli_token, env),
    )


def split_repo(repository: str) -> tuple[str, str]:
    owner, sep, name = repository.partition("/")
    if not sep or not owner or not name or "/" in name:
        raise UsageError(f"repository {repository!r} is not of the form owner/name", hint="--repo octo-org/octo-repo")
    return owner, name
