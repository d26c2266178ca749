"""The one table of checks (gate/harness/check_table.py, torch-free, read by the controller)
agrees with the classes it names, and the runs build their checks from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.config import resolve
from gate.errors import ConfigError
from gate.harness.check_api import Guarded, ScriptCheck
from gate.harness.check_table import CHECK_NAMES, CHECKS, check_names
from gate.harness.checks import active_checks, check_class
from gate.harness.spec import Spec
from tests.conftest import ROOT


@pytest.mark.parametrize("name", CHECK_NAMES)
def test_each_entry_names_its_class(name: str) -> None:
    cls = check_class(name)
    assert cls.name == name
    # Script-only hooks (before_backward, after_step, ...) exist only in script mode's session,
    # and guard() does not pass them on: such a check must be listed for script mode only.
    assert issubclass(cls, ScriptCheck) == (CHECKS[name].modes == ("script",))


def test_runs_build_their_checks_from_the_table() -> None:
    task = active_checks(Spec(), "task")
    assert [c.name for c in task] == check_names("task") and all(isinstance(c, Guarded) for c in task)
    script = active_checks(Spec(skip_checks=["causality"]), "script")
    assert [c.name for c in script] == [n for n in CHECK_NAMES if n != "causality"]
    # The session reports a crash in a script-only check itself; the others are guarded.
    assert [type(c).__name__ for c in script if not isinstance(c, Guarded)] == ["GradsZeroed", "GradsClipped"]


def test_every_check_is_documented() -> None:
    docs = (ROOT / "docs/checks.md").read_text() + (ROOT / "docs/script-mode.md").read_text()
    assert [n for n in CHECK_NAMES if f"`{n}`" not in docs] == []


def test_skip_checks_typo_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean `causality`"):
        resolve({"skip_checks": ["casuality"]}, {}, tmp_path)
    assert resolve({"skip_checks": ["causality"]}, {}, tmp_path).skip_checks == ["causality"]
