"""The ``not_applicable`` outcome (exit 4): the program is not one an overfit test fits
(policy gradients, adversarial losses, layer-local losses), or it ended on its own before the
test could conclude (its epochs ran out while the loss was still falling, or it cut its own
learning rate). Never a pass, never a bug diagnosis; the reason always says what to do
instead. Standard library only."""

from __future__ import annotations

from gate.harness.decision import Decision

HINT = "gate a supervised component in task mode instead"
# Kinds where the program may well fit an overfit test and only the run could not conclude (its
# epochs ran out, its floor is unknown, it cut its own learning rate): a check that fails still fails it. For the others (RL,
# GANs, local losses) the checks' premises do not hold, so the outcome stays not applicable.
INCONCLUSIVE = ("ended_early", "unknown_floor", "lr_cut")


def sentence(why: str, instead: str = HINT) -> str:
    """The one shape of every not-applicable reason: why, then what to do instead."""
    return f"not applicable: {why}; {instead}"


def sign_changes(changes: int, steps: int, step: int) -> Decision:
    """A loss that crossed its floor over and over before any trend: nothing to overfit."""
    why = (
        f"the loss changes sign {changes} times in its first {steps} steps, before any trend (a "
        "policy-gradient or advantage-weighted objective): it has no floor and no fixed target to reach"
    )
    return Decision("not_applicable", sentence(why), step, "sign_changes")
