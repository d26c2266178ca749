"""The real-code suite: each case in cases.py, clean or with its one-line bug, gated
through the real CLI in a fresh copy of its folder; the verdict and the failing check
must be the ones the case names."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.real.cases import CASES, Case, materialise

pytestmark = [pytest.mark.real, pytest.mark.slow]


def gate(case: Case, tmp_path: Path) -> tuple[int, dict, str, float]:
    work = materialise(case, tmp_path)
    out = tmp_path / f"{case.id}-report"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "OVERFIT_GATE_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    t0 = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(
        [sys.executable, "-m", "gate", "run", "--out", str(out), "--", *case.command()],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    result = json.loads((out / "result.json").read_text())
    # Shown with -rA: what the suite costs in CI (CPU seconds do not depend on other load).
    print(
        f"{case.id}: {result['verdict']} in {result.get('steps')} steps, {time.perf_counter() - t0:.1f}s wall, {cpu:.1f}s cpu"
    )
    return proc.returncode, result, proc.stdout + proc.stderr, cpu


@pytest.mark.timeout(900)  # a shared CI machine can be slow; a healthy case takes ~10-30 s of CPU
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_real_code_case(case: Case, tmp_path: Path) -> None:
    code, result, output, _ = gate(case, tmp_path)
    failing = [c["name"] for c in result.get("checks", []) if c["status"] == "fail"]
    summary = f"{result['verdict']}: {result['reason']} (failing checks: {failing})\n{output[-3000:]}"
    assert result["verdict"] == case.verdict, summary
    assert code == {"pass": 0, "fail": 1}[case.verdict], summary
    if case.failing is not None:
        assert case.failing in failing, summary
    if case.verdict == "pass":
        assert failing == [], summary
