"""The harness: runs inside the user's training environment. Imports only torch and the
standard library. ``from gate.harness import OverfitTask`` is the typed task form.

Attributes are resolved lazily so that importing a torch-free submodule (``verdict``,
``spec``) from the controller never pulls torch in.
"""

from __future__ import annotations

from typing import Any

__all__ = ["OverfitTask"]


def __getattr__(name: str) -> Any:
    if name == "OverfitTask":
        from gate.harness.task import OverfitTask

        return OverfitTask
    raise AttributeError(name)
