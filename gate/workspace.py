"""The report folder, confined to the workspace.

The folder is written by the controller (which may run as root in a container action) and
bind-mounted read-write into the training container, so where it points is a security
decision: a relative ``out`` that climbs out with ``..``, or passes through a symlink the
change under test committed (``overfit-gate-report -> /github/file_commands``), would hand the
code under test the runner's command files, ``.git/hooks`` or anything else. The workspace is
``GITHUB_WORKSPACE`` in Actions, else the current directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from gate.errors import ConfigError

_HINT = "use a folder inside the workspace, e.g. `out: overfit-gate-report` (docs/security.md)"


def workspace(env: Mapping[str, str]) -> Path:
    return Path(env.get("GITHUB_WORKSPACE") or os.getcwd()).resolve()


def confine(out: str, env: Mapping[str, str], cwd: Path | None = None) -> Path:
    """The absolute report folder for ``out``, or a ConfigError (exit 2) naming the problem.

    Outside GitHub Actions an absolute ``out`` is the operator's own choice and is allowed;
    inside, everything must stay in the workspace. Relative paths may never climb out, and no
    part of the path below the workspace may be a symlink, whatever it points at."""
    root = workspace(env)
    base = (cwd or Path.cwd()).resolve()
    given = Path(out)
    if given.is_absolute() and not env.get("GITHUB_WORKSPACE"):
        return Path(os.path.normpath(given))
    if not given.is_absolute() and ".." in given.parts:
        raise ConfigError(f"`out` may not climb out of the workspace: {out!r}", hint=_HINT)
    target = Path(os.path.normpath(base / given))
    try:
        rel = target.relative_to(root)
    except ValueError:
        raise ConfigError(f"`out` must be inside the workspace {root}: {out!r}", hint=_HINT) from None
    if not rel.parts:
        raise ConfigError(f"`out` may not be the workspace itself: {out!r}", hint=_HINT)
    if ".git" in rel.parts:
        raise ConfigError(f"`out` may not be inside .git: {out!r}", hint=_HINT)
    step = root
    for part in rel.parts:
        step = step / part
        if step.is_symlink():
            raise ConfigError(
                f"`out` passes through the symlink {step.relative_to(root)} -> {os.readlink(step)}",
                hint="the report folder is written by the gate and mounted into the training container, so it "
                "may not be a link the checkout provides; " + _HINT,
            )
    return target
