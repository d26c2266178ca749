"""Healthy: an autoencoder whose batch is one bare tensor that is both input and target.
Input dependence zeroes the input at the model's door, never the target."""

import torch
from torch import nn
from torch.nn import functional as F
from zoo_common import FEATURES, N


def make_task():
    model = nn.Sequential(nn.Linear(FEATURES, 32), nn.Tanh(), nn.Linear(32, FEATURES))
    return {
        "model": model,
        "batch": torch.randn(N, FEATURES),
        "loss": lambda m, x: F.mse_loss(m(x), x),
        "optimizer": lambda params: torch.optim.Adam(params, lr=1e-2),
    }
