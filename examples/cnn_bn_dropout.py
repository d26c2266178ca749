"""A small image classifier with BatchNorm and Dropout (the layers that behave differently
in train and eval mode), on 16x16 RGB images."""

import torch
from torch import nn
from torch.nn import functional as F


class SmallCNN(nn.Module):
    def __init__(self, n_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.1), nn.Linear(32 * 4 * 4, n_classes))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


def make_task():
    images = torch.randn(16, 3, 16, 16)
    labels = torch.randint(0, 10, (16,))
    return {
        "model": SmallCNN(),
        "batch": {"images": images, "labels": labels},
        "loss": lambda model, batch: F.cross_entropy(model(batch["images"]), batch["labels"]),
        "optimizer": lambda params: torch.optim.AdamW(params, lr=3e-3, weight_decay=0.0),
    }
