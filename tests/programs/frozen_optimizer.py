"""A fine-tune that hands the optimizer the frozen backbone instead of the trainable head."""

import torch
from torch import nn

torch.manual_seed(0)
backbone, head = nn.Linear(8, 16), nn.Linear(16, 3)
for p in backbone.parameters():
    p.requires_grad_(False)
model = nn.Sequential(backbone, nn.ReLU(), head)
opt = torch.optim.Adam(backbone.parameters(), lr=1e-2)  # the bug: should be head.parameters()
x, y = torch.randn(16, 8), torch.randint(0, 3, (16,))
for _ in range(100):
    opt.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
