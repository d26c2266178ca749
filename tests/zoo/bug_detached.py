"""Bug (gradient_flow): the encoder's output is detached, so the encoder never learns;
the head alone still overfits the batch."""

import torch
from zoo_common import CLASSES, FEATURES, classification


class Detached(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = torch.nn.Linear(FEATURES, 64)
        self.head = torch.nn.Linear(64, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.encoder(x)).detach())


def make_task():
    return classification(Detached())
