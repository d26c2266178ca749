"""The Publisher: one result published as a check run (or a commit status when the token may
not use the Checks API) and the sticky PR comment, with graceful degradation.

Exit-code policy (docs/github.md): publishing never changes the exit code of ``run`` (the
verdict's code, always). A token that may not write (fork PR, read-only permissions) is a
normal situation: the writes are skipped with ONE notice and nothing is counted as failed.
Other GitHub failures (bad credentials, repository not found, GitHub down after retries) are
printed as a notice and recorded in ``Publisher.failures``; ``overfit-gate publish``, whose only
job is to publish, exits 3 on them. Building one for a run is gate/github/publish.py's job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from gate.baseline.summary import check_run_text
from gate.github import check_runs, comments, statuses
from gate.github.check_runs import CheckRun
from gate.github.client import GitHubAPIError, GitHubClient
from gate.harness.contract import ErrorKind
from gate.result import ErrorInfo, Result

Say = Callable[[str], None]
# One rendering serves the check-run summary (<= 65535) and the comment (<= 65536 with the marker).
SUMMARY_CHARS = 65400


def print_line(line: str) -> None:
    print(line, flush=True)


@dataclass(frozen=True)
class PublishTarget:
    """Where a result is published: the commit, its PR, the Actions run to link to."""

    repo: str
    sha: str
    pr: int | None
    details_url: str | None


@dataclass
class Publisher:
    client: GitHubClient
    target: PublishTarget
    name: str
    say: Say = print_line
    mode: Literal["checks", "status", "off"] = "checks"
    check_run: CheckRun | None = None
    concluded: bool = False  # the check run (or status) carries a final state
    event: str | None = None  # the tested event, recorded in the check run's summary (gate.baseline.find)
    failures: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def skip(self, why: str) -> None:
        """Stop writing, with one notice however many writes were refused."""
        if not self.notices:
            self.notices.append(why)
            self.say(
                f"overfit-gate: notice: not publishing to GitHub: {why}. The job summary, outputs and "
                "report folder still carry the verdict; see docs/github.md for the fork-safe pattern."
            )
        self.mode = "off"

    def _failed(self, what: str, exc: GitHubAPIError) -> None:
        self.failures.append(f"{what}: {exc.message}")
        self.say(f"overfit-gate: notice: could not {what} on GitHub: {exc.message}")
        if exc.hint:
            self.say(f"  hint: {exc.hint}")
        if exc.status == 401:
            self.mode = "off"  # no later call can succeed with this token

    def _handle(self, what: str, exc: GitHubAPIError) -> None:
        if exc.read_only:
            self.skip(f"the token may not write to {self.target.repo} ({exc.api_message})")
        else:
            self._failed(what, exc)

    def _status(self, result: Result | None) -> None:
        try:
            if result is None:
                statuses.pending(self.client, self.target.repo, self.target.sha, self.name, self.target.details_url)
            else:
                statuses.final(
                    self.client, self.target.repo, self.target.sha, self.name, result, self.target.details_url
                )
        except GitHubAPIError as exc:
            self._handle("set the commit status", exc)

    def _checks_refused(self, exc: GitHubAPIError, result: Result | None) -> None:
        if exc.status == 403 and not exc.read_only:
            # A personal token may not use the Checks API; a status with the same name works
            # for branch protection too.
            self.say(
                f"overfit-gate: notice: check runs are not available to this token ({exc.api_message}); "
                f"using a commit status `{self.name}` instead"
            )
            self.mode = "status"
            self._status(result)
        else:
            self._handle("create the check run", exc)

    def start(self) -> None:
        """Mark the commit as being checked (in_progress check run, or pending status)."""
        if self.mode == "checks":
            try:
                self.check_run = check_runs.create(
                    self.client, self.target.repo, self.name, self.target.sha, self.target.details_url
                )
            except GitHubAPIError as exc:
                self._checks_refused(exc, None)
        elif self.mode == "status":
            self._status(None)

    def _conclude(self, result: Result, summary: str) -> None:
        """Complete the in_progress run, or (``publish``) create it completed in one POST."""
        try:
            if self.check_run is None:
                self.check_run = check_runs.create_completed(
                    self.client,
                    self.target.repo,
                    self.name,
                    self.target.sha,
                    result,
                    summary,
                    self.target.details_url,
                    text=check_run_text(result, self.event),
                )
            else:
                check_runs.complete(
                    self.client,
                    self.target.repo,
                    self.check_run.id,
                    result,
                    summary,
                    self.target.details_url,
                    text=check_run_text(result, self.event),
                )
            self.concluded = True
        except GitHubAPIError as exc:
            self._checks_refused(exc, result)

    def finish(self, result: Result, summary: str) -> None:
        """Conclude the check run (or status) and upsert the sticky comment."""
        if self.mode == "checks":
            self._conclude(result, summary)
        elif self.mode == "status":
            self._status(result)
            self.concluded = True
        if self.mode != "off" and self.target.pr is not None:
            try:
                url = comments.upsert(self.client, self.target.repo, self.target.pr, self.name, summary)
                self.say(f"overfit-gate: PR comment {url}")
            except GitHubAPIError as exc:
                self._handle("update the PR comment", exc)
        if self.check_run is not None and self.check_run.html_url and self.mode == "checks":
            self.say(f"overfit-gate: check run {self.check_run.html_url}")

    def finish_safely(self, result: Result, out_dir: Path | None) -> None:
        """`run`'s end: publishing trouble is never the pipeline's fault, so it never raises."""
        try:
            self.finish(result, render_summary(result))
        except Exception as exc:  # a bug or an odd answer must not hide the verdict
            self.failures.append(f"publish: {type(exc).__name__}")
            self.say(
                f"overfit-gate: notice: publishing to GitHub failed unexpectedly ({type(exc).__name__}: "
                f"{self.client.scrub(str(exc))}); the verdict stands"
            )
            self.rescue(result)

    def rescue(self, result: Result, cancelled: bool = False, seconds: float = 5.0) -> None:
        """The last word when publishing was cut short (a crash, a cancel): one minimal request,
        within ``seconds``, so the check run is never left in_progress. Never raises."""
        if self.mode != "checks" or self.concluded:
            return
        if cancelled:
            result = result.model_copy(
                update={"verdict": "error", "error": ErrorInfo(type=ErrorKind.CANCELLED, message="")}
            )
        body = check_runs.final_body(result, "", None, minimal=True)
        self.client.extend(seconds)
        try:
            if self.check_run is None:
                self.check_run = check_runs.create_completed(
                    self.client, self.target.repo, self.name, self.target.sha, result, "", None, minimal=True
                )
            else:
                self.client.patch(f"/repos/{self.target.repo}/check-runs/{self.check_run.id}", body)
            self.concluded = True
        except Exception as exc:
            self.failures.append(f"conclude: {type(exc).__name__}")
            self.say(f"overfit-gate: notice: could not conclude the check run ({type(exc).__name__})")


def render_summary(result: Result, max_chars: int = SUMMARY_CHARS) -> str:
    """The Markdown report, sized for the check-run summary and the comment."""
    from gate.report.markdown import render_markdown  # imported when publishing, not with the client

    return render_markdown(result, max_chars=max_chars)
