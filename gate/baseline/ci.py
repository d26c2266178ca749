"""Where ``run`` and ``publish`` get their base: a folder (``baseline = "DIR"``), or on pull
requests the gate's result on the base commit, read from GitHub.

``run`` reads the event and starts the GitHub lookup *before* the training starts, in a
background thread: the lookup costs no wall time, and nothing the pipeline under test does
afterwards (it runs as the same user) can change which base it is compared with. ``publish``
(the trusted half for fork PRs) takes the base commit from GitHub's own answer for the PR,
never from the downloaded folder, and its thresholds from its own job, never from the folder.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gate.baseline.attach import OFF, against, apply, from_folder, guarded, policy_of, resolve_folder, restore, skipped
from gate.baseline.find import Found, Missing, find
from gate.baseline.model import BaselineBlock, Policy
from gate.baseline.summary import from_result
from gate.errors import GateError
from gate.result import Result, load_result

WAIT_S = 120.0  # the most `run` waits for a lookup still going once training is done


def from_found(head: Result, got: Found, policy: Policy, label: str) -> BaselineBlock:
    return against(
        head, got.summary, policy, source="github", label=label, sha=got.sha, distance=got.distance, url=got.url
    )


class Pending:
    """The base side, being fetched; ``apply(result)`` compares (or says why not) and never raises."""

    def __init__(self, policy: Policy, build: Any = None) -> None:
        self.policy = policy
        self._build = build  # Result -> BaselineBlock | None, run after the training
        self._found: Found | Missing | None = None
        self._thread: threading.Thread | None = None
        self.label = "base"

    def fetch(self, client: Any, repo: str, sha: str, name: str, label: str) -> Pending:
        self.label = label

        def _go() -> None:
            try:
                self._found = find(client, repo, sha, name, label)
            except Missing as exc:
                self._found = exc
            except Exception as exc:  # never let the thread die silently
                self._found = Missing(f"the lookup failed unexpectedly ({type(exc).__name__}: {exc})")

        self._thread = threading.Thread(target=_go, name="overfit-gate-baseline", daemon=True)
        self._thread.start()
        self._build = self._from_github
        return self

    def _from_github(self, head: Result) -> BaselineBlock:
        assert self._thread is not None
        self._thread.join(WAIT_S)
        got = self._found
        if got is None:
            return skipped(f"GitHub did not answer within {WAIT_S:.0f} s", self.policy, "github", self.label)
        if isinstance(got, Missing):
            return skipped(str(got), self.policy, "github", self.label)
        return from_found(head, got, self.policy, self.label)

    def apply(self, result: Result) -> Result:
        if self._build is None:
            return result
        build = self._build
        return apply(result, guarded(lambda: build(result), self.policy))


def for_run(cfg: Any, env: Mapping[str, str], cli_token: str | None) -> Pending:
    """What ``run`` compares with: nothing (``off``, not a PR), a folder, or the PR's base on GitHub."""
    policy = policy_of(cfg)
    pending = Pending(policy)
    try:
        if cfg.baseline == OFF:
            return pending
        if cfg.baseline:
            return _folder(pending, resolve_folder(cfg.baseline), resolve_folder(cfg.out))
        return _github(pending, cfg.name, env, cli_token)
    except Exception as exc:
        why = f"the comparison could not start ({type(exc).__name__}: {exc}); the verdict stands"
        pending._build = lambda head: skipped(why, policy)
        return pending


def _folder(pending: Pending, folder: Path, out: Path) -> Pending:
    policy = pending.policy
    if folder == out:
        why = f"the base folder {folder} is this run's own report folder (--out); give the base run another one"
        pending._build = lambda head: skipped(why, policy, "folder")
        return pending
    try:  # read it now, before the pipeline runs: it cannot touch what it is compared with
        base = from_result(load_result(folder))
    except GateError as exc:
        message = f"cannot read the base report folder: {exc.message}"
        pending._build = lambda head: skipped(message, policy, "folder")
        return pending
    pending._build = lambda head: against(head, base, policy, source="folder")
    return pending


def _github(pending: Pending, name: str, env: Mapping[str, str], cli_token: str | None) -> Pending:
    from gate.github.env import PR_EVENTS, from_environ

    gh = from_environ(env, cli_token)
    base_sha, label = gh.event.base_sha, gh.event.base_ref or "the base branch"
    if gh.event_name not in PR_EVENTS or not base_sha:
        return pending  # a push, a manual run: nothing to compare with
    why = ""
    if gh.read_only:
        why = "a fork PR's run; the trusted `publish` job compares it with the base branch"
    elif not gh.token or not gh.repository:
        why = "no GitHub token to read the base branch's results (pass `github-token`)"
    if why:
        pending._build = lambda head: skipped(why, pending.policy, "github", label)
        return pending
    from gate.github.publish import make_client

    assert gh.repository is not None  # checked above
    return pending.fetch(make_client(gh), gh.repository, base_sha, name, label)


def _pull_base(result: Result, client: Any, repo: str, pr: int, name: str, policy: Policy) -> BaselineBlock:
    """Compare with the PR's base commit as GitHub states it (trusted), never as the folder says."""
    from gate.github.client import GitHubAPIError

    try:
        pull = client.get(f"/repos/{repo}/pulls/{pr}") or {}
    except GitHubAPIError as exc:
        return skipped(f"could not read PR #{pr} from GitHub: {exc.message}", policy, "github")
    base = pull.get("base") or {}
    sha, label = base.get("sha"), base.get("ref") or "the base branch"
    if not isinstance(sha, str) or not sha:
        return skipped(f"GitHub did not say PR #{pr}'s base commit", policy, "github")
    try:
        got = find(client, repo, sha, name, label)
    except Missing as exc:
        return skipped(str(exc), policy, "github", label)
    return from_found(result, got, policy, label)


def for_publish_command(result: Result, cfg: Any, name: str, client: Any, repo: str | None, pr: int | None) -> Result:
    """``publish``'s comparison, by its own config: ``off``, a folder, or the PR's base on GitHub
    (without a client, or outside a PR, the folder's own block stands)."""
    policy = policy_of(cfg)
    if cfg.baseline == OFF:
        return apply(result, None)
    if not cfg.baseline and (client is None or repo is None or pr is None):
        return result
    restore(result)  # compare the run's own verdict, not one a previous comparison overrode
    if cfg.baseline:
        folder = resolve_folder(cfg.baseline)
        return apply(result, guarded(lambda: from_folder(result, folder, policy), policy))
    assert repo is not None and pr is not None
    return apply(result, guarded(lambda: _pull_base(result, client, repo, pr, name, policy), policy))
