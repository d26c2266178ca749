"""Regularization off for the overfit run, as the recipe says: dropout (``dropout.py``) and
the optimizers' weight decay (``weight_decay.py``), each unless its ``keep-*`` key says so.
One object to install before the first loss, remove after, and ask for the report's notes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gate.harness.dropout import DropoutSwitch
from gate.harness.spec import Spec
from gate.harness.weight_decay import WeightDecaySwitch


class Regularization:
    def __init__(self, spec: Spec) -> None:
        self.dropout = DropoutSwitch(spec.keep_dropout)
        self.weight_decay = WeightDecaySwitch(spec.keep_weight_decay)

    def install(self, replace: Callable[[Any, str, Any], Any] | None = None) -> Regularization:
        """``replace(owner, name, value)`` (a Patcher's) records the dropout functions' undo."""
        self.dropout.install(replace)
        self.weight_decay.install()
        return self

    def remove(self) -> None:
        self.dropout.remove()
        self.weight_decay.remove()

    @property
    def notes(self) -> list[str]:
        return [n for n in (self.dropout.note, self.weight_decay.note) if n]
