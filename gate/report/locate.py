"""Where a check points in the repository, for annotations: Actions workflow commands
(``gate.report.actions``) and check-run annotations (``gate.github.check_runs``) both use it."""

from __future__ import annotations

import os

from gate.result import CheckResult, Result


def source_file(result: Result, workspace: str | None = None) -> str | None:
    """The pipeline's file relative to the repository root: the entry point's file (inside the
    working directory), else the script of a script-mode command. Absolute paths are made
    relative to ``workspace`` when one is known (annotations take repository paths)."""
    path = result.entrypoint.rpartition(":")[0] if result.entrypoint else None
    if not path:
        path = next((part for part in result.command or [] if part.endswith(".py")), None)
    if not path:
        return None
    workdir = str(result.config.get("working_directory") or ".")
    full = os.path.normpath(os.path.join(workdir, path))
    if os.path.isabs(full) and workspace:
        full = os.path.relpath(full, workspace)
    return full.replace(os.sep, "/")


def check_location(check: CheckResult, fallback: str | None) -> tuple[str | None, int | None]:
    """A check may name its own ``file``/``path`` and ``line`` in its data; else the fallback file."""
    path = check.data.get("file") or check.data.get("path") or fallback
    line = check.data.get("line")
    return (path if isinstance(path, str) and path else None, line if isinstance(line, int) and line > 0 else None)
