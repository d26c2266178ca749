"""Bug (finite): a hand-written binary cross-entropy. Once a logit saturates the sigmoid
(model confident), ``(1 - y) * log(1 - sigmoid(z))`` is 0 * -inf = NaN."""

import torch
from zoo_common import FEATURES, N, mlp


def bce(model, batch):
    x, y = batch
    p = torch.sigmoid(model(x).squeeze(-1))
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()


def make_task():
    x, y = torch.randn(N, FEATURES), (torch.rand(N) > 0.5).float()
    return {
        "model": mlp(n_out=1),
        "batch": (x, y),
        "loss": bce,
        "optimizer": lambda params: torch.optim.Adam(params, lr=0.5),
    }
