"""GitHub Actions output without a token: $GITHUB_STEP_SUMMARY, $GITHUB_OUTPUT and the
::error/::warning annotations get exactly what they should."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gate.report import write_reports
from gate.report.actions import command, emit, escape_property, output_lines
from gate.result import CheckResult, Result
from tests.report.test_report import errored, nan_fail, passing

HEREDOC = re.compile(r"^(?P<name>[\w-]+)<<(?P<d>ghadelimiter_[0-9a-f]{16})\n(?P<value>.*?)\n(?P=d)\n", re.S | re.M)


def parse_outputs(text: str) -> dict[str, str]:
    """Read $GITHUB_OUTPUT the way the runner does (both the line and the heredoc form)."""
    out: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        m = HEREDOC.match(text, pos)
        if m:
            out[m["name"]] = m["value"]
            pos = m.end()
            continue
        line, _, _ = text[pos:].partition("\n")
        name, sep, value = line.partition("=")
        assert sep, f"malformed output line {line!r}"
        out[name] = value
        pos += len(line) + 1
    return out


def actions_env(tmp_path: Path) -> dict[str, str]:
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    summary.write_text("earlier step\n")
    output.write_text("other=1\n")
    return {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output)}


def test_emit_in_actions_writes_summary_outputs_annotations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = nan_fail()
    out_dir = tmp_path / "report"
    write_reports(r, out_dir)
    env = actions_env(tmp_path)
    emit(r, out_dir, env)

    report = (out_dir / "report.md").read_text()
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text() == "earlier step\n" + report  # appended, not replaced
    outputs = parse_outputs(Path(env["GITHUB_OUTPUT"]).read_text())
    assert outputs == {
        "other": "1",
        "verdict": "fail",
        "reason": r.reason,
        "final-loss": "",
        "steps": "80",
        "report-dir": str(out_dir),
    }
    assert capsys.readouterr().out.splitlines() == [
        "::error file=examples/mlp_classifier.py,title=overfit-gate%3A label_leak::"
        "the labels are computed from the output%0Ahint: detach nothing; compute labels from the batch"
    ]
    # Inside the workspace (a container action), report-dir is relative to it.
    Path(env["GITHUB_OUTPUT"]).write_text("")
    emit(r, out_dir, env | {"GITHUB_WORKSPACE": str(tmp_path)})
    assert parse_outputs(Path(env["GITHUB_OUTPUT"]).read_text())["report-dir"] == "report"


def test_warnings_and_multiline_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = passing(reason="line one\nline two: 100% sure", config={"working_directory": "sub/project"})
    out_dir = tmp_path / "report"
    env = actions_env(tmp_path)
    emit(r, out_dir, env)
    text = Path(env["GITHUB_OUTPUT"]).read_text()
    assert re.search(r"^reason<<ghadelimiter_[0-9a-f]{16}\nline one\nline two: 100% sure\nghadelimiter_", text, re.M)
    outputs = parse_outputs(text)
    assert outputs["reason"] == "line one\nline two: 100% sure"
    assert outputs["final-loss"] == repr(r.final_loss) and outputs["verdict"] == "pass"
    assert "## ✅ overfit-gate: pass" in Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    # the warning points at the entry point inside the working directory; no annotation for a pass
    assert capsys.readouterr().out.splitlines() == [
        "::warning file=sub/project/examples/mlp_classifier.py,title=overfit-gate%3A batch_mixing::"
        "output row 0 depends on input row 3 | odd%0Ahint: look at the `view` in <Model.forward>"
    ]


def test_error_without_checks_gets_one_annotation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = errored()
    r.entrypoint = None
    emit(r, tmp_path, actions_env(tmp_path))
    assert capsys.readouterr().out == (
        "::error title=overfit-gate%3A error::the pipeline raised ValueError: shape mismatch in my_loss\n"
    )


def test_check_data_can_point_at_a_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = passing(checks=[CheckResult(name="x", status="fail", message="m", data={"file": "model.py", "line": 42})])
    r.verdict = "fail"
    emit(r, tmp_path, actions_env(tmp_path))
    assert capsys.readouterr().out == "::error file=model.py,line=42,title=overfit-gate%3A x::m\n"


def test_outside_actions_nothing_happens(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = actions_env(tmp_path)
    env["GITHUB_ACTIONS"] = "false"
    emit(nan_fail(), tmp_path, env)
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text() == "earlier step\n"
    assert Path(env["GITHUB_OUTPUT"]).read_text() == "other=1\n"
    assert capsys.readouterr().out == ""


def test_escaping_rules() -> None:
    assert (
        command("warning", "50% done\r\nnext", title="a:b,c%") == "::warning title=a%3Ab%2Cc%25::50%25 done%0D%0Anext"
    )
    assert escape_property("x\ny") == "x%0Ay"
    assert output_lines("steps", "12") == "steps=12\n"
    block = output_lines("reason", "a\nb")
    name, _, rest = block.partition("<<")
    delim = rest.split("\n", 1)[0]
    assert name == "reason" and block == f"reason<<{delim}\na\nb\n{delim}\n"


def test_summary_is_rendered_from_the_result_not_a_forged_report(tmp_path: Path) -> None:
    """`publish` may get the folder from an untrusted job: its report.md is not trusted."""
    r: Result = nan_fail()
    (tmp_path / "report.md").write_text("## ✅ overfit-gate: pass\n")
    env = actions_env(tmp_path)
    emit(r, tmp_path, env)
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.startswith("earlier step\n## ❌ overfit-gate: fail\n") and "✅ overfit-gate: pass" not in summary


def test_annotations_point_at_the_repository_path_in_both_channels() -> None:
    from gate.github.check_runs import build_annotations
    from gate.report.locate import check_location, source_file
    from gate.result import CheckResult

    sub = passing(config={"working_directory": "sub/project"})
    assert source_file(sub) == "sub/project/examples/mlp_classifier.py"
    script = passing(entrypoint=None, command=["python", "train.py", "--lr", "3e-4"], config={})
    assert source_file(script) == "train.py"
    assert source_file(passing(entrypoint="/ws/proj/t.py:f", config={}), workspace="/ws") == "proj/t.py"
    own = CheckResult(name="x", status="fail", message="m", data={"file": "model.py", "line": 12})
    assert check_location(own, "fallback.py") == ("model.py", 12)
    # Check-run annotations and workflow-command annotations name the same file.
    failing = sub.model_copy(update={"checks": [CheckResult(name="x", status="fail", message="m")]})
    assert [a["path"] for a in build_annotations(failing)] == ["sub/project/examples/mlp_classifier.py"]


def test_outputs_and_annotations_stay_within_githubs_byte_limits(tmp_path: Path) -> None:
    """1 MB for a job's outputs, 64 KB for an annotation message: counted in bytes, and text
    from the training code may be 4 bytes a character."""
    from gate.github.check_runs import build_annotations
    from gate.report.actions import emit

    huge = "\U0001f525" * 500_000  # 2 MB of emoji
    result = Result.model_validate(
        {
            "verdict": "fail",
            "reason": huge,
            "checks": [{"name": "finite", "status": "fail", "message": huge, "data": {"line": 1}}],
            "entrypoint": "train.py:make_task",
        }
    )
    env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(tmp_path / "out.txt")}
    emit(result, tmp_path, env)
    assert (tmp_path / "out.txt").stat().st_size < 1024 * 1024
    (note,) = build_annotations(result)
    assert len(note["message"].encode()) <= 64 * 1024
