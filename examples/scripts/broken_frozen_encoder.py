"""Broken twin of train_mlp.py: the encoder runs under ``torch.no_grad()`` (left over from a
feature-extraction experiment), so it never trains; the head alone can still memorise one
batch, which is why the loss curve looks fine. The gate's gradient_flow check fails it."""

import torch
from torch import nn
from torch.nn import functional as F
from train_mlp import CLASSES, FEATURES, make_loaders


class Classifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(FEATURES, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.head = nn.Linear(64, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():  # BUG: the encoder gets no gradient
            h = self.encoder(x)
        return self.head(h)


if __name__ == "__main__":
    torch.manual_seed(1234)
    train_loader, _ = make_loaders(512, 16)
    model = Classifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for epoch in range(10):
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch} loss {loss.item():.4f}")
