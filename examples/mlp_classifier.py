"""A small MLP classifier on tabular features: the simplest thing a team would gate."""

import torch
from torch import nn
from torch.nn import functional as F


class MLP(nn.Module):
    def __init__(self, n_features: int = 20, hidden: int = 64, n_classes: int = 5) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def make_task():
    x = torch.randn(32, 20)
    y = torch.randint(0, 5, (32,))
    return {
        "model": MLP(),
        "batch": (x, y),
        "loss": lambda model, batch: F.cross_entropy(model(batch[0]), batch[1]),
        "optimizer": lambda params: torch.optim.Adam(params, lr=3e-3),
    }
