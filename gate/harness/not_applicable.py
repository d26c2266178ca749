"""The ``not_applicable`` outcome (exit 4): the program is not one an overfit test fits
(policy gradients, adversarial losses, layer-local losses). Never a pass, never a bug
diagnosis; the reason always says what to gate instead. Standard library only."""

from __future__ import annotations

HINT = "gate a supervised component in task mode instead"


def sentence(why: str) -> str:
    """The one reason every not-applicable outcome ends with."""
    return f"not applicable: {why}; {HINT}"
