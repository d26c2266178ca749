"""Putting init's files in place: never overwrite without ``force``, merge the config table
into an existing pyproject.toml instead of replacing the file, and say what happened."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from gate.errors import UsageError

TABLE = re.compile(r"^\[tool\.overfit-gate\]\s*$", re.MULTILINE)
NEXT_TABLE = re.compile(r"^\[", re.MULTILINE)


@dataclass(frozen=True)
class Planned:
    path: Path
    text: str
    action: str  # "create", "overwrite", "add the [tool.overfit-gate] table to", "replace the table in"


def plan_file(path: Path, text: str, force: bool) -> Planned:
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise UsageError(f"{path} exists and is not a regular file; not touching it")
    if path.exists() and not force:
        raise UsageError(
            f"{path} already exists", hint="overfit-gate init --force overwrites it (--dry-run shows what)"
        )
    return Planned(path, text, "overwrite" if path.exists() else "create")


def plan_table(pyproject: Path, table: str, force: bool) -> Planned:
    if pyproject.is_symlink() or (pyproject.exists() and not pyproject.is_file()):
        raise UsageError(f"{pyproject} exists and is not a regular file; not touching it")
    if not pyproject.exists():
        return Planned(pyproject, table, "create")
    current = pyproject.read_text()
    found = TABLE.search(current)
    if found is None:
        sep = "" if current.endswith("\n\n") or not current else ("\n" if current.endswith("\n") else "\n\n")
        return Planned(pyproject, current + sep + table, "add the [tool.overfit-gate] table to")
    if not force:
        raise UsageError(
            f"{pyproject} already has a [tool.overfit-gate] table",
            hint="overfit-gate init --force replaces that table (the rest of the file is kept)",
        )
    rest = NEXT_TABLE.search(current, found.end())
    end = rest.start() if rest else len(current)
    tail = current[end:]
    return Planned(pyproject, current[: found.start()] + table + ("\n" + tail if tail else ""), "replace the table in")


def apply(planned: list[Planned]) -> None:
    for p in planned:
        p.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.path.with_name(p.path.name + ".overfit-gate-tmp")
        tmp.write_text(p.text)
        tmp.replace(p.path)  # a half-written workflow or pyproject is never left behind
