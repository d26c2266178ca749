"""Which optimizer trains the model. The script may build several (a GAN's two, a scheduler's
stand-ins), build one before or after the model, or write its own update
(``p.data -= lr * p.grad``): the gate adopts the optimizer that holds the top-level module's
parameters, and counts a step at each backward when none does."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Literal

import torch

from gate.harness.script.pinning import ModuleTracker


def held(opt: torch.optim.Optimizer) -> set[int]:
    """The ids of the parameters an optimizer updates."""
    return {id(p) for g in opt.param_groups for p in g["params"]}


def _disjoint(sets: list[set[int]]) -> bool:
    return len(sets) >= 2 and not set.intersection(*sets)


class Adoption:
    def __init__(self) -> None:
        self._created: list[weakref.ref[torch.optim.Optimizer]] = []
        self._stepped: set[int] = set()  # ids of optimizers that stepped after a backward
        self.optimizer: torch.optim.Optimizer | None = None  # the one that steps the model
        # Hand-written updates: no torch.optim optimizer holds the model, so a step is
        # counted at each backward instead of at optimizer.step().
        self.manual = False

    def created(self, opt: torch.optim.Optimizer) -> None:
        self._created.append(weakref.ref(opt))

    def live(self) -> list[torch.optim.Optimizer]:
        return [o for o in (r() for r in self._created) if o is not None]

    @property
    def any_stepped(self) -> bool:
        return bool(self._stepped)

    def first_backward(self, modules: ModuleTracker, quietly: Callable[[], AbstractContextManager[None]]) -> None:
        """Choose the top-level module (the one the optimizers hold most of) and its optimizer;
        with none, a stand-in that only lists the parameters for the checks."""
        live = self.live()
        top = modules.choose(set().union(*(held(o) for o in live)) if live else None)
        if top is not None and live:
            mine = {id(p) for p in top.parameters()}
            best = max(live, key=lambda o: len(held(o) & mine))
            self.optimizer = best if held(best) & mine else None  # else adopted at its first step
        if top is not None and self.optimizer is None:
            trainable = [p for p in top.parameters() if p.requires_grad]
            mine = {id(p) for p in trainable}
            self.manual = not any(held(o) & mine for o in live)
            if self.manual:
                with quietly():  # the stand-in is ours, not one the script built
                    self.optimizer = torch.optim.SGD(trainable, lr=0.0)

    def stepped(self, opt: torch.optim.Optimizer, top: torch.nn.Module | None) -> Literal["ours", "adopted", "other"]:
        """``opt`` stepped after a backward: is it the model's optimizer, adopted only now (its
        first step came after the first backward), or another one (a GAN's second)?"""
        self._stepped.add(id(opt))
        # The model's parameters are only listed when needed: a big model has thousands.
        if self.manual and top is not None and held(opt) & {id(p) for p in top.parameters()}:
            self.manual = False  # a real optimizer steps the model after all
            self.optimizer = None
        if self.optimizer is None:
            if top is None or not held(opt) & {id(p) for p in top.parameters()}:
                return "other"
            self.optimizer = opt
            return "adopted"
        return "ours" if opt is self.optimizer else "other"

    def stepped_disjoint(self) -> bool:
        """The optimizers that stepped hold disjoint parameter sets (adversarial training)."""
        return _disjoint([held(o) for o in self.live() if id(o) in self._stepped])

    def turns(self) -> int:
        """How many optimizers take turns on separate parameters (1 when they overlap)."""
        live = [held(o) for o in self.live()]
        return len(live) if _disjoint(live) else 1
