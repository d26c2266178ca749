"""The checked-out files cannot decide where or how the code under test runs, nor loosen their
own gate; the report folder stays in the workspace (docs/security.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gate.config import KEYS, Config, resolve, resolve_with_changes, trust
from gate.errors import ConfigError
from gate.workspace import confine

# A value a PR might set for each key that must come from the workflow.
HOSTILE: dict[str, Any] = {
    "runner": '"docker"',
    "image": '"ghcr.io/evil/image"',
    "dockerfile": '"Dockerfile"',
    "network": "true",
    "gpus": '"device=all"',
    "out": '"/github/file_commands"',
    "timeout": "1e9",
    "name": '"deploy"',
    "publish": "false",
    "python": '"/bin/sh"',
    "config_source": '"head"',
}


def pyproject(folder: Path, body: str) -> None:
    (folder / "pyproject.toml").write_text(f"[project]\nname='x'\n\n[tool.overfit-gate]\n{body}\n")


def test_the_registry_declares_the_workflow_only_keys() -> None:
    workflow = {k for k in KEYS if trust(k) == "workflow"}
    assert set(HOSTILE) <= workflow
    assert {k for k in KEYS if k.startswith("kubernetes_")} <= workflow  # every runner's keys
    assert {k for k in KEYS if trust(k) == "code"} == {"entrypoint", "command", "working_directory"}


def test_security_doc_lists_exactly_the_workflow_only_keys() -> None:
    from tests.conftest import ROOT

    text = (ROOT / "docs" / "security.md").read_text()
    section = text.split("### Keys that only the workflow may set", 1)[1].split("If one of them", 1)[0]
    listed = {k.strip("`,. \n") for k in section.split("only:", 1)[1].split("and every", 1)[0].split()}
    workflow = {k.replace("_", "-") for k in KEYS if trust(k) == "workflow"}
    assert listed == {k for k in workflow if not k.startswith("kubernetes-")}
    assert "and every `kubernetes-*` key" in section


@pytest.mark.parametrize("key", sorted(k for k in KEYS if trust(k) == "workflow"))
def test_a_workflow_key_in_the_checked_out_file_is_exit_2_naming_it(tmp_path: Path, key: str) -> None:
    value = HOSTILE.get(key, '"x"')
    pyproject(tmp_path, f"{key.replace('_', '-')} = {value}")
    with pytest.raises(ConfigError) as info:
        resolve({}, {}, tmp_path)
    kebab = key.replace("_", "-")
    assert info.value.exit_code == 2
    assert f"`{kebab}` cannot be set in" in info.value.message and f"input `{kebab}`" in info.value.hint
    (tmp_path / "gate.toml").write_text(f"{kebab} = {value}\n")  # an explicit config file too
    with pytest.raises(ConfigError, match=f"`{kebab}` cannot be set"):
        resolve({}, {}, tmp_path, "gate.toml")


def test_workflow_keys_still_come_from_flags_env_and_inputs(tmp_path: Path) -> None:
    pyproject(tmp_path, "steps = 100")
    env = {"INPUT_NETWORK": "true", "OVERFIT_GATE_TIMEOUT": "60", "INPUT_GPUS": "device=1"}
    cfg = resolve({"runner": "docker"}, env, tmp_path)
    assert (cfg.runner, cfg.network, cfg.timeout, cfg.gpus, cfg.steps) == ("docker", True, 60.0, "device=1", 100)


@pytest.mark.parametrize("value", ["device=all", "2", "all", "device=0,1", "device=", "1 ", "-1", "device=0;1"])
def test_gpus_allows_one_gpu_only(tmp_path: Path, value: str) -> None:
    if value == "1 ":
        assert resolve({}, {"INPUT_GPUS": value}, tmp_path).gpus == "1"  # only trimmed
        return
    with pytest.raises(ConfigError, match="`gpus`"):
        resolve({"gpus": value}, {}, tmp_path)


@pytest.mark.parametrize("value", ["0", "1", "none", "device=3", "device=GPU-8f3c2a1e-0d4b-4c1e-9a4f-2b7d6e5c1a90"])
def test_gpus_accepted(tmp_path: Path, value: str) -> None:
    assert resolve({"gpus": value}, {}, tmp_path).gpus == value


# ---- config-source: base ------------------------------------------------------------------


def base_of(text: str | None) -> Any:
    return lambda path: text


def test_on_a_pull_request_the_base_commit_decides_the_verdict_keys(tmp_path: Path) -> None:
    pyproject(
        tmp_path,
        'entrypoint = "new/task.py:make"\nsteps = 5\ntarget-loss = 1e9\nskip-checks = ["causality"]\nseed = 3',
    )
    base = "[tool.overfit-gate]\nentrypoint = 'old.py:make'\nsteps = 300\nseed = 3\n"
    cfg, changes = resolve_with_changes({}, {}, tmp_path, base=base_of(base))
    assert cfg.steps == 300 and cfg.target_loss is None and cfg.skip_checks == [] and cfg.seed == 3
    assert cfg.entrypoint == "new/task.py:make"  # what to run is the PR's own code anyway
    assert changes == [
        '`skip-checks`: unset → ["causality"]',
        "`steps`: 300 → 5",
        "`target-loss`: unset → 1000000000.0",
    ]
    # The workflow still wins over both files, and `config-source: head` opts out.
    assert resolve({"steps": 7}, {}, tmp_path, base=base_of(base)).steps == 7
    head, none = resolve_with_changes({}, {"INPUT_CONFIG-SOURCE": "head"}, tmp_path, base=base_of(base))
    assert head.steps == 5 and head.target_loss == 1e9 and none == []


def test_a_pr_that_adds_the_config_runs_with_the_defaults_and_says_so(tmp_path: Path) -> None:
    pyproject(tmp_path, 'entrypoint = "t.py:make"\nfail-on-warn = false\npatience = 1')
    cfg, changes = resolve_with_changes({}, {}, tmp_path, base=base_of(None))
    assert cfg.patience == Config.model_fields["patience"].default and cfg.entrypoint == "t.py:make"
    assert changes == ["`fail-on-warn`: unset → false", "`patience`: unset → 1"]


def test_a_broken_or_outdated_base_file_does_not_block_the_pr_that_fixes_it(tmp_path: Path) -> None:
    pyproject(tmp_path, "steps = 50")
    cfg, changes = resolve_with_changes({}, {}, tmp_path, base=base_of("[tool.overfit-gate\n"))
    assert cfg.steps == 500 and "not valid TOML" in changes[0]
    old = "[tool.overfit-gate]\nsteps = 40\nremoved-key = 1\nnetwork = true\ntimeout = 5\n"
    cfg, changes = resolve_with_changes({}, {}, tmp_path, base=base_of(old))
    assert cfg.steps == 40 and not cfg.network and cfg.timeout == 900.0  # never a workflow key from a file
    assert changes == ["`steps`: 40 → 50"]


# ---- out stays in the workspace ------------------------------------------------------------


def test_out_is_confined_to_the_workspace(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "sub").mkdir(parents=True)
    env = {"GITHUB_WORKSPACE": str(ws)}
    assert confine("overfit-gate-report", env, ws) == ws / "overfit-gate-report"
    assert confine(str(ws / "r"), env, ws) == ws / "r"
    for bad, why in [
        ("/github/file_commands", "inside the workspace"),
        (str(tmp_path / "elsewhere"), "inside the workspace"),
        ("../escape", "climb out"),
        (".", "the workspace itself"),
        (".git/hooks", ".git"),
    ]:
        with pytest.raises(ConfigError, match=why) as info:
            confine(bad, env, ws)
        assert info.value.exit_code == 2


def test_out_never_passes_through_a_symlink_the_checkout_planted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, target = tmp_path / "ws", tmp_path / "file_commands"
    ws.mkdir()
    target.mkdir()
    (ws / "overfit-gate-report").symlink_to(target)  # committed by the PR
    (ws / "inner").symlink_to(ws / ".git", target_is_directory=True)
    monkeypatch.chdir(ws)  # outside Actions the workspace is the current directory
    for env in ({"GITHUB_WORKSPACE": str(ws)}, {}):
        for out in ("overfit-gate-report", "overfit-gate-report/x", "inner/hooks"):
            with pytest.raises(ConfigError, match="symlink"):
                confine(out, env)


def test_outside_actions_an_absolute_out_is_the_operators_choice(tmp_path: Path) -> None:
    assert confine(str(tmp_path / "reports"), {}) == tmp_path / "reports"


# ---- the base file from the local history ---------------------------------------------------


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@e"
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_base_file_comes_from_git_history_and_replace_refs_cannot_swap_it(tmp_path: Path) -> None:
    from gate.baseconfig import reader

    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    pyproject(repo, "steps = 300")
    _git(repo, "add", "pyproject.toml")
    _git(repo, "commit", "-qm", "base")
    base = _git(repo, "rev-parse", "HEAD")
    original = _git(repo, "rev-parse", "HEAD:pyproject.toml")
    pyproject(repo, "steps = 2")
    _git(repo, "commit", "-qam", "head: loosen")
    # An earlier job on a non-ephemeral runner plants a replace ref for the base's blob.
    planted = _git(repo, "rev-parse", "HEAD:pyproject.toml")
    _git(repo, "replace", original, planted)
    event = tmp_path / "event.json"
    payload = {"pull_request": {"number": 1, "head": {"sha": "f" * 40}, "base": {"sha": base}}}
    event.write_text(__import__("json").dumps(payload))
    env = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event), "GITHUB_WORKSPACE": str(repo)}
    read = reader(env)
    assert read is not None and reader({**env, "GITHUB_EVENT_NAME": "push"}) is None
    assert "steps = 300" in (read(repo / "pyproject.toml") or "")
    assert read(repo / "missing.toml") is None  # the base commit has no such file
    cfg, changes = resolve_with_changes({}, {}, repo, base=read)
    assert cfg.steps == 300 and changes == ["`steps`: 300 → 2"]
