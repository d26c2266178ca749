"""Broken twin of train_mlp.py: the targets come from the model's own predictions
(``logits.argmax()``, a pseudo-labelling step wired to the wrong tensor) instead of the
batch's labels. The loss drops to zero beautifully without learning anything about the
inputs; the gate's input_dependence check (the script run again with its model inputs
zeroed reaches the same target) fails it."""

import torch
from torch.nn import functional as F
from train_mlp import MLP, make_loaders

if __name__ == "__main__":
    torch.manual_seed(1234)
    train_loader, _ = make_loaders(512, 16)
    model = MLP(dropout=0.0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    for epoch in range(10):
        for x, y in train_loader:  # noqa: B007 - that y goes unused is the bug
            optimizer.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, logits.argmax(dim=1))  # BUG: should be y
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch} loss {loss.item():.4f}")
