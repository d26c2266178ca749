"""What the training code can reach and leave behind with the local runner (issue 12 Medium 5
and 8, Low): no credential, not the gate's environment, no orphan after any ending, a cancel
that still reports, no forged pass, the real signal named."""

from __future__ import annotations

import json
import os
import pwd
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

Gate = Callable[..., tuple[int, "dict[str, Any] | None", str]]
TASKS = ROOT / "tests" / "tasks"
SECRET = "ghs_sEcReTvAlUe0123456789abcdefABCDEF"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def _spawner(tmp_path: Path, then: str) -> Path:
    """A task module that, on import, starts a setsid child and a double-forked daemon (re-parented
    away from the harness at once), records their pids, then ``then`` (its make_task body)."""
    marker = tmp_path / "pids"
    task = tmp_path / "spawner.py"
    task.write_text(
        "import os, subprocess, sys, time\n"
        f"sys.path.insert(0, {str(TASKS)!r})\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], start_new_session=True)\n"
        "r, w = os.pipe()\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        os.write(w, str(os.getpid()).encode()); os.close(w)\n"
        "        time.sleep(600); os._exit(0)\n"
        "    os._exit(0)\n"
        "os.wait(); os.close(w)\n"
        "daemon = int(os.read(r, 32))\n"
        f"open({str(marker)!r}, 'w').write(f'{{child.pid}} {{daemon}}')\n"
        "def make_task():\n" + "".join(f"    {line}\n" for line in then.splitlines())
    )
    return task


def _pids(tmp_path: Path) -> list[int]:
    return [int(p) for p in (tmp_path / "pids").read_text().split()]


def test_children_the_training_code_started_die_after_a_normal_exit(tmp_path: Path, gate_cli: Gate) -> None:
    task = _spawner(tmp_path, "from broken import lr_zero\nreturn lr_zero()")
    code, res, out = gate_cli("run", "--entrypoint", f"{task}:make_task", "--steps", "20", "--patience", "5")
    assert code == 1 and res is not None and res["verdict"] == "fail", out
    pids = _pids(tmp_path)
    time.sleep(0.3)
    assert [p for p in pids if _alive(p)] == []


@pytest.mark.slow  # waits out a real timeout (about 25 s)
def test_children_the_training_code_started_die_after_a_timeout(tmp_path: Path, gate_cli: Gate) -> None:
    task = _spawner(tmp_path, "time.sleep(600)")
    code, res, out = gate_cli("run", "--entrypoint", f"{task}:make_task", "--timeout", "25")
    assert code == 3 and res is not None and res["error"]["type"] == "Timeout", out
    time.sleep(0.3)
    assert [p for p in _pids(tmp_path) if _alive(p)] == []


def _gate(tmp_path: Path, *argv: str, env: dict[str, str] | None = None, **kw: Any) -> subprocess.Popen[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "OVERFIT_GATE_"))}
    full.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "gate", "run", *argv],
        cwd=ROOT,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kw,
    )


def _wait_for(path: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


def test_sigint_is_a_cancel_with_a_result_and_outputs_and_no_survivor(tmp_path: Path) -> None:
    """GitHub cancels with SIGINT first: the gate stops the harness, reports, and exits 3."""
    task = _spawner(tmp_path, "time.sleep(600)")
    out = tmp_path / "report"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(tmp_path / "output.txt")}
    proc = _gate(tmp_path, "--entrypoint", f"{task}:make_task", "--out", str(out), env=env)
    _wait_for(tmp_path / "pids")
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 3, output
    res = json.loads((out / "result.json").read_text())
    assert res["verdict"] == "error" and res["error"]["type"] == "Cancelled", res
    assert "verdict=error" in (tmp_path / "output.txt").read_text()
    time.sleep(0.3)
    assert [p for p in _pids(tmp_path) if _alive(p)] == []


PROBE = """
import os
def make_task():
    seen = sorted(k for k in os.environ if k.startswith(("ACTIONS_", "GITHUB_TOKEN", "GH_TOKEN")))
    raise RuntimeError(f"env={seen}")
"""


def test_the_training_code_sees_no_credential(tmp_path: Path, gate_cli: Gate) -> None:
    task = tmp_path / "probe.py"
    task.write_text(PROBE)
    env = {
        "GITHUB_TOKEN": SECRET,
        "ACTIONS_RUNTIME_TOKEN": "runtime-token-value-123",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-token-value-456",
        "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.actions.example/oidc",
        "ACTIONS_CACHE_URL": "https://cache.actions.example/",
        "ACTIONS_RESULTS_URL": "https://results.actions.example/",
        "ACTIONS_SOMETHING_NEW": "future-credential-789",
    }
    code, res, out = gate_cli("run", "--entrypoint", f"{task}:make_task", "--no-publish", env=env)
    assert code == 3 and res is not None and "env=[]" in res["reason"], out


READER = """
import os, subprocess, sys
sys.path.insert(0, sys.argv[1])
if sys.argv[2] == "undumpable":
    from gate.runners.tree import make_undumpable
    assert make_undumpable()
child = "import os\\ntry: print(len(open(f'/proc/{os.getppid()}/environ', 'rb').read()))\\nexcept OSError: print('denied')"
subprocess.run([sys.executable, "-c", child])
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0, reason="needs Linux and root to su")
@pytest.mark.parametrize(("mode", "expected"), [("undumpable", "denied"), ("plain", "readable")])
def test_a_non_dumpable_gate_hides_its_environment_from_its_child(mode: str, expected: str) -> None:
    """As an unprivileged user (root reads any /proc file): the gate's helper, run by the system
    Python (stdlib only), makes the process non-dumpable; its child cannot read its environ."""
    python = Path("/usr/bin/python3")
    if not python.exists():
        pytest.skip("no system python3 that an unprivileged user can run")
    for parent in ROOT.parents:
        if not os.stat(parent).st_mode & 0o001:
            pytest.skip(f"{parent} is not searchable by other users")
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp).chmod(0o755)
        reader = Path(tmp) / "reader.py"
        reader.write_text(READER)
        reader.chmod(0o644)
        said = _as_nobody([str(python), str(reader), str(ROOT), mode])
    assert (said if said == "denied" else "readable") == expected


def _as_nobody(argv: list[str]) -> str:
    nobody = pwd.getpwnam("nobody")

    def drop() -> None:
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)

    proc = subprocess.run(
        argv,
        env={"TOKEN": SECRET, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        preexec_fn=drop,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_the_local_runner_makes_the_gate_non_dumpable(tmp_path: Path) -> None:
    """The runner does it before it spawns the harness (checked on this process, as the gate)."""
    import ctypes

    from gate.config import Config
    from gate.runners.base import Job
    from gate.runners.local import LocalRunner
    from gate.runners.tree import PR_SET_DUMPABLE, prctl

    if not sys.platform.startswith("linux"):
        pytest.skip("prctl is Linux's")
    assert prctl(PR_SET_DUMPABLE, 1)
    task = tmp_path / "noop.py"
    task.write_text("def make_task():\n    raise SystemExit(0)\n")
    job = Job(
        spec={"entrypoint": f"{task}:make_task", "out": str(tmp_path / "r")},
        out_dir=tmp_path / "r",
        workdir=tmp_path,
        timeout=120,
        config=Config(),
        env={"PATH": os.environ.get("PATH", "")},
    )
    LocalRunner().run(job, log=lambda line: None)
    libc = ctypes.CDLL(None)
    assert libc.prctl(3, 0, 0, 0, 0) == 0  # PR_GET_DUMPABLE
    prctl(PR_SET_DUMPABLE, 1)


def test_a_leaked_secret_is_masked_in_everything_the_gate_writes(tmp_path: Path, gate_cli: Gate) -> None:
    task = tmp_path / "leak.py"
    task.write_text(f"def make_task():\n    print({SECRET!r})\n    raise RuntimeError('token is {SECRET}')\n")
    env = {
        "GITHUB_TOKEN": SECRET,
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }
    code, res, out = gate_cli("run", "--entrypoint", f"{task}:make_task", "--no-publish", env=env)
    assert code == 3 and res is not None and "***" in res["reason"], out
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "leak.py"]
    assert {p.name for p in written} >= {"result.json", "report.md", "junit.xml", "output.txt", "summary.md"}
    assert [p.name for p in written if SECRET.encode() in p.read_bytes()] == []
    assert SECRET not in out


def test_a_forged_pass_and_os_exit_is_not_a_pass(tmp_path: Path, gate_cli: Gate) -> None:
    task = tmp_path / "forge.py"
    task.write_text(
        "import json, os, sys\n"
        "def make_task():\n"
        "    out = os.path.dirname(sys.argv[sys.argv.index('--spec') + 1])\n"
        "    json.dump({'schema': 1, 'verdict': 'pass', 'reason': 'trust me', 'steps': 500},"
        " open(os.path.join(out, 'result.json'), 'w'))\n"
        "    os._exit(0)\n"
    )
    code, res, out = gate_cli("run", "--entrypoint", f"{task}:make_task")
    assert code == 3 and res is not None and res["verdict"] == "error", out
    assert "nonce" in res["reason"]


def test_a_segfault_is_named_as_such(tmp_path: Path, gate_cli: Gate) -> None:
    task = tmp_path / "segv.py"
    task.write_text("import os, signal\ndef make_task():\n    os.kill(os.getpid(), signal.SIGSEGV)\n")
    code, res, out = gate_cli("run", "--entrypoint", f"{task}:make_task")
    assert code == 3 and res is not None, out
    assert "SIGSEGV" in res["reason"] and "SIGKILL" not in res["reason"] and "out of memory" not in res["reason"]


def test_the_token_flag_is_deprecated_and_a_token_file_works(tmp_path: Path, gate_cli: Gate) -> None:
    entry = ["run", "--entrypoint", "nope/missing.py:make_task", "--no-publish"]
    code, _res, out = gate_cli(*entry, "--github-token", SECRET)
    assert code == 2 and "--github-token is deprecated" in out and SECRET not in out
    token = tmp_path / "token"
    token.write_text(SECRET + "\n")
    code, _res, out = gate_cli(*entry, "--github-token-file", str(token))
    assert code == 2 and "deprecated" not in out and SECRET not in out
