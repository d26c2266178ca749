"""The real CLI: `overfit-gate report` re-renders from result.json alone (no torch, fast
imports), the PNG is a valid image of the promised size, and `run` in GitHub Actions groups
the training log and writes the summary, outputs and annotations."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from gate.report.plot import SIZE_PX, render_png
from tests.conftest import ROOT
from tests.report.test_report import diverged, errored, nan_fail, passing, with_baseline
from tests.report.test_report_actions import parse_outputs

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _cli(
    *args: str, env: dict[str, str] | None = None, pythonpath: str | None = None
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "OVERFIT_GATE_"))}
    full.update(env or {})
    if pythonpath:
        full["PYTHONPATH"] = pythonpath
    return subprocess.run(
        [sys.executable, "-m", "gate", *args], cwd=ROOT, env=full, capture_output=True, text=True, timeout=120
    )


def test_png_is_valid_and_sized_for_a_pr_comment(tmp_path: Path) -> None:
    from PIL import Image

    for i, r in enumerate([passing(), nan_fail(), diverged(), errored(), with_baseline()]):
        path = render_png(r, tmp_path / f"loss{i}.png")
        assert png_size(path) == SIZE_PX == (1000, 525)
        with Image.open(path) as img:
            img.verify()  # a full decode of the chunks: catches a truncated or corrupt file


def test_report_modules_import_neither_torch_nor_matplotlib() -> None:
    code = (
        "import sys, gate.cli, gate.commands.report, gate.report, gate.report.markdown, gate.report.junit, "
        "gate.report.actions, gate.report.plot; "
        "print(sorted(m for m in ('torch', 'matplotlib', 'numpy') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_report_rerenders_everything_without_torch(tmp_path: Path) -> None:
    # A `torch` that cannot be imported, first on the path: any import of it fails the run.
    blocker = tmp_path / "blocker" / "torch"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('torch must not be imported by `overfit-gate report`')\n")
    out = tmp_path / "report"
    nan_fail().write(out)

    proc = _cli("report", "--out", str(out), pythonpath=f"{blocker.parent}{os.pathsep}{ROOT}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "loss.csv", "loss.png", "report.md", "result.json"]
    assert png_size(out / "loss.png") == SIZE_PX
    assert (out / "report.md").read_text().startswith("## ❌ overfit-gate: fail")
    assert "FAIL" in proc.stdout and "wrote loss.csv, loss.png, report.md, junit.xml" in proc.stdout


def test_report_without_result_is_an_error_with_a_hint(tmp_path: Path) -> None:
    proc = _cli("report", "--out", str(tmp_path))
    assert proc.returncode == 3
    assert "no result.json in" in proc.stderr and "hint:" in proc.stderr


@pytest.mark.slow
def test_run_in_actions_groups_log_and_publishes_locally(tmp_path: Path) -> None:
    summary, output, out = tmp_path / "summary.md", tmp_path / "output.txt", tmp_path / "report"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output)}
    proc = _cli("run", "--entrypoint", "tests/tasks/broken.py:diverges", "--steps", "50", "--out", str(out), env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    start, end = lines.index("::group::training log"), lines.index("::endgroup::")
    assert any(line.startswith("overfit-gate harness:") for line in lines[start:end])
    assert any(line.startswith("overfit-gate [") for line in lines[end:])  # the summary is outside the fold
    assert lines[-1].startswith("::error file=tests/tasks/broken.py,title=overfit-gate%3A fail::the loss diverged")
    assert summary.read_text() == (out / "report.md").read_text()
    outputs = parse_outputs(output.read_text())
    assert outputs["verdict"] == "fail" and outputs["report-dir"] == str(out)
    assert int(outputs["steps"]) < 50 and float(outputs["final-loss"]) > 0
    assert png_size(out / "loss.png") == SIZE_PX


def test_report_redraws_the_png_only_when_it_is_stale(tmp_path: Path) -> None:
    from gate.report import write_reports
    from gate.report.plot import is_current

    result = passing()
    result.write(tmp_path)
    png = tmp_path / "loss.png"
    code = "import sys; from gate.cli import main; main(sys.argv[1:]); print('matplotlib' in sys.modules)"

    def report() -> str:
        proc = subprocess.run(
            [sys.executable, "-c", code, "report", "--out", str(tmp_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip().splitlines()[-1]

    assert report() == "True" and is_current(png, result)  # no PNG yet: drawn
    before = png.stat().st_mtime_ns
    assert report() == "False" and png.stat().st_mtime_ns == before  # current: matplotlib never imported
    changed = result.model_copy(update={"reason": "a different run"})
    changed.write(tmp_path)
    assert not is_current(png, changed)
    assert report() == "True" and is_current(png, changed)  # stale: redrawn
    png.write_bytes(b"not a png")
    write_reports(changed, tmp_path)
    assert png_size(png) == SIZE_PX  # a corrupt file is never mistaken for a current one
