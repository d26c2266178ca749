"""Healthy: a CNN with BatchNorm trained in train mode (batch statistics mix samples
during training, legitimately; the batch-independence check must not flag it)."""

import torch
from torch import nn
from torch.nn import functional as F


def make_task():
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 4),
    )
    images, labels = torch.randn(8, 3, 8, 8), torch.randint(0, 4, (8,))
    return {
        "model": model,
        "batch": {"images": images, "labels": labels},
        "loss": lambda m, b: F.cross_entropy(m(b["images"]), b["labels"]),
        "forward": lambda m, b: m(b["images"]),
        "optimizer": lambda params: torch.optim.Adam(params, lr=1e-2),
    }
