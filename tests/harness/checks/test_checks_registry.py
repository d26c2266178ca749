"""The controller's list of check names (torch-free) matches the harness registries."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.config import resolve
from gate.errors import ConfigError
from gate.harness.checks import ALL_CHECKS
from gate.harness.script.grad_checks import SCRIPT_CHECKS
from gate.harness.spec import CHECK_NAMES


def test_names_match_registries() -> None:
    names = [c.name for c in ALL_CHECKS] + [c.name for c in SCRIPT_CHECKS]
    assert sorted(names) == sorted(CHECK_NAMES)


def test_skip_checks_typo_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean `causality`"):
        resolve({"skip_checks": ["casuality"]}, {}, tmp_path)
    assert resolve({"skip_checks": ["causality"]}, {}, tmp_path).skip_checks == ["causality"]
