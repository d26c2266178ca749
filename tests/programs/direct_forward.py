"""A model whose forward() is called directly (model.forward(x), not model(x)): the gate never
sees a module call, so it has no model to pin or check."""

import torch
from torch import nn

torch.manual_seed(0)
model = nn.Linear(6, 3)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
for _ in range(100):
    opt.zero_grad()
    nn.functional.cross_entropy(model.forward(x), y).backward()
    opt.step()
