"""Helpers that build a GitHub Actions environment around the fake server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .server import TOKEN, FakeGitHub
from .spec import EVENTS

RUN_ID = "4242"


def event(name: str = "pull_request.opened.json", *, fork: bool = False) -> dict[str, Any]:
    """A real payload from tests/data/github/events (vendored); a fork PR is the same with another head repo."""
    payload: dict[str, Any] = json.loads((EVENTS / name).read_text())
    if fork:
        head = payload["pull_request"]["head"]["repo"]
        head["full_name"] = "evil-fork/" + head["name"]
        head["fork"] = True
    return payload


def actions_env(
    fake: FakeGitHub,
    tmp: Path,
    payload: dict[str, Any],
    event_name: str = "pull_request",
    token: str | None = TOKEN,
    sha: str = "f" * 40,
) -> dict[str, str]:
    """The environment a workflow step sees (GITHUB_SHA is the merge commit for PR events)."""
    path = tmp / f"event-{len(list(tmp.glob('event-*.json')))}.json"
    path.write_text(json.dumps(payload))
    repo = (payload.get("repository") or {}).get("full_name", "Codertocat/Hello-World")
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": fake.api_url,
        "GITHUB_SERVER_URL": "https://github.example.com",
        "GITHUB_REPOSITORY": repo,
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_SHA": sha,
        "GITHUB_RUN_ID": RUN_ID,
        "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"),
        "GITHUB_OUTPUT": str(tmp / "output.txt"),
    }
    if token:
        env["GITHUB_TOKEN"] = token
    return env


@contextmanager
def serving() -> Iterator[FakeGitHub]:
    fake = FakeGitHub().start()
    try:
        yield fake
    finally:
        fake.stop()
    # The fake's own answers must match GitHub's response schemas, or the tests prove nothing.
    assert not fake.response_errors, fake.response_errors
