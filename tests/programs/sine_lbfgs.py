"""time_sequence_prediction style: LBFGS with a closure that runs backward up to 20 times per
step. Writes the loss of each closure's first evaluation, to compare with what the gate saw."""

import json
import sys

import torch
from torch import nn

torch.manual_seed(0)
t = torch.linspace(0, 6.28, 40)
x = torch.stack([torch.sin(t + p) for p in torch.rand(6) * 6], 0).unsqueeze(-1)
inp, target = x[:, :-1], x[:, 1:]
model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
opt = torch.optim.LBFGS(model.parameters(), lr=0.5, max_iter=20)
firsts: list[float] = []
for _i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 30):
    calls: list[float] = []

    def closure(calls=calls):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(inp), target)
        calls.append(loss.item())
        loss.backward()
        return loss

    opt.step(closure)
    firsts.append(calls[0])
    with open("lbfgs_firsts.json", "w") as f:
        json.dump(firsts, f)
