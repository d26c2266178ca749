"""Root must not follow links planted in the report folder (issue 12 Medium 9): the training
code (or the docker runner's container, running as the workspace owner) shares the folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gate import outdir
from gate.action import _give_back
from gate.report import write_reports
from gate.result import Result
from gate.runners.docker import _user

Gate = Callable[..., tuple[int, "dict[str, Any] | None", str]]
NAMES = ("result.json", "loss.csv", "loss.png", "report.md", "junit.xml", "spec.json")
ORIGINAL = "root:x:0:0:precious\n"


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "victim"
    victim.write_text(ORIGINAL)
    return victim


def _result() -> Result:
    return Result.model_validate({"verdict": "fail", "reason": "no", "losses": [2.0, 1.0]})


def test_reports_replace_planted_links_instead_of_writing_through_them(tmp_path: Path) -> None:
    victim, out = _victim(tmp_path), tmp_path / "out"
    out.mkdir()
    for name in NAMES:
        (out / name).symlink_to(victim)
    _result().write(out)
    write_reports(_result(), out)
    outdir.write_text(out / "spec.json", "{}")
    assert victim.read_text() == ORIGINAL
    for name in NAMES:
        assert (out / name).is_file() and not (out / name).is_symlink(), name


def test_a_directory_in_place_of_a_report_is_refused_and_the_rest_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    (out / "report.md").mkdir(parents=True)
    written = write_reports(_result(), out)
    assert "report.md" not in [p.name for p in written] and (out / "junit.xml").is_file()
    assert "is a directory" in capsys.readouterr().err


def test_a_report_folder_swapped_for_a_link_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out").symlink_to(elsewhere)
    with pytest.raises(OSError):
        _result().write(tmp_path / "out")
    assert list(elsewhere.iterdir()) == []


def test_the_harness_replaces_planted_links_too(tmp_path: Path) -> None:
    from gate.harness import output

    victim, out = _victim(tmp_path), tmp_path / "out"
    out.mkdir()
    for name in ("result.json", "result.json.tmp", "loss.csv"):
        (out / name).symlink_to(victim)
    output.write(out, {"verdict": "fail", "reason": "x", "losses": [1.0]})
    assert victim.read_text() == ORIGINAL and not (out / "result.json").is_symlink()


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_handing_the_folder_to_the_workspace_owner_never_chowns_through_a_link(tmp_path: Path) -> None:
    victim = _victim(tmp_path)
    workspace, out = tmp_path / "ws", tmp_path / "ws" / "out"
    (out / "sub").mkdir(parents=True)
    os.chown(workspace, 4321, 4321)
    (out / "link").symlink_to(victim)
    (out / "sub" / "link").symlink_to(victim)
    _user(workspace, out)  # the docker runner, before the container starts
    _give_back(out, str(workspace))  # the action entry, after the run
    assert os.stat(victim).st_uid == 0
    assert os.stat(out / "sub").st_uid == 4321 and os.lstat(out / "sub" / "link").st_uid == 4321


def test_links_planted_by_the_training_code_are_not_followed(tmp_path: Path, gate_cli: Gate) -> None:
    victim = _victim(tmp_path)
    task = tmp_path / "plant.py"
    names = (*NAMES, "result.json.tmp")
    task.write_text(
        "import os, sys\n"
        "def make_task():\n"
        "    out = os.path.dirname(sys.argv[sys.argv.index('--spec') + 1])\n"
        f"    for name in {names!r}:\n"
        "        path = os.path.join(out, name)\n"
        "        if os.path.lexists(path): os.unlink(path)\n"
        f"        os.symlink({str(victim)!r}, path)\n"
        "    raise RuntimeError('planted')\n"
    )
    code, res, out = gate_cli("run", "--entrypoint", f"{task}:make_task")
    assert code == 3 and res is not None and "planted" in res["reason"], out
    assert victim.read_text() == ORIGINAL
