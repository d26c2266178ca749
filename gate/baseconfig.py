"""The config file as it was in a pull request's base commit (``config-source: base``).

A PR that edits ``[tool.overfit-gate]`` (``skip-checks``, ``target-loss``, ``steps``) must not
pass its own gate by loosening it. On ``pull_request`` events the verdict keys therefore come
from the base commit, and the head's changes are listed in the report for reviewers. The base
file is read from the local history when the checkout has it (``fetch-depth: 0``), else through
the contents API with the job's token (``contents: read``); when neither can tell, the run stops
with exit 2 rather than silently falling back to the PR's own file.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

from gate.config import BaseReader
from gate.errors import ConfigError
from gate.github.env import PR_EVENTS, GitHubEnv, from_environ

# The checkout may carry a .git planted by an earlier job on a non-ephemeral runner: no replace
# refs (they could map the base commit's blob to another one), no system/global config, no
# prompts; `cat-file` runs no hooks, filters or textconv.
_GIT_ENV = {"GIT_NO_REPLACE_OBJECTS": "1", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
_GIT_ENV |= {"GIT_TERMINAL_PROMPT": "0"}


class _Unknown(Exception):
    """This source cannot tell what the base commit holds."""


def reader(env: Mapping[str, str], cli_token: str | None = None) -> BaseReader | None:
    """A reader for pull_request events that name their base commit; None otherwise (a push,
    a manual run, a local run: the checked-out commit is the one to trust)."""
    gh = from_environ(env, cli_token)
    if gh.event_name not in PR_EVENTS or not gh.event.base_sha:
        return None
    sha = gh.event.base_sha
    workspace = Path(env.get("GITHUB_WORKSPACE") or os.getcwd())

    def read(path: Path) -> str | None:
        try:
            return _from_git(path, sha)
        except _Unknown:
            pass
        try:
            return _from_api(gh, path, sha, workspace)
        except _Unknown as exc:
            raise ConfigError(
                f"cannot read the gate's config as of the pull request's base commit {sha[:12]}: {exc}",
                hint="check out with `fetch-depth: 0`, or give the job a token with `contents: read`; "
                "or set `config-source: head` to use the PR's own config (docs/security.md)",
            ) from None

    return read


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    git = shutil.which("git")
    if git is None:
        raise _Unknown("git is not installed")
    # safe.directory: the gate may run as root over a checkout owned by the runner's user.
    argv = [git, "-c", f"safe.directory={cwd}", "-c", "core.fsmonitor=false", *args]
    try:
        return subprocess.run(argv, cwd=cwd, env={**os.environ, **_GIT_ENV}, capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise _Unknown(f"git failed: {exc}") from None


def _from_git(path: Path, sha: str) -> str | None:
    folder = path.parent if path.parent.is_dir() else Path.cwd()
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise _Unknown("not a git checkout")
    root = Path(top.stdout.decode().strip())
    if _git(root, "cat-file", "-e", f"{sha}^{{commit}}").returncode != 0:
        raise _Unknown("the base commit is not in the local history")
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise _Unknown(f"{path} is outside the repository") from None
    blob = _git(root, "cat-file", "blob", f"{sha}:{rel}")
    if blob.returncode != 0:
        return None  # the commit is there and has no such file
    return blob.stdout.decode("utf-8", "replace")


def _from_api(gh: GitHubEnv, path: Path, sha: str, workspace: Path) -> str | None:
    from gate.github.client import GitHubAPIError
    from gate.github.publish import make_client

    repo = gh.event.base_repo or gh.repository
    if not gh.token or not repo:
        raise _Unknown("the base commit is not in the local history and there is no token to ask GitHub")
    try:
        rel = path.resolve().relative_to(workspace.resolve()).as_posix()
    except ValueError:
        raise _Unknown(f"{path} is outside the workspace {workspace}") from None
    try:
        data = make_client(gh).get(f"/repos/{repo}/contents/{quote(rel)}", {"ref": sha})
    except GitHubAPIError as exc:
        if exc.status == 404:
            return None
        raise _Unknown(exc.message) from None
    if not isinstance(data, dict) or data.get("type") != "file" or data.get("encoding") != "base64":
        raise _Unknown(f"GitHub did not answer {rel} at {sha[:12]} with a file")
    try:
        return base64.b64decode(str(data.get("content", ""))).decode("utf-8", "replace")
    except ValueError:
        raise _Unknown("GitHub's answer is not valid base64") from None
