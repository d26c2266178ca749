"""Bug (loss_direction): an optimizer left with ``maximize=True`` climbs the loss."""

import torch
from torch.nn import functional as F
from zoo_common import FEATURES, N, mlp


def make_task():
    x, y = torch.randn(N, FEATURES), torch.randn(N, 1)
    return {
        "model": mlp(n_out=1),
        "batch": (x, y),
        "loss": lambda m, b: F.mse_loss(m(b[0]), b[1]),
        "optimizer": lambda params: torch.optim.SGD(params, lr=1e-2, maximize=True),
    }
