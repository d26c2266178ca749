"""Healthy: fine-tuning a head on a frozen backbone (requires_grad=False): a warning
with the frozen fraction, never a failure."""

import torch
from torch import nn
from zoo_common import CLASSES, FEATURES, classification


def make_task():
    backbone = nn.Sequential(nn.Linear(FEATURES, 64), nn.Tanh())
    for p in backbone.parameters():
        p.requires_grad_(False)
    head = nn.Linear(64, CLASSES)
    return classification(nn.Sequential(backbone, head), optimizer=lambda params: torch.optim.Adam(params, lr=5e-2))
