"""The silent-bug checks, listed in one place. Order is report order."""

from __future__ import annotations

from gate.harness.checks.base import Check, Context, result

ALL_CHECKS: list[type[Check]] = []

__all__ = ["ALL_CHECKS", "Check", "Context", "result"]
