"""The README's generated parts (config table, feature sections) match the code and docs."""

from __future__ import annotations

import subprocess
import sys

from gate.config import KEYS
from tests.conftest import ROOT


def test_readme_is_in_sync() -> None:
    proc = subprocess.run(
        [sys.executable, "scripts/sync-readme.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


def test_every_config_key_is_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [k for k in KEYS if f"| `{k.replace('_', '-')}` |" not in readme]
    assert not missing


def test_setup_commands_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    for cmd in ("bash scripts/demo.sh", "bash scripts/test.sh"):
        assert cmd in readme
        assert (ROOT / cmd.split()[1]).is_file()
