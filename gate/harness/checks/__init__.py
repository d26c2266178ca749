"""The silent-bug checks, listed in one place. Order is report order."""

from __future__ import annotations

from gate.harness.check_api import Check
from gate.harness.checks.batch_independence import BatchIndependence
from gate.harness.checks.causality import Causality
from gate.harness.checks.finite import Finite
from gate.harness.checks.grad_flow import GradientFlow
from gate.harness.checks.init_loss import LossAtInit
from gate.harness.checks.input_dependence import InputDependence
from gate.harness.checks.loss_direction import LossDirection
from gate.harness.checks.param_update import ParametersUpdate

ALL_CHECKS: list[type[Check]] = [
    Finite,
    LossDirection,
    LossAtInit,
    GradientFlow,
    ParametersUpdate,
    BatchIndependence,
    Causality,
    InputDependence,
]

__all__ = ["ALL_CHECKS"]
