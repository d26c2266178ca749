"""GitHub Actions integration that needs no token: the job summary, step outputs, and
``::error``/``::warning`` annotations (workflow commands on stdout).

Formats: https://docs.github.com/actions/reference/workflow-commands-for-github-actions"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path

from gate.report.limits import cap_outputs
from gate.report.locate import check_location, source_file
from gate.result import Result


def in_actions(env: Mapping[str, str]) -> bool:
    return env.get("GITHUB_ACTIONS") == "true"


def escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **props: str | int | None) -> str:
    """One workflow command line, e.g. ``::error file=a.py,title=x::message``."""
    given = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items() if v not in (None, ""))
    return f"::{name}{' ' + given if given else ''}::{escape_data(message)}"


def one_line(text: str) -> str:
    """Untrusted text (a reason, a gate name, a check message) for a log line: one line, so it
    can never start a workflow command. The runner reads ``::cmd::`` and ``##[cmd]`` only at
    the start of a line, and splits lines on CR and LF."""
    return text.replace("\r\n", "\n").replace("\r", "\\r").replace("\n", "\\n")


class TrainingLog:
    """The log sink for the code under test. In Actions its lines are folded in a group and
    streamed between ``::stop-commands::<token>`` and ``::<token>::``, with a token drawn after
    the code was written and never shown to it, so no line it prints (``::add-mask::``,
    ``::set-output``, ``::stop-commands::``) is read as a workflow command. A line that arrives
    after the block closed (a straggling child still holding the pipe) is prefixed instead."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.actions = in_actions(env)
        self.open = False
        self._token = secrets.token_hex(16)

    def __enter__(self) -> TrainingLog:
        if self.actions:
            print("::group::training log", flush=True)
            print(f"::stop-commands::{self._token}", flush=True)
        self.open = True
        return self

    def __call__(self, line: str) -> None:
        if self.actions and not self.open:
            line = "overfit-gate: late training log line: " + one_line(line)
        print(line, flush=True)

    def __exit__(self, *exc: object) -> None:
        self.open = False
        if self.actions:
            print(f"::{self._token}::", flush=True)
            print("::endgroup::", flush=True)


def output_lines(name: str, value: str) -> str:
    """A ``$GITHUB_OUTPUT`` entry; the heredoc form when the value could break the line form."""
    if "\n" not in value and "\r" not in value:
        return f"{name}={value}\n"
    delimiter = f"ghadelimiter_{secrets.token_hex(8)}"
    while delimiter in value:  # vanishingly unlikely, but the value must not end the block
        delimiter = f"ghadelimiter_{secrets.token_hex(8)}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def report_dir(out_dir: Path, env: Mapping[str, str]) -> str:
    """The report folder as the next step can use it: relative to the workspace when inside
    it (a container action sees /github/workspace, but upload-artifact runs on the host)."""
    workspace = env.get("GITHUB_WORKSPACE")
    if workspace:
        try:
            return out_dir.resolve().relative_to(Path(workspace).resolve()).as_posix()
        except ValueError:
            pass
    return str(out_dir)


def outputs(result: Result, out_dir: Path, env: Mapping[str, str]) -> dict[str, str]:
    return cap_outputs(
        {
            "verdict": result.verdict,
            "reason": result.reason,
            "final-loss": "" if result.final_loss is None else repr(result.final_loss),
            "steps": str(result.steps),
            "report-dir": report_dir(out_dir, env),
        }
    )


def annotation_lines(result: Result, env: Mapping[str, str]) -> list[str]:
    file = source_file(result, env.get("GITHUB_WORKSPACE"))
    lines = []
    for c in result.checks:
        if c.status not in ("fail", "warn"):
            continue
        message = c.message + (f"\nhint: {c.hint}" if c.hint else "")
        path, line = check_location(c, file)
        lines.append(
            command(
                "error" if c.status == "fail" else "warning",
                message,
                file=path,
                line=line,
                title=f"overfit-gate: {c.name}",
            )
        )
    block = result.baseline
    if block is not None and block.status == "regression" and block.overrode is None:
        # Reported only (on-regression: warn): a warning where the Actions UI lists them.
        lines.append(command("warning", block.message, title="overfit-gate: compared with the base branch"))
    # A fail or error that no check explains still deserves one annotation.
    if result.verdict != "pass" and not result.failed_checks:
        lines.append(command("error", result.reason, file=file, title=f"overfit-gate: {result.verdict}"))
    return lines


def emit(result: Result, out_dir: Path, env: Mapping[str, str]) -> None:
    """Write the summary, outputs and annotations when running in GitHub Actions."""
    if not in_actions(env):
        return
    summary = env.get("GITHUB_STEP_SUMMARY")
    if summary:
        from gate.report.markdown import render_markdown

        # Rendered from the validated result, never read back from report.md: `publish` may
        # run on a folder an untrusted job produced, and its report.md could say anything.
        text = render_markdown(result)
        with open(summary, "a", encoding="utf-8") as f:
            f.write(text if text.endswith("\n") else text + "\n")
    output = env.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a", encoding="utf-8") as f:
            for name, value in outputs(result, out_dir, env).items():
                f.write(output_lines(name, value))
    for line in annotation_lines(result, env):
        print(line, flush=True)
