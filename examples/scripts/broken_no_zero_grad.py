"""Broken twin of train_mlp.py: optimizer.zero_grad() is missing, so every step adds its
gradient on top of all earlier ones. The gate's grads_zeroed check fails it."""

import torch
from torch.nn import functional as F
from train_mlp import MLP, make_loaders

if __name__ == "__main__":
    torch.manual_seed(1234)
    train_loader, _ = make_loaders(512, 16)
    model = MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
    for epoch in range(10):
        for x, y in train_loader:
            loss = F.cross_entropy(model(x), y)
            loss.backward()  # BUG: no optimizer.zero_grad() anywhere
            optimizer.step()
        print(f"epoch {epoch} loss {loss.item():.4f}")
