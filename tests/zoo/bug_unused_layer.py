"""Bug (gradient_flow): a layer is built but never called in forward."""

import torch
from zoo_common import CLASSES, classification, mlp


class Unused(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = mlp()
        self.extra = torch.nn.Linear(CLASSES, CLASSES)  # meant to run after net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def make_task():
    return classification(Unused())
