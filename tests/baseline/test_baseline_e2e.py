"""End to end: the real gate (`overfit-gate run` in a subprocess) on a healthy base commit and
on a pull request, publishing to the fake GitHub server (requests validated against GitHub's
OpenAPI description). The PR's pipeline has a silent slowdown (a learning rate typed in the
wrong unit: it still overfits, just several times slower); the comparison must show it with
both numbers in the comment and the check run, overlay both curves in loss.png, apply
`on-regression`, and say "no change" for the same PR without the slowdown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fakegithub import TOKEN, FakeGitHub
from fakegithub.actions import actions_env, event, serving

from gate.baseline.summary import decode
from gate.cli import main as cli
from gate.report.plot import BASE_RUN, _text_chunks

REPO = "Codertocat/Hello-World"
PR = event()["pull_request"]
HEAD, BASE, BRANCH = PR["head"]["sha"], PR["base"]["sha"], PR["base"]["ref"]
Gate = Callable[..., tuple[int, "dict[str, Any] | None", str]]

TASK = """
import torch
from torch import nn
from torch.nn import functional as F

LR = {lr}


def make_task():
    x = torch.randn(32, 20)
    y = torch.randint(0, 5, (32,))
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 5))
    return {{
        "model": model,
        "batch": (x, y),
        "loss": lambda m, b: F.cross_entropy(m(b[0]), b[1]),
        "optimizer": lambda params: torch.optim.Adam(params, lr=LR),
    }}
"""
HEALTHY, SLOW = "3e-3", "7.5e-4"  # the slowdown: the rate divided by 4 (a batch-size scaling rule gone wrong)


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with serving() as gh:
        gh.add_pull(event())
        gh.add_commits(REPO, [BASE])
        yield gh


def project(tmp_path: Path, name: str, lr: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "task.py").write_text(TASK.format(lr=lr))
    return folder


def gate_run(gate_cli: Gate, tmp_path: Path, folder: Path, env: dict[str, str], *extra: str) -> tuple[int, Any, str]:
    out = tmp_path / f"{folder.name}-report{len(list(tmp_path.glob('*-report*')))}"
    # The projects live in tmp folders outside a checkout: their own config is the one to use
    # (config-source: base, the default on PRs, reads the base commit's file; docs/security.md).
    args = ["--working-directory", str(folder), "--entrypoint", "task.py:make_task", "--config-source", "head"]
    code, res, text = gate_cli("run", *args, *extra, env=env, out=out, timeout=600)
    assert TOKEN not in text
    return code, (res, out), text


def base_color_pixels(png: Path) -> int:
    import matplotlib.image

    img = matplotlib.image.imread(str(png))[..., :3]
    want = [int(BASE_RUN[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    close = (
        (abs(img[..., 0] - want[0]) < 0.04) & (abs(img[..., 1] - want[1]) < 0.04) & (abs(img[..., 2] - want[2]) < 0.04)
    )
    return int(close.sum())


@pytest.mark.slow
@pytest.mark.timeout(900)  # three real gate runs; minutes only on a loaded machine
def test_a_pr_that_converges_much_slower_than_main_is_shown_and_judged(
    fake: FakeGitHub, tmp_path: Path, gate_cli: Gate
) -> None:
    # main: the gate runs on the push of the base commit and leaves its summary in the check run.
    push_env = actions_env(fake, tmp_path, event("push.json"), event_name="push", sha=BASE)
    code, (base_res, base_out), text = gate_run(gate_cli, tmp_path, project(tmp_path, "main", HEALTHY), push_env)
    assert code == 0 and base_res["verdict"] == "pass" and base_res.get("baseline") is None, text
    (base_run,) = fake.runs_for(REPO, BASE)
    assert decode(base_run["output"]["text"]).target_step == base_res["target_step"]
    assert base_color_pixels(base_out / "loss.png") == 0

    # The PR with the slowdown, default policy (warn): shown everywhere, the verdict stands.
    pr_env = actions_env(fake, tmp_path, event())
    slow = project(tmp_path, "pr-slow", SLOW)
    code, (res, out), text = gate_run(gate_cli, tmp_path, slow, pr_env)
    assert code == 0 and res["verdict"] == "pass", text
    block = res["baseline"]
    assert block["status"] == "regression" and block["sha"] == BASE and block["label"] == BRANCH
    head_steps, base_steps = res["target_step"], base_res["target_step"]
    assert head_steps >= 3 * base_steps  # the scenario: at least 3x slower
    sentence = f"reaches the target in {head_steps} steps, {head_steps / base_steps:.1f}× {BRANCH}'s {base_steps}"
    assert sentence in block["message"] and sentence in text  # the terminal summary too
    (pr_run,) = fake.runs_for(REPO, HEAD)
    (comment,) = fake.comments_on(REPO, 2)
    row = f"| Steps to target | {head_steps} ({head_steps / base_steps:.1f}×) | {base_steps} |"
    for body in (pr_run["output"]["summary"], comment["body"]):
        assert sentence in body and row in body and "reported only: `on-regression: warn`" in body
        assert body.count("line [") == 2  # the Mermaid chart's second line
    assert pr_run["conclusion"] == "success"
    # loss.png overlays the base curve, dashed, labelled with the base SHA.
    assert base_color_pixels(out / "loss.png") > 300
    assert f"dashed: {BRANCH} @ {BASE[:7]}" in _text_chunks(out / "loss.png")["Description"]

    # With `on-regression: fail` the gate fails, and says why (published again from the same
    # report folder, so no second training: `publish` re-compares with the base on GitHub).
    fail_env = {**pr_env, "INPUT_ON-REGRESSION": "fail"}
    assert cli(["publish", "--out", str(out)], fail_env) == 1
    assert fake.runs_for(REPO, HEAD)[-1]["conclusion"] == "failure"
    assert fake.runs_for(REPO, HEAD)[-1]["output"]["title"].startswith("fail: ")
    assert "it fails the gate" in fake.comments_on(REPO, 2)[0]["body"]

    # The same PR without the slowdown: no change.
    code, (res, out), text = gate_run(gate_cli, tmp_path, project(tmp_path, "pr-fine", HEALTHY), pr_env)
    assert code == 0 and res["baseline"]["status"] == "no_change", text
    (comment,) = fake.comments_on(REPO, 2)
    assert f"No change against {BRANCH}: reaches the target in {base_steps} steps, 1.0×" in comment["body"]
    assert fake.runs_for(REPO, HEAD)[-1]["conclusion"] == "success"


def test_no_baseline_is_said_and_changes_nothing(fake: FakeGitHub, tmp_path: Path, gate_cli: Gate) -> None:
    pr_env = actions_env(fake, tmp_path, event())
    code, (res, _), text = gate_run(
        gate_cli, tmp_path, project(tmp_path, "pr", HEALTHY), pr_env, "--on-regression", "fail"
    )
    assert code == 0 and res["verdict"] == "pass", text
    assert res["baseline"]["status"] == "skipped"
    assert f"no `overfit-gate` check run on {BRANCH}'s commit {BASE[:7]}" in res["baseline"]["message"]
    assert "Baseline skipped" in fake.comments_on(REPO, 2)[0]["body"]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_run_with_a_local_baseline_folder(tmp_path: Path, gate_cli: Gate) -> None:
    code, (_, base_out), _ = gate_run(gate_cli, tmp_path, project(tmp_path, "main", HEALTHY), {})
    assert code == 0
    slow = project(tmp_path, "pr", SLOW)
    code, (res, out), text = gate_run(
        gate_cli, tmp_path, slow, {}, "--baseline", str(base_out), "--on-regression", "fail"
    )
    assert code == 1 and res["verdict"] == "fail", text
    assert res["baseline"]["status"] == "regression" and res["baseline"]["source"] == "folder"
    assert "the base run's" in res["baseline"]["message"] and base_color_pixels(out / "loss.png") > 300
    # An unreadable base is skipped, and `fail` then changes nothing.
    fine = project(tmp_path, "fine", HEALTHY)
    code, (res, _), _ = gate_run(
        gate_cli, tmp_path, fine, {}, "--baseline", str(tmp_path / "nowhere"), "--on-regression", "fail"
    )
    assert code == 0 and res["baseline"]["status"] == "skipped" and "no result.json" in res["baseline"]["message"]
