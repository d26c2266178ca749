"""Broken twin of train_mlp.py: ``clip_grad_norm_(..., 0.0)`` (a max-norm read from an
unset config value) scales every gradient to zero before the step. The gate's
grads_clipped check fails it."""

import torch
from torch import nn
from torch.nn import functional as F
from train_mlp import MLP, make_loaders

if __name__ == "__main__":
    torch.manual_seed(1234)
    config = {"grad_clip": 0.0}  # BUG: meant to be 1.0
    train_loader, _ = make_loaders(512, 16)
    model = MLP()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(10):
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), config["grad_clip"])
            optimizer.step()
        print(f"epoch {epoch} loss {loss.item():.4f}")
