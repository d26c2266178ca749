"""Bug (batch_independence): probabilities normalised over dim 0, the batch, instead of
the classes."""

import torch
from torch.nn import functional as F
from zoo_common import classification, mlp


class BatchSoftmax(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = mlp()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.net(x), dim=0)


def make_task():
    task = classification(BatchSoftmax())
    task["loss"] = lambda m, b: F.nll_loss(m(b[0]), b[1])
    return task
