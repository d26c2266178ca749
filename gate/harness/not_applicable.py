"""The ``not_applicable`` outcome (exit 4): the program is not one an overfit test fits
(policy gradients, adversarial losses, layer-local losses), or it ended on its own before the
test could conclude (its epochs ran out while the loss was still falling). Never a pass, never
a bug diagnosis; the reason always says what to do instead. Standard library only."""

from __future__ import annotations

HINT = "gate a supervised component in task mode instead"
# Kinds where the program may well fit an overfit test and only the run could not conclude (its
# epochs ran out, its floor is unknown): a check that fails still fails it. For the others (RL,
# GANs, local losses) the checks' premises do not hold, so the outcome stays not applicable.
INCONCLUSIVE = ("ended_early", "unknown_floor")


def sentence(why: str, instead: str = HINT) -> str:
    """The one shape of every not-applicable reason: why, then what to do instead."""
    return f"not applicable: {why}; {instead}"
