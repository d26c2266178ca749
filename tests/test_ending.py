"""One guarded ending for `run` and `publish` (issue 12 Medium 6, issue 14 item 2): whatever
breaks, the result and the outputs are written, the check run is concluded, the exit code says
whose fault it was. Against the fake GitHub server; `run` in a subprocess as in CI."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fakegithub import TOKEN, FakeGitHub
from fakegithub.actions import actions_env, event, serving

import gate.github.client
from gate import outdir
from gate.cli import main as cli
from gate.ending import Ending
from gate.github.env import from_environ
from gate.github.publish import Publisher, publisher
from gate.result import Result
from tests.conftest import ROOT

REPO = "Codertocat/Hello-World"
HEAD = event()["pull_request"]["head"]["sha"]
BROKEN = "tests/tasks/broken.py"
Gate = Callable[..., tuple[int, "dict[str, Any] | None", str]]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    monkeypatch.setattr(gate.github.client, "_default_sleep", lambda s: None)
    with serving() as gh:
        gh.add_pull(event())
        yield gh


def outputs(env: dict[str, str]) -> dict[str, str]:
    path = Path(env["GITHUB_OUTPUT"])
    lines = path.read_text().splitlines() if path.is_file() else []
    return dict(line.split("=", 1) for line in lines if "=" in line and "<<" not in line)


def fail_result() -> Result:
    return Result.model_validate(
        {
            "verdict": "fail",
            "reason": "the loss did not go down",
            "checks": [{"name": "finite", "status": "fail", "message": "NaN", "data": {"line": 3}}],
            "entrypoint": "examples/mlp_classifier.py:make_task",
        }
    )


# ---- run -----------------------------------------------------------------------------------


def test_usage_error_writes_outputs_and_the_step_summary(tmp_path: Path, gate_cli: Gate) -> None:
    env = {"GITHUB_ACTIONS": "true", **{k: str(tmp_path / f) for k, f in _files().items()}}
    code, res, out = gate_cli("run", "--entrypoint", "nope/missing.py:make_task", env=env)
    assert code == 2, out
    assert res is not None and res["error"]["type"] == "EntrypointError"
    assert outputs(env)["verdict"] == "error"
    assert "not found" in Path(env["GITHUB_STEP_SUMMARY"]).read_text()


def _files() -> dict[str, str]:
    return {"GITHUB_OUTPUT": "output.txt", "GITHUB_STEP_SUMMARY": "summary.md"}


def test_out_that_is_a_file_is_an_error_with_outputs_and_a_concluded_check(
    fake: FakeGitHub, tmp_path: Path, gate_cli: Gate
) -> None:
    env = actions_env(fake, tmp_path, event())
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    code, _res, out = gate_cli(
        "run", "--entrypoint", "examples/mlp_classifier.py:make_task", "--out", str(blocker), env=env
    )
    assert code == 3, out
    assert "Traceback" not in out and "could not write the report folder" in out
    assert outputs(env)["verdict"] == "error"
    assert [(r["status"], r["conclusion"]) for r in fake.runs_for(REPO, HEAD)] == [("completed", "failure")]


def test_undecodable_file_name_in_an_exception_is_an_error_not_a_crash(
    fake: FakeGitHub, tmp_path: Path, gate_cli: Gate
) -> None:
    task = tmp_path / "bad_name.py"
    task.write_text(
        "import os\ndef make_task():\n    raise RuntimeError('cannot read ' + os.fsdecode(b'/data/\\xff\\xfe.bin'))\n"
    )
    env = actions_env(fake, tmp_path, event())
    code, res, out = gate_cli("run", "--entrypoint", f"{task}:make_task", env=env)
    assert code == 3, out
    assert res is not None and res["verdict"] == "error" and "\ufffd" in res["reason"]
    assert outputs(env)["verdict"] == "error"
    assert [(r["status"], r["conclusion"]) for r in fake.runs_for(REPO, HEAD)] == [("completed", "failure")]


def test_malformed_loss_csv_and_result_json_are_errors(tmp_path: Path, gate_cli: Gate) -> None:
    """A harness that leaves junk (NaN, a 5000-digit integer, a broken loss.csv) and dies."""
    out = tmp_path / "report"
    task = tmp_path / "junk.py"
    task.write_text(
        "import os, sys\n"
        "def make_task():\n"
        "    out = sys.argv[sys.argv.index('--spec') + 1].rsplit('/', 1)[0]\n"
        "    open(os.path.join(out, 'loss.csv'), 'w').write('step,loss\\n0,abc\\n1,\\x00\\n\"2')\n"
        '    open(os.path.join(out, \'result.json\'), \'w\').write(\'{"verdict": "pass", "reason": "x", '
        '"final_loss": NaN, "steps": ' + "1" * 5000 + "}')\n"
        "    os._exit(0)\n"
    )
    code, res, output = gate_cli("run", "--entrypoint", f"{task}:make_task", out=out)
    assert code == 3, output
    assert res is not None and res["error"]["type"] == "ResultError" and "not valid JSON" in res["reason"]


def _sigterm_while_publishing(fake: FakeGitHub, tmp_path: Path, sig: int) -> tuple[int, str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}}
    env.update(actions_env(fake, tmp_path, event()))
    fake.delay("checks/update", 30)  # the final PATCH hangs: the job is cancelled meanwhile
    argv = ["run", "--entrypoint", f"{BROKEN}:lr_zero", "--steps", "20", "--patience", "5"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "gate", *argv, "--out", str(tmp_path / "report")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert fake.delaying.wait(120), "the gate never reached the final PATCH"
    proc.send_signal(sig)
    output, _ = proc.communicate(timeout=60)
    return proc.returncode, output


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_cancel_while_publishing_concludes_the_check_run(fake: FakeGitHub, tmp_path: Path, sig: int) -> None:
    started = time.monotonic()
    code, output = _sigterm_while_publishing(fake, tmp_path, sig)
    assert code == 3, output
    assert time.monotonic() - started < 60  # not the 30 s the hanging request would take
    assert [(r["status"], r["conclusion"]) for r in fake.runs_for(REPO, HEAD)] == [("completed", "cancelled")]
    assert json.loads((tmp_path / "report" / "result.json").read_text())["verdict"] == "fail"
    assert TOKEN not in output


# ---- the check run's final request --------------------------------------------------------


def _started(fake: FakeGitHub, tmp_path: Path) -> Publisher:
    pub = publisher(from_environ(actions_env(fake, tmp_path, event())), "overfit-gate", say=lambda s: None)
    assert pub is not None
    pub.start()
    return pub


@pytest.mark.parametrize(("status", "times"), [(422, 1), (502, 5)])
def test_a_refused_final_patch_is_retried_minimal(fake: FakeGitHub, tmp_path: Path, status: int, times: int) -> None:
    pub = _started(fake, tmp_path)
    fake.fail("checks/update", status, "Invalid request.\n\nannotations path", times=times)
    pub.finish_safely(fail_result(), None)
    (run,) = fake.runs_for(REPO, HEAD)
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    final = [r for r in fake.log if r.op == "checks/update"][-1]
    assert final.status == 200 and "annotations" not in final.body["output"]


def test_a_crash_in_the_controller_concludes_the_check_and_exits_3(fake: FakeGitHub, tmp_path: Path) -> None:
    env = actions_env(fake, tmp_path, event())
    ending = Ending(env=env, out_dir=tmp_path / "report", base={"name": "overfit-gate"})
    ending.publisher = _started(fake, tmp_path)

    def body() -> int:
        raise KeyError("a bug")

    assert ending.guard(body) == 3
    res = json.loads((tmp_path / "report" / "result.json").read_text())
    assert res["error"]["type"] == "ControllerError" and "KeyError" in res["reason"]
    assert "Traceback" in res["error"]["traceback"]
    assert outputs(env)["verdict"] == "error"
    assert [(r["status"], r["conclusion"]) for r in fake.runs_for(REPO, HEAD)] == [("completed", "failure")]


def test_a_full_disk_is_an_error_with_outputs(
    fake: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(path: Path, data: bytes, mode: int = 0o644) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outdir, "write_bytes", full)
    env = actions_env(fake, tmp_path, event())
    ending = Ending(env=env, out_dir=tmp_path / "report")
    assert ending.finish(fail_result()) == 3
    assert outputs(env)["verdict"] == "error" and "No space left" in outputs(env)["reason"]


# ---- publish -------------------------------------------------------------------------------

MALFORMED: dict[str, bytes | None] = {
    "nan": b'{"verdict": "pass", "reason": "x", "final_loss": NaN}',
    "huge-int": b'{"verdict": "pass", "reason": "x", "steps": ' + b"9" * 5000 + b"}",
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "not-utf8": b'{"verdict": "pass", "reason": "\xff\xfe"}',
    "too-big": b'{"verdict": "pass", "reason": "' + b"x" * (9 * 2**20) + b'"}',
    "directory": None,
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_publish_of_malformed_input_is_exit_3_in_one_line_with_a_concluded_check(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    out = tmp_path / "report"
    out.mkdir()
    data = MALFORMED[kind]
    if data is None:
        (out / "result.json").mkdir()
    else:
        (out / "result.json").write_bytes(data)
    env = actions_env(fake, tmp_path, event())
    code = cli(["publish", "--out", str(out)], env)
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("overfit-gate: error")]
    assert code == 3 and len(errors) == 1 and "Traceback" not in captured.err, captured.err
    assert outputs(env)["verdict"] == "error"
    runs = fake.runs_for(REPO, HEAD)
    assert [(r["status"], r["conclusion"]) for r in runs] == [("completed", "failure")]
    assert [r.body["status"] for r in fake.log if r.op == "checks/create"] == ["completed"]


@pytest.mark.parametrize(
    ("raw", "status"), [(b"<html><body>Sign in to the proxy</body></html>", 200), (b'{"html_url": "x"}', 201)]
)
def test_publish_survives_odd_answers_from_github(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str], raw: bytes, status: int
) -> None:
    out = tmp_path / "report"
    fail_result().write(out)
    fake.answer("checks/create", status, raw, times=9)
    code = cli(["publish", "--out", str(out)], actions_env(fake, tmp_path, event()))
    captured = capsys.readouterr()
    assert code == 3 and "Traceback" not in captured.out + captured.err
    assert "not JSON" in captured.out or "no check run id" in captured.out
