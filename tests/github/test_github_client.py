"""The GitHub client and the Actions environment model, against the fake GitHub server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from fakegithub import PAT, READ_ONLY, TOKEN, FakeGitHub
from fakegithub.actions import event, serving

from gate.github.client import GitHubAPIError, GitHubClient
from gate.github.env import Secret, from_environ, parse_event, resolve_token

REPO = "Codertocat/Hello-World"


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with serving() as gh:
        gh.add_pull(event())
        yield gh


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(fake: FakeGitHub, token: str = TOKEN, **kw: Any) -> tuple[GitHubClient, Sleeps]:
    sleeps = Sleeps()
    return GitHubClient(Secret(token), fake.api_url, sleep=sleeps, **kw), sleeps


def test_500_then_200_retries_with_backoff(fake: FakeGitHub) -> None:
    fake.fail("issues/list-comments", 500, times=2)
    c, sleeps = client(fake)
    assert c.get(f"/repos/{REPO}/issues/2/comments") == []
    assert sleeps == [1.0, 2.0]
    assert [r.status for r in fake.log] == [500, 500, 200]


def test_5xx_gives_up_after_the_retries_with_a_clear_error(fake: FakeGitHub) -> None:
    fake.fail("*", 502, times=99)
    c, sleeps = client(fake, retries=2)
    with pytest.raises(GitHubAPIError, match="GitHub answered 502") as info:
        c.get(f"/repos/{REPO}/issues/2/comments")
    assert len(sleeps) == 2 and info.value.status == 502


def test_429_honours_retry_after(fake: FakeGitHub) -> None:
    fake.fail("issues/create-comment", 429, "You have exceeded a secondary rate limit", {"Retry-After": "7"})
    c, sleeps = client(fake)
    c.post(f"/repos/{REPO}/issues/2/comments", {"body": "hi"})
    assert sleeps == [7.0]
    assert len(fake.comments_on(REPO, 2)) == 1


def test_primary_rate_limit_waits_until_reset(fake: FakeGitHub) -> None:
    now = 1_700_000_000.0
    fake.fail(
        "issues/list-comments",
        403,
        "API rate limit exceeded",
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(now) + 12)},
    )
    c, sleeps = client(fake, clock=lambda: now)
    c.get(f"/repos/{REPO}/issues/2/comments")
    assert sleeps == [13.0]  # until the reset, plus a second of slack


def test_secondary_rate_limit_403_without_headers_is_retried(fake: FakeGitHub) -> None:
    fake.fail("issues/list-comments", 403, "You have exceeded a secondary rate limit. Please wait a few minutes")
    c, sleeps = client(fake, max_wait=120)
    c.get(f"/repos/{REPO}/issues/2/comments")
    assert sleeps == [60.0]


def test_rate_limit_wait_is_capped(fake: FakeGitHub) -> None:
    fake.fail("issues/list-comments", 429, "slow down", {"Retry-After": "3600"})
    c, sleeps = client(fake, max_wait=30)
    with pytest.raises(GitHubAPIError, match="rate limit") as info:
        c.get(f"/repos/{REPO}/issues/2/comments")
    assert sleeps == [] and "3600s" in info.value.message


def test_real_sleep_is_short_when_retry_after_is_zero(fake: FakeGitHub) -> None:
    fake.fail("issues/list-comments", 429, "slow down", {"Retry-After": "0"})
    started = time.perf_counter()
    GitHubClient(Secret(TOKEN), fake.api_url).get(f"/repos/{REPO}/issues/2/comments")
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(
    ("status", "message", "words"),
    [
        (401, "Bad credentials", "rejected the token"),
        (403, READ_ONLY, "may not write"),
        (404, "Not Found", "not found"),
    ],
)
def test_errors_say_what_happened_and_what_to_do(fake: FakeGitHub, status: int, message: str, words: str) -> None:
    fake.fail("issues/create-comment", status, message)
    c, _ = client(fake)
    with pytest.raises(GitHubAPIError) as info:
        c.post(f"/repos/{REPO}/issues/2/comments", {"body": "hi"})
    err = info.value
    assert words in err.message and message in err.message and err.hint
    assert err.read_only == (message == READ_ONLY)
    assert TOKEN not in f"{err} {err!r} {err.hint} {err.args}"


def test_a_wrong_token_is_401_and_never_shown(fake: FakeGitHub) -> None:
    secret = "ghp_not_a_valid_token_but_secret_anyway_1234"
    c = GitHubClient(Secret(secret), fake.api_url, sleep=lambda s: None)
    with pytest.raises(GitHubAPIError, match="rejected the token") as info:
        c.get(f"/repos/{REPO}/issues/2/comments")
    assert info.value.status == 401
    assert secret not in f"{info.value} {info.value!r} {c!r} {vars(c)!r}"


def test_server_echoing_the_token_is_scrubbed(fake: FakeGitHub) -> None:
    fake.fail("issues/list-comments", 403, f"token {TOKEN} is not allowed here")
    c, _ = client(fake)
    with pytest.raises(GitHubAPIError) as info:
        c.get(f"/repos/{REPO}/issues/2/comments")
    assert TOKEN not in str(info.value) and "***" in str(info.value)


def test_unreachable_host_is_a_clear_error() -> None:
    c = GitHubClient(Secret(TOKEN), "http://127.0.0.1:9/api/v3", sleep=lambda s: None, retries=1, timeout=2)
    with pytest.raises(GitHubAPIError, match="could not reach GitHub") as info:
        c.get("/user")
    assert "GITHUB_API_URL" in info.value.hint


def test_paginates_through_link_headers(fake: FakeGitHub) -> None:
    for i in range(230):
        fake.add_comment(REPO, 2, f"comment {i}", "someone")
    c, _ = client(fake)
    bodies = [x["body"] for x in c.paginate(f"/repos/{REPO}/issues/2/comments")]
    assert bodies == [f"comment {i}" for i in range(230)]
    assert sum(1 for r in fake.log if r.op == "issues/list-comments") == 3


def test_the_session_is_injectable(fake: FakeGitHub) -> None:
    seen: list[str] = []

    class Recording(requests.adapters.HTTPAdapter):
        def send(self, request: requests.PreparedRequest, **kw: Any) -> requests.Response:  # type: ignore[override]
            seen.append(f"{request.method} {request.url}")
            return super().send(request, **kw)

    session = requests.Session()
    session.mount("http://", Recording())
    GitHubClient(Secret(TOKEN), fake.api_url, session=session).get("/rate_limit")
    assert seen == [f"GET {fake.api_url}/rate_limit"]


def test_github_rejects_what_the_description_forbids(fake: FakeGitHub) -> None:
    c, _ = client(fake)
    sha = event()["pull_request"]["head"]["sha"]
    run = c.post(f"/repos/{REPO}/check-runs", {"name": "x", "head_sha": sha, "status": "in_progress"})
    with pytest.raises(GitHubAPIError, match="not a member of enum") as info:
        c.patch(f"/repos/{REPO}/check-runs/{run['id']}", {"conclusion": "bogus"})
    assert info.value.status == 422
    with pytest.raises(GitHubAPIError) as info:
        c.post(f"/repos/{REPO}/check-runs", {"name": "x"})  # no head_sha
    assert info.value.status == 422
    with pytest.raises(GitHubAPIError) as info:
        c.post(
            f"/repos/{REPO}/check-runs",
            {
                "name": "x",
                "head_sha": sha,
                "output": {
                    "title": "t",
                    "summary": "s",
                    "annotations": [
                        {"path": "a.py", "start_line": 1, "end_line": 1, "annotation_level": "failure", "message": "m"}
                    ]
                    * 51,
                },
            },
        )
    assert info.value.status == 422  # more than 50 annotations in one request


# ---- the environment model -------------------------------------------------------------


def test_pull_request_event_targets_the_head_sha_not_the_merge_commit(tmp_path: Any) -> None:
    payload = event()
    path = tmp_path / "e.json"
    path.write_text(__import__("json").dumps(payload))
    gh = from_environ(
        {
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(path),
            "GITHUB_SHA": "m" * 40,
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_RUN_ID": "7",
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_API_URL": "https://ghe.example.com/api/v3/",
        }
    )
    assert gh.target_sha == payload["pull_request"]["head"]["sha"] != gh.sha
    assert gh.event.pr_number == 2 and not gh.event.is_fork and not gh.read_only
    assert gh.api_url == "https://ghe.example.com/api/v3"
    assert gh.run_url == f"https://github.com/{REPO}/actions/runs/7"
    assert TOKEN not in repr(gh) and TOKEN not in str(gh.token)


def test_fork_detection() -> None:
    info = parse_event("pull_request", event(fork=True))
    assert info.is_fork and info.head_repo == "evil-fork/Hello-World"
    assert not parse_event("pull_request", event()).is_fork


@pytest.mark.parametrize(
    ("name", "event_name", "sha", "pr"),
    [
        ("push.json", "push", None, None),
        ("workflow_dispatch.json", "workflow_dispatch", None, None),
        (
            "workflow_run.completed.with-pull-requests.json",
            "workflow_run",
            "3484a3fb816e0859fd6e1cea078d76385ff50625",
            None,
        ),
        ("workflow_run.completed.json", "workflow_run", "3484a3fb816e0859fd6e1cea078d76385ff50625", None),
    ],
)
def test_other_events(name: str, event_name: str, sha: str | None, pr: int | None) -> None:
    info = parse_event(event_name, event(name))
    assert (info.head_sha, info.pr_number) == (sha, pr)


def test_workflow_run_pr_is_taken_only_when_its_head_matches() -> None:
    payload = event("workflow_run.completed.with-pull-requests.json")
    payload["workflow_run"]["head_sha"] = payload["workflow_run"]["pull_requests"][0]["head"]["sha"]
    assert parse_event("workflow_run", payload).pr_number == 2


def test_token_order() -> None:
    env = {"GITHUB_TOKEN": "a", "INPUT_GITHUB-TOKEN": "b"}
    assert resolve_token("cli", env).reveal() == "cli"
    assert resolve_token(None, env).reveal() == "a"
    assert resolve_token(None, {"INPUT_GITHUB-TOKEN": "b", "GITHUB_TOKEN": " "}).reveal() == "b"
    assert not resolve_token(None, {})
    assert "a" not in repr(resolve_token(None, env)) or repr(resolve_token(None, env)) == "Secret('***')"


def test_pat_reads_its_login(fake: FakeGitHub) -> None:
    c, _ = client(fake, token=PAT)
    assert c.get("/user")["login"] == "octocat"


def test_a_post_whose_answer_was_lost_is_looked_up_not_repeated(fake: FakeGitHub) -> None:
    """A read timeout after GitHub created the check run: re-POSTing made a duplicate that
    stayed in_progress forever. The run is found by its external_id instead."""
    from gate.github import check_runs as checks

    fake.delay("checks/create", 3, applied=True)
    c, _ = client(fake, timeout=1)
    run = checks.create(c, REPO, "overfit-gate", "a" * 40, None)
    assert [r["id"] for r in fake.check_runs] == [run.id]
    assert [r.op for r in fake.log] == ["checks/list-for-ref"]  # the lost POST is logged when it answers


def test_a_post_that_may_have_landed_is_not_resent_without_a_lookup(fake: FakeGitHub) -> None:
    fake.delay("issues/create-comment", 3, applied=True)
    c, _ = client(fake, timeout=1)
    with pytest.raises(GitHubAPIError, match="could not reach GitHub"):
        c.post(f"/repos/{REPO}/issues/2/comments", {"body": "hi"})
    assert len(fake.comments_on(REPO, 2)) == 1  # the one that landed, never a second


def test_a_server_that_never_answers_costs_the_budget_not_minutes(fake: FakeGitHub) -> None:
    fake.delay("*", 60, times=99)
    c = GitHubClient(Secret(TOKEN), fake.api_url, budget=3, timeout=30)  # real sleeps
    started = time.monotonic()
    with pytest.raises(GitHubAPIError, match="budget"):
        c.get(f"/repos/{REPO}/issues/2/comments")
    assert time.monotonic() - started < 6
