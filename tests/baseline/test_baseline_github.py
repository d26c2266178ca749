"""The base side on GitHub, through the fake server (every request validated against GitHub's
OpenAPI description): the summary a check run carries, finding it on the base commit or an
ancestor, what is not trusted, API errors, and the trusted `publish` re-comparing a fork PR."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakegithub import TOKEN, FakeGitHub
from fakegithub.actions import actions_env, event, serving
from test_baseline import run_result

import gate.github.client
from gate.baseline.ci import for_run
from gate.baseline.find import MAX_ANCESTORS, Missing, find
from gate.baseline.summary import decode
from gate.cli import main as cli
from gate.config import Config
from gate.github.client import GitHubClient
from gate.github.env import Secret
from gate.github.publish import CONTEXT_FILE
from gate.result import Result

REPO = "Codertocat/Hello-World"
PR = event()["pull_request"]
HEAD, BASE = PR["head"]["sha"], PR["base"]["sha"]
OLDER = [f"{i:040x}" for i in range(1, 4)]  # three commits before BASE, oldest first


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    monkeypatch.setattr(gate.github.client, "_default_sleep", lambda s: None)
    with serving() as gh:
        gh.add_pull(event())
        gh.add_commits(REPO, [*OLDER, BASE])
        yield gh


def client(fake: FakeGitHub) -> GitHubClient:
    return GitHubClient(Secret(TOKEN), fake.api_url)


def publish_at(fake: FakeGitHub, tmp_path: Path, sha: str, res: Result, event_name: str = "push") -> None:
    """Publish ``res`` as the gate's check run on ``sha`` (a push to main, or another event)."""
    out = tmp_path / f"pub-{sha[:8]}-{event_name}"
    res.write(out)
    payload = event("push.json") if event_name == "push" else event()
    env = actions_env(fake, tmp_path, payload, event_name=event_name, sha=sha)
    args = ["publish", "--out", str(out), "--sha", sha, "--baseline", "off"]
    assert cli(args, env) in (0, 1)


def test_every_check_run_carries_the_summary_with_its_event(fake: FakeGitHub, tmp_path: Path) -> None:
    publish_at(fake, tmp_path, BASE, run_result(36))
    (run,) = fake.runs_for(REPO, BASE)
    summary = decode(run["output"]["text"])
    assert (summary.verdict, summary.target_step, summary.event) == ("pass", 36, "push")
    assert summary.fingerprint.torch == "2.13.0+cpu"
    checks_create = [r for r in fake.log if r.op in ("checks/create", "checks/update")]
    assert all(r.status < 300 for r in checks_create)  # GitHub's schema accepts output.text


def test_found_on_the_base_commit_or_the_nearest_ancestor(fake: FakeGitHub, tmp_path: Path) -> None:
    publish_at(fake, tmp_path, OLDER[0], run_result(50))
    publish_at(fake, tmp_path, OLDER[1], run_result(40))
    got = find(client(fake), REPO, BASE, "overfit-gate", "main")
    assert (got.sha, got.distance, got.summary.target_step) == (OLDER[1], 2, 40)
    assert got.url and got.url.startswith("https://github.com/")
    publish_at(fake, tmp_path, BASE, run_result(36))
    got = find(client(fake), REPO, BASE, "overfit-gate", "main")
    assert (got.sha, got.distance, got.summary.target_step) == (BASE, 0, 36)


def test_a_pull_request_runs_summary_is_never_a_baseline(fake: FakeGitHub, tmp_path: Path) -> None:
    # A PR whose head is main's commit (or a fork's forged report) publishes on that SHA.
    publish_at(fake, tmp_path, BASE, run_result(5), event_name="pull_request")
    with pytest.raises(Missing, match="comes from a pull_request run"):
        find(client(fake), REPO, BASE, "overfit-gate", "main")
    publish_at(fake, tmp_path, OLDER[2], run_result(36))
    assert find(client(fake), REPO, BASE, "overfit-gate", "main").sha == OLDER[2]


def test_missing_and_unreadable_and_api_errors_say_why(fake: FakeGitHub, tmp_path: Path) -> None:
    with pytest.raises(
        Missing, match=r"no `overfit-gate` check run on main's commit f95f852 or the 3 commits before it"
    ):
        find(client(fake), REPO, BASE, "overfit-gate", "main")
    publish_at(fake, tmp_path, BASE, run_result(36))
    with pytest.raises(Missing, match="no `other-gate` check run"):
        find(client(fake), REPO, BASE, "other-gate", "main")  # a new gate name
    fake.check_runs[-1]["output"]["text"] = "edited by hand"
    with pytest.raises(Missing, match="carries no overfit-gate summary"):
        find(client(fake), REPO, BASE, "overfit-gate", "main")
    fake.fail("checks/list-for-ref", 403, "Resource not accessible by integration")
    with pytest.raises(Missing, match="could not read main's results from GitHub: the token may not write"):
        find(client(fake), REPO, BASE, "overfit-gate", "main")


def test_the_search_is_bounded(fake: FakeGitHub) -> None:
    history = [f"{i:040x}" for i in range(100, 160)]
    fake.add_commits(REPO, history)
    with pytest.raises(Missing, match=f"or the {MAX_ANCESTORS - 1} commits before it"):
        find(client(fake), REPO, history[-1], "overfit-gate", "main")
    lookups = [r for r in fake.log if r.op == "checks/list-for-ref"]
    assert len(lookups) == MAX_ANCESTORS and sum(r.op == "repos/list-commits" for r in fake.log) == 1


def _fork_publish_env(fake: FakeGitHub, tmp_path: Path, out: Path) -> dict[str, str]:
    payload = event("workflow_run.completed.json")
    payload["repository"]["full_name"] = REPO
    payload["workflow_run"]["head_sha"] = HEAD
    payload["workflow_run"]["event"] = "pull_request"
    (out / CONTEXT_FILE).write_text(json.dumps({"pr": 2}))
    return actions_env(fake, tmp_path, payload, event_name="workflow_run", sha="0" * 40)


def test_trusted_publish_compares_a_fork_report_by_its_own_policy(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    publish_at(fake, tmp_path, BASE, run_result(36))
    out = tmp_path / "fork-report"
    forged = run_result(148, config={"steps": 500, "target_ratio": 0.01, "on_regression": "warn"})
    forged.write(out)
    data = json.loads((out / "result.json").read_text())
    data["baseline"] = {"status": "no_change", "message": "no change against main: trust me"}
    (out / "result.json").write_text(json.dumps(data))
    env = _fork_publish_env(fake, tmp_path, out)
    env["INPUT_ON-REGRESSION"] = "fail"  # the trusted job's setting, not the folder's
    assert cli(["publish", "--out", str(out)], env) == 1
    (run,) = fake.runs_for(REPO, HEAD)
    assert run["conclusion"] == "failure"
    assert decode(run["output"]["text"]).event == "pull_request"  # never a baseline itself
    for body in (run["output"]["summary"], fake.comments_on(REPO, 2)[0]["body"]):
        assert "trust me" not in body
        assert "reaches the target in 148 steps, 4.1× master's 36" in body
        assert "| Steps to target | 148 (4.1×) | 36 |" in body
    assert "it fails the gate" in run["output"]["summary"]


def test_publish_skips_the_comparison_on_api_errors_and_keeps_the_verdict(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fork-report"
    run_result(148).write(out)
    env = _fork_publish_env(fake, tmp_path, out)
    env["INPUT_ON-REGRESSION"] = "fail"
    fake.fail("checks/list-for-ref", 500, times=10)
    assert cli(["publish", "--out", str(out)], env) == 0
    (run,) = fake.runs_for(REPO, HEAD)
    assert run["conclusion"] == "success"
    assert "Baseline skipped: could not read master's results from GitHub" in run["output"]["summary"]
    assert TOKEN not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("payload", "event_name", "token", "said"),
    [
        (event("push.json"), "push", TOKEN, None),  # not a PR: no comparison, no block
        (
            event(fork=True),
            "pull_request",
            TOKEN,
            "a fork PR's run; the trusted `publish` job compares it with the base branch",
        ),
        (event(), "pull_request", None, "no GitHub token to read the base branch's results (pass `github-token`)"),
    ],
)
def test_run_says_why_it_does_not_look(
    fake: FakeGitHub, tmp_path: Path, payload: dict[str, object], event_name: str, token: str | None, said: str | None
) -> None:
    env = actions_env(fake, tmp_path, payload, event_name=event_name, token=token)
    res = for_run(Config(on_regression="fail"), env, None).apply(run_result(148))
    assert res.verdict == "pass"
    assert (res.baseline.message if res.baseline else None) == (said and f"baseline skipped: {said}")
    assert [r.op for r in fake.log] == []  # nothing asked of GitHub


def test_run_fetches_while_training_and_compares_after(fake: FakeGitHub, tmp_path: Path) -> None:
    publish_at(fake, tmp_path, BASE, run_result(36))
    pending = for_run(Config(on_regression="fail"), actions_env(fake, tmp_path, event()), None)
    res = pending.apply(run_result(148))
    assert res.verdict == "fail" and res.baseline is not None
    assert (res.baseline.status, res.baseline.sha, res.baseline.label) == ("regression", BASE, "master")
    assert res.baseline.url and res.baseline.url.startswith("https://github.com/")
