"""Every check, listed once: its name, where its class lives and the modes it runs in. Table
order is report order. Standard library only, like ``RUNNERS`` in ``gate/runners``: the
controller validates ``skip-checks`` against these names without importing torch, and the
harness imports a check's class only to run it (``gate.harness.checks.active_checks``)."""

from __future__ import annotations

from typing import NamedTuple

from gate.harness.spec import Mode


class CheckEntry(NamedTuple):
    target: str  # "module:Class", a subclass of gate.harness.check_api.Check
    modes: tuple[Mode, ...] = ("task", "script")


CHECKS: dict[str, CheckEntry] = {
    "finite": CheckEntry("gate.harness.checks.finite:Finite"),
    "loss_direction": CheckEntry("gate.harness.checks.loss_direction:LossDirection"),
    "loss_at_init": CheckEntry("gate.harness.checks.init_loss:LossAtInit"),
    "gradient_flow": CheckEntry("gate.harness.checks.grad_flow:GradientFlow"),
    "parameters_update": CheckEntry("gate.harness.checks.param_update:ParametersUpdate"),
    "batch_independence": CheckEntry("gate.harness.checks.batch_independence:BatchIndependence"),
    "causality": CheckEntry("gate.harness.checks.causality:Causality"),
    "input_dependence": CheckEntry("gate.harness.checks.input_dependence:InputDependence"),
    # Bugs in the loop a script owns (ScriptCheck: hooks only script mode's session has).
    "grads_zeroed": CheckEntry("gate.harness.script.grad_checks:GradsZeroed", ("script",)),
    "grads_clipped": CheckEntry("gate.harness.script.grad_checks:GradsClipped", ("script",)),
}

CHECK_NAMES = tuple(CHECKS)


def check_names(mode: Mode) -> list[str]:
    """The checks that run in ``mode``, in report order."""
    return [name for name, entry in CHECKS.items() if mode in entry.modes]
