"""Check runs: created ``in_progress`` when the gate starts, completed with its verdict.

A check run (not a commit status) is what branch protection lists as a required check and
what shows the report inline; annotations point at the entry point for failing checks.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from gate.github.client import GitHubAPIError, GitHubClient
from gate.harness.contract import ErrorKind
from gate.report.limits import ANNOTATION_BYTES, clip_bytes
from gate.report.locate import check_location, source_file
from gate.result import Result

# GitHub's per-request limit, and our cap in total: a fork's artifact with 20,000 failing
# checks must not become 400 PATCHes. Every check is still listed in the summary.
MAX_ANNOTATIONS = 50
MAX_TEXT = 65535
TITLE_CHARS = 255
MINIMAL_SUMMARY = "The full report could not be attached; it is in the job's summary and artifact."


@dataclass(frozen=True)
class CheckRun:
    id: int
    html_url: str | None


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_external_id() -> str:
    """Tags a check run we create, so a POST whose answer was lost can be found, not repeated."""
    return f"overfit-gate-{secrets.token_hex(8)}"


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
        if len(out) == MAX_ANNOTATIONS:
            break
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
                "message": clip_bytes(message, ANNOTATION_BYTES),
            }
        )
    return out


def _run_from(data: Any, what: str) -> CheckRun:
    if not isinstance(data, dict) or not isinstance(data.get("id"), int) or isinstance(data.get("id"), bool):
        raise GitHubAPIError(
            f"GitHub's answer to {what} carries no check run id",
            "a proxy in the way, or a GitHub incident; re-run the job",
        )
    url = data.get("html_url")
    return CheckRun(id=data["id"], html_url=url if isinstance(url, str) else None)


def find(client: GitHubClient, repo: str, head_sha: str, name: str, external_id: str) -> CheckRun | None:
    """The check run an earlier, unanswered POST created, if it did."""
    listing = client.get(
        f"/repos/{repo}/commits/{head_sha}/check-runs", params={"check_name": name, "filter": "all", "per_page": 100}
    )
    for run in (listing or {}).get("check_runs") or []:
        if isinstance(run, dict) and run.get("external_id") == external_id:
            return _run_from(run, "the check-run listing")
    return None


def _post(client: GitHubClient, repo: str, body: dict[str, Any]) -> CheckRun:
    body = {**body, "external_id": new_external_id()}

    def lookup() -> dict[str, Any] | None:
        run = find(client, repo, body["head_sha"], body["name"], body["external_id"])
        return None if run is None else {"id": run.id, "html_url": run.html_url}

    return _run_from(client.post(f"/repos/{repo}/check-runs", body, lookup=lookup), f"POST /repos/{repo}/check-runs")


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
    return _post(client, repo, body)


def final_body(
    result: Result, summary: str, details_url: str | None, minimal: bool = False, text: str | None = None
) -> dict[str, Any]:
    """The fields that complete a run: all of them, or (``minimal``, the retry after GitHub
    refused the full one) only the conclusion, the title and a short summary."""
    output: dict[str, Any] = {"title": title(result), "summary": MINIMAL_SUMMARY if minimal else truncate(summary)}
    if not minimal:
        output["annotations"] = build_annotations(result)
        if text:  # the baseline summary: lost on the minimal retry, which must not fail again
            output["text"] = truncate(text)
    body: dict[str, Any] = {"status": "completed", "conclusion": conclusion(result, details_url), "completed_at": now()}
    body["output"] = output
    if details_url:  # also on the minimal body: `action_required` needs it
        body["details_url"] = details_url
    return body


def _retry_minimal(exc: GitHubAPIError) -> bool:
    # A token that may not write, or a bad token, fails the minimal request just the same.
    return not exc.read_only and exc.status not in (401, 403, 404)


def complete(
    client: GitHubClient,
    repo: str,
    check_run_id: int,
    result: Result,
    summary: str,
    details_url: str | None = None,
    text: str | None = None,
) -> None:
    """Complete the run in one PATCH (at most 50 annotations); if GitHub refuses it (422 on an
    annotation, 5xx after retries), complete it with a minimal PATCH: never leave it in_progress.
    ``text``: the run's machine-readable summary, which later runs compare with (gate.baseline)."""
    path = f"/repos/{repo}/check-runs/{check_run_id}"
    try:
        client.patch(path, final_body(result, summary, details_url, text=text))
    except GitHubAPIError as exc:
        if not _retry_minimal(exc):
            raise
        client.extend(10)  # the full request may have spent the budget; this one must go out
        client.patch(path, final_body(result, summary, details_url, minimal=True))


def create_completed(
    client: GitHubClient,
    repo: str,
    name: str,
    head_sha: str,
    result: Result,
    summary: str,
    details_url: str | None,
    minimal: bool = False,
    text: str | None = None,
) -> CheckRun:
    """``publish`` after the fact: one POST that creates the run already completed (a run that
    never sits in_progress cannot be left there); minimal on a second try, like ``complete``."""
    base: dict[str, Any] = {"name": name, "head_sha": head_sha, "started_at": now()}
    try:
        return _post(client, repo, {**base, **final_body(result, summary, details_url, minimal, text)})
    except GitHubAPIError as exc:
        if not _retry_minimal(exc):
            raise
        client.extend(10)
        return _post(client, repo, {**base, **final_body(result, summary, details_url, minimal=True)})
