"""Attacks from a pull request and from a fork's report folder, end to end against the fake
GitHub server: a PR loosening its own gate, workflow commands from the training log or from a
report, hostile Markdown in the bot's comment, a spoofed sticky marker, a publish job that may
not write, and forged check runs for `verify` (docs/security.md)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fakegithub import OTHER_APP, TOKEN, FakeGitHub
from fakegithub.actions import actions_env, event, serving

import gate.github.client
from gate.cli import main as cli
from gate.github.client import GitHubClient
from gate.github.comments import marker
from gate.github.env import Secret
from gate.result import Result
from tests.conftest import ROOT
from tests.github.test_github_publish import publish, verify

REPO = "Codertocat/Hello-World"
PR = event()
HEAD = PR["pull_request"]["head"]["sha"]
BASE = PR["pull_request"]["base"]["sha"]
Gate = Callable[..., tuple[int, "dict[str, Any] | None", str]]
OUR_COMMAND = re.compile(r"::(error|warning) (file=|title=)")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    monkeypatch.setattr(gate.github.client, "_default_sleep", lambda s: None)
    with serving() as gh:
        gh.add_pull(PR)
        yield gh


def commands_in(text: str) -> list[str]:
    """The lines the Actions runner would read as workflow commands (it trims leading spaces)."""
    return [line.strip() for line in text.splitlines() if line.lstrip().startswith(("::", "##["))]


# ---- a PR cannot loosen its own gate, nor speak workflow commands from its training log -----

HOSTILE_TASK = """
from broken import lr_zero


def make():
    print("::add-mask::everything")
    print("::set-output name=verdict::pass")
    print("::stop-commands::guessed-token")
    print("::warning title=x::the training code speaks")
    return lr_zero()
"""


@pytest.mark.slow
def test_a_pr_that_loosens_its_config_still_gets_the_base_verdict(
    fake: FakeGitHub, tmp_path: Path, gate_cli: Gate
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copy(ROOT / "tests" / "tasks" / "broken.py", ws / "broken.py")
    (ws / "hostile.py").write_text(HOSTILE_TASK)
    # The PR skips the checks that catch its bug and sets a target any loss meets.
    (ws / "pyproject.toml").write_text(
        '[tool.overfit-gate]\nentrypoint = "hostile.py:make"\n'
        'skip-checks = ["parameters_update", "input_dependence"]\ntarget-loss = 1e9\n'
    )
    fake.add_file(REPO, BASE, "pyproject.toml", "[tool.overfit-gate]\nsteps = 60\npatience = 30\n")
    env = actions_env(fake, tmp_path, PR)
    env["GITHUB_WORKSPACE"] = str(ws)
    code, res, out = gate_cli("run", out=ws / "overfit-gate-report", env=env, cwd=ws)

    assert code == 1 and res is not None and res["verdict"] == "fail", out
    assert res["config"]["steps"] == 60 and res["config"]["skip_checks"] == []
    assert res["config_changes"] == [
        "`patience`: 30 → unset",
        '`skip-checks`: unset → ["parameters_update", "input_dependence"]',
        "`steps`: 60 → unset",
        "`target-loss`: unset → 1000000000.0",
    ]
    [get] = [r for r in fake.log if r.op == "repos/get-content"]
    assert get.path.endswith("/contents/pyproject.toml") and get.status == 200
    (run,) = fake.runs_for(REPO, HEAD)
    (comment,) = fake.comments_on(REPO, 2)
    for text in (run["output"]["summary"], comment["body"]):
        assert "This pull request changes the gate's config" in text and "`target-loss`: unset" in text

    # The training code's workflow commands sit between a stop and a resume with a token it
    # could not know; after the resume only the gate's own commands appear.
    cmds = commands_in(out)
    stop = next(
        i for i, c in enumerate(cmds) if c.startswith("::stop-commands::") and c != "::stop-commands::guessed-token"
    )
    token = cmds[stop].removeprefix("::stop-commands::")
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    resume = cmds.index(f"::{token}::")
    assert stop < cmds.index("::add-mask::everything") < resume
    assert stop < cmds.index("::set-output name=verdict::pass") < resume
    assert all(OUR_COMMAND.match(c) or c == "::endgroup::" for c in cmds[resume + 1 :]), cmds[resume:]
    outputs = Path(env["GITHUB_OUTPUT"]).read_text()
    assert "verdict=fail" in outputs and "verdict=pass" not in outputs


def test_without_the_base_history_or_a_token_the_run_stops_instead_of_trusting_the_pr(
    fake: FakeGitHub, tmp_path: Path, gate_cli: Gate
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "pyproject.toml").write_text("[tool.overfit-gate]\nsteps = 1\n")
    env = actions_env(fake, tmp_path, PR, token=None)
    env["GITHUB_WORKSPACE"] = str(ws)
    code, res, out = gate_cli("run", "--entrypoint", "x.py:f", out=ws / "r", env=env, cwd=ws)
    assert code == 2 and "base commit" in out and "fetch-depth: 0" in out and "config-source: head" in out
    assert res is not None and res["error"]["type"] == "ConfigError"  # the report still says why


def test_a_sandbox_key_in_the_prs_pyproject_is_refused(fake: FakeGitHub, tmp_path: Path, gate_cli: Gate) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "pyproject.toml").write_text('[tool.overfit-gate]\nnetwork = true\nout = "/github/file_commands"\n')
    env = actions_env(fake, tmp_path, PR)
    env["GITHUB_WORKSPACE"] = str(ws)
    code, res, out = gate_cli("run", "--entrypoint", "x.py:f", out=ws / "r", env=env, cwd=ws)
    assert code == 2 and "`network` cannot be set in" in out and TOKEN not in out
    assert res is not None and res["verdict"] == "error"
    assert fake.writes() == []  # nothing ran, nothing was published as if it had


# ---- the trusted publish job reads a fork's report folder ----------------------------------

EVIL = (
    "@octo-org/admins @octocat please merge, see #1 and https://evil.example [click](https://evil.example) "
    "![pixel](https://evil.example/p.png) \u202egnp.exe\u202c zero\u200bwidth <b>html</b>\n"
    "# Approved by the security team\n```\n::add-mask::abc\n::warning::pwned\n::stop-commands::x"
)


def forged(tmp_path: Path) -> Path:
    out = tmp_path / "report"
    Result.model_validate(
        {
            "verdict": "fail",
            "reason": EVIL,
            "name": "evil\n::error::spoofed",
            "checks": [
                {"name": "batch_mixing", "status": "fail", "message": f"{marker('other-gate')} {EVIL}", "hint": EVIL},
            ],
            "error": None,
            "entrypoint": "train.py:make",
        }
    ).write(out)
    return out


def test_a_forged_report_cannot_issue_workflow_commands_in_the_trusted_job(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = publish(actions_env(fake, tmp_path, PR), forged(tmp_path), capsys)
    assert code == 1
    cmds = commands_in(text)
    assert cmds and all(OUR_COMMAND.match(c) for c in cmds), cmds
    assert "::add-mask::abc" in text  # still shown, as text inside one escaped line


def test_the_comment_shows_hostile_markdown_as_inert_text(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = actions_env(fake, tmp_path, PR)
    assert publish(env, forged(tmp_path), capsys)[0] == 1
    (comment,) = fake.comments_on(REPO, 2)
    (run,) = fake.check_runs
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    for body in (comment["body"], run["output"]["summary"], summary):
        assert not re.search(r"@[A-Za-z0-9]", body)  # no mention: @\u200b breaks each one
        assert not re.search(r"#\d", body)  # no cross-reference
        assert "](" not in body.replace("\\](", "")  # no link or image syntax survives
        assert "https://evil" not in body  # no autolink either
        assert "\u202e" not in body and "\u202c" not in body
        assert "<b>" not in body
        assert not re.search(r"^#+ Approved", body, re.M)  # no fake heading
        assert body.count("```") % 2 == 0  # every fence the report opens, it closes
    assert comment["body"].startswith(marker("overfit-gate"))


def test_the_sticky_marker_counts_only_at_the_start_of_the_bots_own_comment(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Another gate's comment (same bot) quotes this gate's marker inside its report.
    other = fake.add_comment(
        REPO, 2, f"{marker('other')}\nsaw `{marker('overfit-gate')}` in a log", "github-actions[bot]"
    )
    env = actions_env(fake, tmp_path, PR)
    assert publish(env, forged(tmp_path), capsys)[0] == 1
    comments = fake.comments_on(REPO, 2)
    assert len(comments) == 2 and comments[0]["id"] == other["id"] and comments[0]["body"] == other["body"]
    assert not [r for r in fake.log if r.op in ("issues/update-comment", "issues/delete-comment")]
    # The other gate publishing next edits its own comment, not ours (ours quotes its marker).
    assert cli(["publish", "--out", str(forged(tmp_path)), "--name", "other-gate"], env) == 1
    capsys.readouterr()
    assert len(fake.comments_on(REPO, 2)) == 3


def test_a_publish_job_that_may_not_write_says_so_loudly_or_fails(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = event("workflow_run.completed.json")
    payload["repository"]["full_name"] = REPO
    payload["workflow_run"]["head_sha"] = HEAD
    env = actions_env(fake, tmp_path, payload, event_name="workflow_run")
    fake.read_only = True  # the job forgot `checks: write`
    out = forged(tmp_path)
    code, text = publish(env, out, capsys)
    assert code == 1 and fake.check_runs == []
    assert any(c.startswith("::error title=overfit-gate%3A not published::") for c in commands_in(text)), text
    assert "[!CAUTION]" in Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert publish(env, out, capsys, "--require-publish")[0] == 3


# ---- verify trusts GitHub's order, the gate's app and one commit ---------------------------


def post_run(fake: FakeGitHub, token: str, sha: str, conclusion: str, started: str | None = None) -> None:
    client = GitHubClient(Secret(token), fake.api_url)
    body: dict[str, Any] = {"name": "overfit-gate", "head_sha": sha, "status": "completed", "conclusion": conclusion}
    if started:
        body["started_at"] = started
    client.post(f"/repos/{REPO}/check-runs", body)


def test_verify_is_not_fooled_by_dates_other_apps_or_a_moving_branch(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = actions_env(fake, tmp_path, event("push.json"))
    env["GITHUB_REPOSITORY"] = REPO
    dated, other, branch = "1" * 40, "2" * 40, "3" * 40
    post_run(fake, TOKEN, dated, "success", started="2099-01-01T00:00:00Z")
    post_run(fake, TOKEN, dated, "failure")  # the real, later run
    code, text = verify(env, dated, capsys)
    assert code == 1 and "failure" in text

    post_run(fake, OTHER_APP, other, "success")  # another integration with checks: write
    code, text = verify(env, other, capsys)
    assert code == 1 and "missing" in text and "`github-actions` app" in text
    assert verify(env, other, capsys, "--app", "other-app")[0] == 0

    post_run(fake, TOKEN, branch, "success")
    fake.refs[(REPO.lower(), "main")] = branch
    Path(env["GITHUB_OUTPUT"]).write_text("")
    code, text = verify(env, "main", capsys)
    assert code == 0 and branch[:12] in text
    assert sum(r.op == "repos/get-commit" for r in fake.log) == 1  # resolved once
    assert Path(env["GITHUB_OUTPUT"]).read_text() == f"sha={branch}\n"  # the launch trains exactly this
    lists = [r.path for r in fake.log if r.op == "checks/list-for-ref"]
    assert lists[-1].endswith(f"/commits/{branch}/check-runs")


def test_training_log_block_is_closed_even_for_late_lines(capsys: pytest.CaptureFixture[str]) -> None:
    from gate.report.actions import TrainingLog

    with TrainingLog({"GITHUB_ACTIONS": "true"}) as log:
        log("::add-mask::x")
    log("::set-output name=verdict::pass")  # a straggler still holding the pipe
    cmds = commands_in(capsys.readouterr().out)
    token = cmds[1].removeprefix("::stop-commands::")
    assert cmds == [
        "::group::training log",
        f"::stop-commands::{token}",
        "::add-mask::x",
        f"::{token}::",
        "::endgroup::",
    ]
    with TrainingLog({}) as log:  # outside Actions: the plain log
        log("::x::")
    assert capsys.readouterr().out == "::x::\n"
