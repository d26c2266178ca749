"""The pytest plugin, run the way users run it: a separate pytest process (pytester) in a
throwaway project, with the plugin loaded from its ``pytest11`` entry point."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

pytest_plugins = ["pytester"]

TASKS = """
import torch
from torch.nn import functional as F

def _task(lr):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(16, 6, generator=g), torch.randint(0, 3, (16,), generator=g)
    model = torch.nn.Sequential(torch.nn.Linear(6, 32), torch.nn.ReLU(), torch.nn.Linear(32, 3))
    return {
        "model": model,
        "batch": (x, y),
        "loss": lambda m, b: F.cross_entropy(m(b[0]), b[1]),
        "optimizer": lambda params: torch.optim.Adam(params, lr=lr),
    }

def make_task():
    return _task(0.03)

def make_frozen_task():  # lr 0: nothing learns, the gate must say so
    return _task(0.0)
"""

SCRIPT = """
import sys
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
x, y = torch.randn(64, 6), torch.randint(0, 3, (64,))
loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
model = torch.nn.Sequential(torch.nn.Linear(6, 32), torch.nn.ReLU(), torch.nn.Linear(32, 3))
opt = torch.optim.Adam(model.parameters(), lr=0.03)
for epoch in range(100):
    for xb, yb in loader:
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        (-loss if "--negate" in sys.argv else loss).backward()
        opt.step()
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(tasks=TASKS, train=SCRIPT)
    return pytester


@pytest.mark.slow
def test_clean_task_passes_and_broken_task_fails_with_the_gates_message(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_gate="""
        from tasks import make_task, make_frozen_task

        def test_clean(overfit_gate):
            result = overfit_gate.check(make_task, steps=200)
            assert result.verdict == "pass" and result.steps < 200

        def test_broken(overfit_gate):
            overfit_gate.check("tasks.py:make_frozen_task", steps=60, patience=40)
        """
    )
    junit = project.path / "junit.xml"
    res = project.runpytest_subprocess(f"--junitxml={junit}")
    res.assert_outcomes(passed=1, failed=1)
    out = res.stdout.str()
    # The CLI's own verdict block, with the reason and the failing check's hint.
    assert "overfit-gate [overfit-gate]: FAIL" in out
    assert "OverfitGateFailure" in out
    assert "hint:" in out
    case = next(c for c in ET.parse(junit).getroot().iter("testcase") if c.get("name") == "test_broken")
    failure = case.find("failure")
    assert failure is not None and "FAIL" in (failure.get("message") or "")
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["overfit_gate_verdict"] == "fail"
    assert props["overfit_gate_reason"] and props["overfit_gate_reason"] in (failure.get("message") or "")


@pytest.mark.slow
def test_report_folder_per_test_and_unknown_key(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_gate="""
        import pytest
        from tasks import make_task

        def test_twice(overfit_gate):
            overfit_gate.check(make_task, steps=200)
            overfit_gate.check(make_task, steps=200, seed=1)

        def test_typo(overfit_gate):
            overfit_gate.check(make_task, stepz=10)

        def test_closure(overfit_gate):
            with pytest.raises(TypeError, match="module-level function"):
                overfit_gate.check(lambda: None)
        """
    )
    out_root = project.path / "reports"
    res = project.runpytest_subprocess(f"--overfit-gate-out={out_root}")
    res.assert_outcomes(passed=2, failed=1)
    res.stdout.fnmatch_lines(["*unknown config key `stepz`*", "*did you mean `steps`*"])
    folders = sorted(p.name for p in out_root.iterdir())
    assert folders == ["test_gate.py_test_twice", "test_gate.py_test_twice-2"]
    for name in folders:
        assert {"result.json", "loss.png", "report.md", "junit.xml", "loss.csv"} <= {
            p.name for p in (out_root / name).iterdir()
        }


def test_collecting_never_imports_torch_or_pydantic(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plain="""
        import sys

        def test_nothing_heavy_loaded():
            assert "torch" not in sys.modules
            assert "pydantic" not in sys.modules
        """
    )
    res = pytester.runpytest_subprocess("-p", "overfit-gate")  # loaded explicitly too: no double registration
    res.assert_outcomes(passed=1)


@pytest.mark.slow
def test_script_marker_runs_the_gate_before_the_body(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_scripts="""
        import pytest

        @pytest.mark.overfit_gate_script("python train.py", steps=200)
        def test_clean(overfit_gate_result):
            assert overfit_gate_result.mode == "script"
            assert overfit_gate_result.pinning

        @pytest.mark.overfit_gate_script("python train.py --negate", steps=200)
        def test_negated():
            raise AssertionError("the body must not run when the gate fails")
        """
    )
    res = project.runpytest_subprocess()
    res.assert_outcomes(passed=1, errors=1)  # the gate fails in the fixture set-up
    out = res.stdout.str()
    assert "the body must not run" not in out
    assert "FAIL" in out


@pytest.mark.slow
def test_works_under_xdist(project: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    project.makepyfile(
        test_gate="""
        from tasks import make_task, make_frozen_task

        def test_clean(overfit_gate):
            overfit_gate.check(make_task, steps=200)

        def test_broken(overfit_gate):
            overfit_gate.check(make_frozen_task, steps=60, patience=40)
        """
    )
    out_root = project.path / "reports"
    res = project.runpytest_subprocess("-n", "2", f"--overfit-gate-out={out_root}")
    res.assert_outcomes(passed=1, failed=1)
    verdicts = {p.name: (p / "result.json").read_text() for p in out_root.iterdir()}
    assert len(verdicts) == 2
    assert any('"verdict": "fail"' in v for v in verdicts.values())
