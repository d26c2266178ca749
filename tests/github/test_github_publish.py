"""`overfit-gate publish` and `verify` end to end through the fake GitHub server, from a
prepared result.json (the trusted-job half of the fork-safe pattern)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakegithub import PAT, TOKEN, FakeGitHub
from fakegithub.actions import RUN_ID, actions_env, event, serving

import gate.github.client
from gate.cli import main as cli
from gate.github.check_runs import conclusion
from gate.github.comments import marker
from gate.github.publish import CONTEXT_FILE
from gate.result import Result

REPO = "Codertocat/Hello-World"
HEAD = event()["pull_request"]["head"]["sha"]
RUN_URL = f"https://github.example.com/{REPO}/actions/runs/{RUN_ID}"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    monkeypatch.setattr(gate.github.client, "_default_sleep", lambda s: None)  # retries without waiting
    with serving() as gh:
        gh.add_pull(event())
        yield gh


def result(verdict: str = "fail", n_failing: int = 2, **extra: Any) -> Result:
    checks = (
        [
            {
                "name": f"check_{i}",
                "status": "fail",
                "message": f"problem {i}",
                "hint": "look at layer.weight",
                "data": {"line": i + 1},
            }
            for i in range(n_failing)
        ]
        if verdict == "fail"
        else []
    )
    checks.append({"name": "fine", "status": "pass", "message": "ok"})
    return Result.model_validate(
        {
            "verdict": verdict,
            "reason": extra.pop("reason", f"the gate says {verdict}"),
            "steps": 120,
            "initial_loss": 2.3,
            "final_loss": 0.01 if verdict == "pass" else 1.9,
            "losses": [2.3, 1.0, 0.5],
            "checks": checks,
            "entrypoint": "examples/mlp_classifier.py:make_task",
            **extra,
        }
    )


def prepared(tmp_path: Path, res: Result) -> Path:
    out = tmp_path / "report"
    res.write(out)
    return out


def publish(env: dict[str, str], out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = cli(["publish", "--out", str(out), *extra], env)
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert TOKEN not in text and PAT not in text  # never printed, whatever happened
    return code, text


def test_pull_request_gets_one_check_run_on_the_head_sha_and_one_comment(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = actions_env(fake, tmp_path, event())
    code, text = publish(env, prepared(tmp_path, result("fail")), capsys)
    assert code == 1 and "check run https://github.com/" in text and "PR comment https://github.com/" in text
    runs = fake.check_runs
    assert len(runs) == 1 and runs[0]["head_sha"] == HEAD != env["GITHUB_SHA"]
    run = runs[0]
    assert (run["name"], run["status"], run["conclusion"]) == ("overfit-gate", "completed", "failure")
    assert run["details_url"] == RUN_URL and run["output"]["title"].startswith("fail: the gate says fail")
    assert "problem 0" in run["output"]["summary"]
    notes = fake.annotations[run["id"]]
    assert [(a["path"], a["start_line"], a["annotation_level"]) for a in notes] == [
        ("examples/mlp_classifier.py", 1, "failure"),
        ("examples/mlp_classifier.py", 2, "failure"),
    ]
    comments = fake.comments_on(REPO, 2)
    assert len(comments) == 1 and comments[0]["body"].startswith(marker("overfit-gate"))
    assert comments[0]["user"]["login"] == "github-actions[bot]"
    # job summary and outputs are written too (gate.report.actions.emit)
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text().strip()
    assert "verdict" in Path(env["GITHUB_OUTPUT"]).read_text()


def test_publishing_again_updates_the_comment_instead_of_adding_one(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = actions_env(fake, tmp_path, event())
    fake.add_comment(REPO, 2, f"quoting {marker('overfit-gate')} in my review", "a-human")
    assert publish(env, prepared(tmp_path, result("fail")), capsys)[0] == 1
    first = [c for c in fake.comments_on(REPO, 2) if c["user"]["login"] == "github-actions[bot]"]
    assert publish(env, prepared(tmp_path, result("pass")), capsys)[0] == 0
    mine = [c for c in fake.comments_on(REPO, 2) if c["user"]["login"] == "github-actions[bot]"]
    assert len(mine) == 1 and mine[0]["id"] == first[0]["id"]
    assert "overfit-gate: pass" in mine[0]["body"]
    assert any(r.op == "issues/update-comment" for r in fake.log)
    human = [c for c in fake.comments_on(REPO, 2) if c["user"]["login"] == "a-human"]
    assert human[0]["body"].startswith("quoting")  # someone else's comment is never touched


def test_duplicate_marker_comments_from_a_past_race_are_collapsed(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(2):
        fake.add_comment(REPO, 2, f"{marker('overfit-gate')}\nold", "github-actions[bot]")
    fake.add_comment(REPO, 2, f"{marker('other-gate')}\nold", "github-actions[bot]")
    publish(actions_env(fake, tmp_path, event()), prepared(tmp_path, result("pass")), capsys)
    bodies = [c["body"] for c in fake.comments_on(REPO, 2)]
    assert sum(marker("overfit-gate") in b for b in bodies) == 1 and len(bodies) == 2


def test_fork_pr_makes_no_writes_and_exits_with_the_verdict(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = actions_env(fake, tmp_path, event(fork=True))
    code, text = publish(env, prepared(tmp_path, result("fail")), capsys)
    assert code == 1  # the verdict's code, not an error
    assert fake.writes() == [] and fake.check_runs == [] and fake.comments == []
    assert text.count("notice: not publishing to GitHub") == 1 and "fork" in text
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text().strip()  # the summary is still there


def test_read_only_token_degrades_with_one_notice(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.read_only = True  # e.g. `permissions: read-all`
    code, text = publish(actions_env(fake, tmp_path, event()), prepared(tmp_path, result("pass")), capsys)
    assert code == 0
    assert fake.check_runs == [] and fake.comments == [] and fake.statuses == []
    assert text.count("notice: not publishing to GitHub") == 1
    assert "Resource not accessible by integration" in text


def test_500_then_200_succeeds_after_a_retry(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.fail("checks/create", 500)
    fake.fail("issues/create-comment", 502)
    code, _ = publish(actions_env(fake, tmp_path, event()), prepared(tmp_path, result("pass")), capsys)
    assert code == 0
    assert len(fake.check_runs) == 1 and fake.check_runs[0]["conclusion"] == "success"
    assert len(fake.comments_on(REPO, 2)) == 1
    assert [r.status for r in fake.log if r.op == "checks/create"] == [500, 201]


def test_rate_limited_comment_is_retried(fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake.fail("issues/create-comment", 403, "You have exceeded a secondary rate limit", {"Retry-After": "1"})
    assert publish(actions_env(fake, tmp_path, event()), prepared(tmp_path, result("pass")), capsys)[0] == 0
    assert len(fake.comments_on(REPO, 2)) == 1


def test_personal_token_falls_back_to_a_commit_status(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = actions_env(fake, tmp_path, event(), token=PAT)
    code, text = publish(env, prepared(tmp_path, result("fail")), capsys)
    assert code == 1 and fake.check_runs == []
    assert [(s["context"], s["state"], s["target_url"], s["_sha"]) for s in fake.statuses] == [
        ("overfit-gate", "failure", RUN_URL, HEAD)
    ]
    assert "You must authenticate via a GitHub App" in text and "commit status" in text
    comments = fake.comments_on(REPO, 2)
    assert len(comments) == 1 and comments[0]["user"]["login"] == "octocat"  # GET /user works for a PAT


def test_bad_credentials_fail_the_publish_job_but_not_silently(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = actions_env(fake, tmp_path, event(), token="ghp_wrong_token_value_0000000000000000000")
    code, text = publish(env, prepared(tmp_path, result("pass")), capsys)
    assert code == 3 and "rejected the token" in text and "ghp_wrong_token_value" not in text
    assert fake.writes() and all(r.status == 401 for r in fake.writes())


def test_annotations_are_capped_at_50_and_publish_creates_the_run_completed_in_one_post(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fork's artifact with 2,000 failing checks once became 40 PATCHes: now one request."""
    publish(actions_env(fake, tmp_path, event()), prepared(tmp_path, result("fail", n_failing=2000)), capsys)
    run = fake.check_runs[0]
    assert len(fake.annotations[run["id"]]) == 50 and run["output"]["annotations_count"] == 50
    checks_calls = [r for r in fake.writes() if r.op.startswith("checks/")]  # reads: the baseline lookup
    assert [(r.op, r.body["status"]) for r in checks_calls] == [("checks/create", "completed")]
    assert (run["status"], run["conclusion"]) == ("completed", "failure")


def test_the_gate_name_comes_from_the_trusted_job_not_the_report(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = prepared(tmp_path, result("pass", name="build"))  # an untrusted report impersonating `build`
    code, text = publish(actions_env(fake, tmp_path, event()), out, capsys)
    assert code == 0 and [r["name"] for r in fake.check_runs] == ["overfit-gate"]
    assert "publishing as `overfit-gate`" in text


def test_workflow_run_publishes_a_fork_report_on_the_verified_pr(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = event("workflow_run.completed.json")
    payload["repository"]["full_name"] = REPO
    payload["workflow_run"]["head_sha"] = HEAD  # GitHub leaves pull_requests empty for forks
    out = prepared(tmp_path, result("pass"))
    (out / CONTEXT_FILE).write_text(json.dumps({"pr": 2}))
    env = actions_env(fake, tmp_path, payload, event_name="workflow_run", sha="0" * 40)
    assert publish(env, out, capsys)[0] == 0
    assert [r["head_sha"] for r in fake.check_runs] == [HEAD]
    assert len(fake.comments_on(REPO, 2)) == 1
    # A report that names a PR at another commit gets no comment there.
    fake.comments.clear()
    payload["workflow_run"]["head_sha"] = "1" * 40
    code, text = publish(actions_env(fake, tmp_path, payload, event_name="workflow_run"), out, capsys)
    assert code == 0 and fake.comments == [] and "is not at" in text


def test_publish_without_a_token_is_a_usage_error(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = publish(actions_env(fake, tmp_path, event(), token=None), prepared(tmp_path, result()), capsys)
    assert code == 2 and "GITHUB_TOKEN" in text and fake.log == []


@pytest.mark.parametrize(
    ("verdict", "error", "expected"),
    [
        ("pass", None, "success"),
        ("fail", None, "failure"),
        ("error", "Timeout", "timed_out"),
        ("error", "Cancelled", "cancelled"),
        ("error", "HarnessCrashed", "failure"),
    ],
)
def test_conclusions(verdict: str, error: str | None, expected: str) -> None:
    res = Result.model_validate(
        {"verdict": verdict, "reason": "r", "error": {"type": error, "message": "m"} if error else None}
    )
    assert conclusion(res) == expected


def test_not_applicable_is_never_a_passing_conclusion() -> None:
    res = Result.model_validate({"verdict": "not_applicable", "reason": "not applicable: a GAN; gate ..."})
    # neutral/skipped would satisfy a required check: a program the gate could not test has not passed
    assert conclusion(res, RUN_URL) == "action_required"
    assert conclusion(res, None) == "failure"  # GitHub wants a details_url with action_required


def test_not_applicable_publishes_action_required_exits_4_and_verify_refuses(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = actions_env(fake, tmp_path, event("push.json"))
    env["GITHUB_REPOSITORY"] = REPO
    sha = "f" * 40
    na = result("not_applicable", reason="not applicable: two optimizers take turns; gate a supervised component")
    code, _ = publish(env, prepared(tmp_path, na), capsys, "--sha", sha)
    assert code == 4
    run = fake.runs_for(REPO, sha)[-1]
    assert run["conclusion"] == "action_required" and run["details_url"] == RUN_URL
    assert run["output"]["title"].startswith("not_applicable: not applicable: two optimizers")
    code, text = verify(env, sha, capsys)
    assert code == 1 and "not_applicable" in text and "task mode" in text


# ---- verify ------------------------------------------------------------------------------


def verify(env: dict[str, str], sha: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = cli(["verify", "--sha", sha, *extra], env)
    captured = capsys.readouterr()
    assert TOKEN not in captured.out + captured.err
    return code, captured.out + captured.err


def test_verify_passing_failing_missing_and_in_progress(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = actions_env(fake, tmp_path, event("push.json"))
    env["GITHUB_REPOSITORY"] = REPO
    good, bad, running = "a" * 40, "b" * 40, "c" * 40
    for sha, verdict in ((good, "pass"), (bad, "fail")):
        assert publish(env, prepared(tmp_path, result(verdict)), capsys, "--sha", sha)[0] == (verdict == "fail")
    publish(env, prepared(tmp_path, result("pass")), capsys, "--sha", running)
    fake.check_runs[-1].update(status="in_progress", conclusion=None)

    code, text = verify(env, good, capsys)
    assert code == 0 and "passed" in text
    code, text = verify(env, bad, capsys)
    assert code == 1 and "failed" in text and "failure" in text and "https://github.com/" in text
    code, text = verify(env, "d" * 40, capsys)
    assert code == 1 and "missing" in text
    code, text = verify(env, running, capsys)
    assert code == 1 and "in_progress" in text


def test_verify_newest_check_run_wins(fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = actions_env(fake, tmp_path, event("push.json"))
    env["GITHUB_REPOSITORY"] = REPO
    sha = "e" * 40
    publish(env, prepared(tmp_path, result("pass")), capsys, "--sha", sha)
    publish(env, prepared(tmp_path, result("fail")), capsys, "--sha", sha)  # a re-run that failed
    assert verify(env, sha, capsys)[0] == 1


def test_verify_accepts_the_status_fallback(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = actions_env(fake, tmp_path, event(), token=PAT)
    publish(env, prepared(tmp_path, result("pass")), capsys)
    assert fake.check_runs == [] and fake.statuses
    assert verify(env, HEAD, capsys)[0] == 0
    publish(env, prepared(tmp_path, result("fail")), capsys)
    code, text = verify(env, HEAD, capsys)
    assert code == 1 and "failure" in text and RUN_URL in text
