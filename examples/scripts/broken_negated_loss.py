"""Broken twin of train_mlp.py: ``(-loss).backward()`` maximises the loss (a sign error
that also hides in "reward" code). The gate reads the loss from the tensor backward is
called on, sees it start below its floor and fails."""

import torch
from torch.nn import functional as F
from train_mlp import MLP, make_loaders

if __name__ == "__main__":
    torch.manual_seed(1234)
    train_loader, _ = make_loaders(512, 16)
    model = MLP()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(10):
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            (-loss).backward()  # BUG: gradient ascent
            optimizer.step()
        print(f"epoch {epoch} loss {loss.item():.4f}")  # the log looks like a normal loss
