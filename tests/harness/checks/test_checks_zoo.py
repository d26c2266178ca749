"""End to end through the real CLI: one bug per check must fail (exit 1) on the right check
with a hint that names the culprit; every healthy twin must pass (exit 0) with no failing
check. The runs go two at a time; the other zoo bugs run in-process in test_checks.py
(each CLI run pays a torch import, a few seconds of CPU)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from gate.result import Result
from tests.conftest import ROOT

# The whole bug zoo through the CLI: minutes on a small machine.
pytestmark = pytest.mark.slow

# zoo file -> (failing check, fragment its message/hint must contain)
BUGS: dict[str, tuple[str, str]] = {
    "bug_nonfinite": ("finite", "log of a softmax or sigmoid"),
    "bug_maximize": ("loss_direction", "maximize=True"),
    "bug_unused_layer": ("gradient_flow", "`extra` are never called"),
    "bug_lr_zero": ("parameters_update", "lr=0"),
    "bug_batch_view": ("batch_independence", "between `proj` (Linear) and `head` (Linear)"),
    "bug_no_causal_mask": ("causality", "`attn` (MultiheadAttention)"),
    "bug_self_labels": ("input_dependence", "model's own output"),
}
CLEAN = [
    "clean_mlp",
    "clean_cnn_bn",
    "clean_causal_lm",
    "clean_lstm",
    "clean_frozen_backbone",
    "clean_seq_pool",
    "clean_autoencoder",
]
# A warning-only bug: passes by default, fails with --fail-on-warn.
WARN_ONLY = "bug_init_scale"
RUNS: list[tuple[str, tuple[str, ...]]] = [(name, ()) for name in [*BUGS, *CLEAN, WARN_ONLY]] + [
    (WARN_ONLY, ("--fail-on-warn",))
]


def _run(name: str, extra: tuple[str, ...], out: Path) -> tuple[int, dict[str, Any] | None, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "OVERFIT_GATE_"))}
    env["OMP_NUM_THREADS"] = "1"  # two runs at a time share two cores
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gate",
            "run",
            "--entrypoint",
            f"tests/zoo/{name}.py:make_task",
            "--steps",
            "300",
            "--device",
            "cpu",
            "--out",
            str(out),
            *extra,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    path = out / "result.json"
    return proc.returncode, json.loads(path.read_text()) if path.is_file() else None, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def zoo(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[tuple[str, tuple[str, ...]], tuple[int, dict[str, Any] | None, str]]:
    base = tmp_path_factory.mktemp("zoo")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {key: pool.submit(_run, key[0], key[1], base / f"{key[0]}{''.join(key[1])}") for key in RUNS}
        return {key: f.result() for key, f in futures.items()}


def _checks(result: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for c in result["checks"]:
        out.setdefault(c["name"], []).append(c)
    return out


@pytest.mark.parametrize("name", list(BUGS))
def test_bug_fails_on_its_check(zoo: Any, name: str) -> None:
    code, result, output = zoo[(name, ())]
    check, fragment = BUGS[name]
    assert code == 1, output
    assert result is not None
    r = Result.model_validate(result)
    assert r.verdict == "fail"
    failing = {c.name for c in r.failed_checks}
    assert check in failing, (failing, r.reason)
    bad = next(c for c in r.failed_checks if c.name == check)
    assert fragment in bad.message + " " + bad.hint, (bad.message, bad.hint)
    assert bad.message and bad.hint


@pytest.mark.parametrize("name", CLEAN)
def test_clean_twin_passes(zoo: Any, name: str) -> None:
    code, result, output = zoo[(name, ())]
    assert code == 0, output
    assert result is not None
    r = Result.model_validate(result)
    assert r.verdict == "pass" and not r.failed_checks, [(c.name, c.message) for c in r.failed_checks]
    # Warnings are allowed only where they are the documented behaviour.
    warns = {c.name for c in r.checks if c.status == "warn"}
    assert warns <= ({"parameters_update"} if name == "clean_frozen_backbone" else set()), warns


def test_frozen_backbone_is_a_warning_with_the_fraction(zoo: Any) -> None:
    _, result, _ = zoo[("clean_frozen_backbone", ())]
    assert result is not None
    (warn,) = [c for c in _checks(result)["parameters_update"] if c["status"] == "warn"]
    assert "frozen" in warn["message"] and "`0.0` (Linear)" in warn["message"]
    assert 0.5 < warn["data"]["frozen_fraction"] < 0.9


def test_causal_and_input_checks_ran_on_the_clean_lm(zoo: Any) -> None:
    _, result, _ = zoo[("clean_causal_lm", ())]
    assert result is not None
    checks = _checks(result)
    assert checks["causality"][0]["status"] == "pass"
    curve = checks["input_dependence"][0]["data"]["losses"]
    assert 0 < len(curve) <= 2 * result["steps"]  # bounded by the real run
    assert min(curve) > result["target"]


def test_init_scale_warns_and_fail_on_warn_fails(zoo: Any) -> None:
    code, result, output = zoo[(WARN_ONLY, ())]
    assert code == 0, output
    assert result is not None
    (init,) = _checks(result)["loss_at_init"]
    assert init["status"] == "warn" and "log(4)" in init["message"]
    code, result, output = zoo[(WARN_ONLY, ("--fail-on-warn",))]
    assert code == 1, output
    assert result is not None and "loss_at_init" in result["reason"]
