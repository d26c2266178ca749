"""The generated docs (config table, the site's home page) match the code and README, README
stays a short front page, and every workflow snippet in the docs is one we would run ourselves."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from gate.config import KEYS
from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_generated_docs_are_in_sync() -> None:
    proc = subprocess.run(
        [sys.executable, "scripts/sync-readme.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("page", ["README.md", "docs/configuration.md"])
def test_every_config_key_is_documented(page: str) -> None:
    text = (ROOT / page).read_text()
    missing = [k for k in KEYS if f"| `{k.replace('_', '-')}` |" not in text]
    assert not missing


def test_readme_is_a_front_page() -> None:
    # The manual lives in docs/ (the site); README keeps the pitch, quick starts and the table.
    assert len((ROOT / "README.md").read_bytes()) < 15_000


def test_setup_commands_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    for cmd in ("bash scripts/demo.sh", "bash scripts/test.sh"):
        assert cmd in readme
        assert (ROOT / cmd.split()[1]).is_file()


def _run_steps(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("run"), str):
            yield node["run"]
        for value in node.values():
            yield from _run_steps(value)
    elif isinstance(node, list):
        for item in node:
            yield from _run_steps(item)


def test_workflow_snippets_never_expand_expressions_inside_run() -> None:
    # `${{ }}` inside `run:` is pasted into the shell script before it runs: an output or event
    # field the PR controls would be code. Users copy these snippets, so they pass values via env.
    found = 0
    for page in DOCS:
        for block in re.findall(r"```ya?ml\n(.*?)```", page.read_text(), re.S):
            for script in _run_steps(yaml.safe_load(_dedent(block))):
                found += 1
                assert "${{" not in script, f"{page.name}: {script!r}"
    assert found > 5  # the snippets were parsed, not skipped


def _dedent(block: str) -> str:
    indent = min((len(line) - len(line.lstrip()) for line in block.splitlines() if line.strip()), default=0)
    return "\n".join(line[indent:] for line in block.splitlines())
