"""The real gate (`overfit-gate run` on examples/mlp_classifier.py, in a subprocess) publishing
to the fake GitHub server with real event payloads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fakegithub import TOKEN, FakeGitHub
from fakegithub.actions import actions_env, event, serving

from gate.github.comments import marker
from gate.github.env import from_environ
from gate.github.publish import publisher

# The real gate in a subprocess, training, against the fake GitHub.
pytestmark = pytest.mark.slow

REPO = "Codertocat/Hello-World"
HEAD = event()["pull_request"]["head"]["sha"]
ENTRY = ["run", "--entrypoint", "examples/mlp_classifier.py:make_task", "--steps", "300"]
Gate = Callable[..., tuple[int, "dict[str, Any] | None", str]]


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with serving() as gh:
        gh.add_pull(event())
        yield gh


def test_pull_request_run_publishes_one_check_run_and_one_sticky_comment(
    fake: FakeGitHub, tmp_path: Path, gate_cli: Gate
) -> None:
    env = actions_env(fake, tmp_path, event())
    code, res, out = gate_cli(*ENTRY, env=env)
    assert code == 0, out
    assert res is not None and res["verdict"] == "pass"
    assert TOKEN not in out
    runs = fake.runs_for(REPO, HEAD)
    assert len(runs) == 1 and fake.check_runs == runs  # on the head SHA, not the merge commit
    assert (runs[0]["status"], runs[0]["conclusion"]) == ("completed", "success")
    creates = [r for r in fake.log if r.op == "checks/create"]
    assert creates[0].body["status"] == "in_progress"  # marked before the training started
    comments = fake.comments_on(REPO, 2)
    assert len(comments) == 1 and comments[0]["body"].startswith(marker("overfit-gate"))

    # Second run on the same PR, now failing (2 steps cannot reach the target): the comment is
    # updated in place, never duplicated, and the new check run says failure.
    code, res, out = gate_cli(*ENTRY, "--steps", "2", "--patience", "1", env=env)
    assert code == 1 and res is not None and res["verdict"] == "fail" and TOKEN not in out, out
    again = fake.comments_on(REPO, 2)
    assert len(again) == 1 and again[0]["id"] == comments[0]["id"] and "overfit-gate: fail" in again[0]["body"]
    assert sum(r.op == "issues/update-comment" for r in fake.log) == 1
    assert [r["conclusion"] for r in fake.runs_for(REPO, HEAD)] == ["success", "failure"]


def test_fork_pull_request_run_writes_nothing_and_exits_with_the_verdict(
    fake: FakeGitHub, tmp_path: Path, gate_cli: Gate
) -> None:
    env = actions_env(fake, tmp_path, event(fork=True))
    code, res, out = gate_cli(*ENTRY, "--steps", "2", "--patience", "1", env=env)
    assert res is not None and code == {"pass": 0, "fail": 1}[res["verdict"]], out
    assert fake.writes() == [] and TOKEN not in out
    assert out.count("notice: not publishing to GitHub") == 1
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text().strip()
    assert (tmp_path / "report" / "github-context.json").is_file()  # for the trusted publish job


def test_publish_switch(fake: FakeGitHub, tmp_path: Path) -> None:
    """`--no-publish` (publish = false) keeps the run offline; auto publishes only with a token
    and the GitHub environment (the run command wires `cfg.publish` straight into this)."""
    gh = from_environ(actions_env(fake, tmp_path, event()))
    assert publisher(gh, "overfit-gate", publish=False) is None
    assert publisher(gh, "overfit-gate", publish=None) is not None
    assert publisher(from_environ(actions_env(fake, tmp_path, event(), token=None)), "overfit-gate") is None
    said: list[str] = []
    assert publisher(from_environ({}), "overfit-gate", publish=True, say=said.append) is None
    assert said and "missing a token" in said[0]
    assert fake.log == []


def test_a_timed_out_run_concludes_the_check_run_as_timed_out(fake: FakeGitHub, tmp_path: Path, gate_cli: Gate) -> None:
    env = actions_env(fake, tmp_path, event())
    code, res, out = gate_cli(*ENTRY, "--timeout", "0.5", env=env)
    assert code == 3 and res is not None and res["error"]["type"] == "Timeout", out
    assert [(r["status"], r["conclusion"]) for r in fake.check_runs] == [("completed", "timed_out")]
    assert len(fake.comments_on(REPO, 2)) == 1 and TOKEN not in out
