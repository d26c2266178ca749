"""The silent-bug checks, one module each. Which checks exist, in which order and in which
modes is the one table in ``gate/harness/check_table.py``; this builds the ones a run needs."""

from __future__ import annotations

import importlib

from gate.harness.check_api import Check, ScriptCheck, guard
from gate.harness.check_table import CHECKS
from gate.harness.spec import Mode, Spec


def check_class(name: str) -> type[Check]:
    """The class listed for ``name``, imported now: the table itself stays torch-free."""
    module, _, attr = CHECKS[name].target.partition(":")
    found = getattr(importlib.import_module(module), attr)
    if not (isinstance(found, type) and issubclass(found, Check)):
        raise TypeError(f"check {name!r}: {CHECKS[name].target} is not a Check")
    return found


def active_checks(spec: Spec, mode: Mode) -> list[Check]:
    """The checks a run in ``mode`` needs, in report order. guard(): a check that crashes on an
    odd model reports a warning, never crashes the gate. Script-only checks are left bare: the
    session calls their extra hooks itself and reports a crash in them as a skip."""
    checks = [check_class(name)() for name, entry in CHECKS.items() if mode in entry.modes and spec.enabled(name)]
    return [c if isinstance(c, ScriptCheck) else guard(c) for c in checks]


__all__ = ["active_checks", "check_class"]
