"""Targets pinned beside module replay's inputs: the first tensors the script passes as targets
to the ``torch.nn.functional`` losses (which ``nn.*Loss`` modules call too), replayed on the
training calls whose inputs were replayed. A replayed input scored against a fresh target never
converges (pytorch/examples' regression builds ``(x, f(x))`` anew at every step)."""

from __future__ import annotations

from typing import Any

import torch

# torch.nn.functional losses whose second argument is the target (nn.*Loss modules call them).
TARGET_LOSSES = (
    "cross_entropy",
    "nll_loss",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "kl_div",
    "poisson_nll_loss",
    "gaussian_nll_loss",
    "soft_margin_loss",
    "multilabel_soft_margin_loss",
    "multi_margin_loss",
    "hinge_embedding_loss",
)


class TargetPins:
    """The targets of the first loss calls, replayed beside the module's inputs. Keyed by
    (loss function, its call count since the model's last training call), so a VAE's two
    terms or a multi-head loss each get their own."""

    def __init__(self) -> None:
        self._first: dict[tuple[str, int], Any] = {}
        self._calls: dict[str, int] = {}
        self.replay = False
        self.used: list[str] = []  # loss functions whose targets were replayed

    def new_forward(self) -> None:
        self._calls.clear()

    def target(self, name: str, input: Any, target: Any, replayed_inputs: bool) -> Any:
        if not (isinstance(target, torch.Tensor) and isinstance(input, torch.Tensor) and input.requires_grad):
            return target  # an eval loss, or a loss on computed targets
        k = self._calls.get(name, 0)
        self._calls[name] = k + 1
        key = (name, k)
        if key not in self._first:
            self._first[key] = target.detach().clone()
            return target
        pinned = self._first.get(key)
        if not (self.replay and replayed_inputs) or pinned is None or pinned.shape != target.shape:
            return target
        if name not in self.used:
            self.used.append(name)
        return pinned.clone()
