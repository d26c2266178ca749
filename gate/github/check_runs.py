"""Check runs: created ``in_progress`` when the gate starts, completed with its verdict.

A check run (not a commit status) is what branch protection lists as a required check and
what shows the report inline; annotations point at the entry point for failing checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from gate.github.client import GitHubClient
from gate.harness.contract import ErrorKind
from gate.report.locate import check_location, source_file
from gate.result import Result

MAX_ANNOTATIONS = 50  # per request, GitHub's limit; the rest go in follow-up PATCHes
MAX_TEXT = 65535
TITLE_CHARS = 255


@dataclass(frozen=True)
class CheckRun:
    id: int
    html_url: str | None


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def conclusion(result: Result, details_url: str | None = None) -> str:
    """pass -> success, fail -> failure; an error that was a cancel or timeout says so.

    not applicable -> ``action_required`` (a person must pick what to gate), which GitHub only
    accepts with a ``details_url``; without one, ``failure``. Never ``neutral``/``skipped``:
    branch protection counts those as passing, and not applicable is never a pass."""
    if result.verdict == "pass":
        return "success"
    if result.verdict == "not_applicable":
        return "action_required" if details_url else "failure"
    if result.verdict == "error" and result.error is not None:
        return {ErrorKind.CANCELLED: "cancelled", ErrorKind.TIMEOUT: "timed_out"}.get(result.error.type, "failure")
    return "failure"


def title(result: Result) -> str:
    text = f"{result.verdict}: {result.reason}".strip()
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"


def truncate(text: str, limit: int = MAX_TEXT) -> str:
    note = "\n\n… (truncated; the full report is in the job's artifact)"
    return text if len(text) <= limit else text[: limit - len(note)] + note


def build_annotations(result: Result) -> list[dict[str, Any]]:
    """One annotation per failing (failure) or warning (warning) check that can be placed in a file."""
    fallback = source_file(result)
    out: list[dict[str, Any]] = []
    for check in result.checks:
        if check.status not in ("fail", "warn"):
            continue
        path, line = check_location(check, fallback)
        if path is None:
            continue
        line = line or 1
        message = check.message + (f"\nhint: {check.hint}" if check.hint else "")
        out.append(
            {
                "path": path.removeprefix("./"),
                "start_line": line,
                "end_line": line,
                "annotation_level": "failure" if check.status == "fail" else "warning",
                "title": f"overfit-gate: {check.name}"[:TITLE_CHARS],
                "message": message[:60000],
            }
        )
    return out


def create(client: GitHubClient, repo: str, name: str, head_sha: str, details_url: str | None) -> CheckRun:
    body: dict[str, Any] = {
        "name": name,
        "head_sha": head_sha,
        "status": "in_progress",
        "started_at": now(),
        "output": {"title": "running", "summary": "The overfit gate is running."},
    }
    if details_url:
        body["details_url"] = details_url
    data = client.post(f"/repos/{repo}/check-runs", body)
    return CheckRun(id=int(data["id"]), html_url=data.get("html_url"))


def complete(
    client: GitHubClient,
    repo: str,
    check_run_id: int,
    result: Result,
    summary: str,
    details_url: str | None = None,
    text: str | None = None,
) -> None:
    """Complete the run; annotations beyond the first 50 are appended by follow-up updates.
    ``text``: the run's machine-readable summary, which later runs compare with (gate.baseline)."""
    notes = build_annotations(result)
    output: dict[str, Any] = {"title": title(result), "summary": truncate(summary)}
    if text:
        output["text"] = truncate(text)
    body: dict[str, Any] = {
        "status": "completed",
        "conclusion": conclusion(result, details_url),
        "completed_at": now(),
        "output": {**output, "annotations": notes[:MAX_ANNOTATIONS]},
    }
    if details_url:
        body["details_url"] = details_url
    path = f"/repos/{repo}/check-runs/{check_run_id}"
    client.patch(path, body)
    for start in range(MAX_ANNOTATIONS, len(notes), MAX_ANNOTATIONS):
        # Each update appends its annotations to those already on the run.
        client.patch(path, {"output": {**output, "annotations": notes[start : start + MAX_ANNOTATIONS]}})
