"""An `accelerate launch` script: the Accelerator prepares model, optimizer and data, and
`accelerator.backward(loss)` runs the backward."""

import torch
from accelerate import Accelerator
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
accelerator = Accelerator()
model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 4))
opt = torch.optim.Adam(model.parameters(), lr=0.01)
data = TensorDataset(torch.randn(256, 10), torch.randint(0, 4, (256,)))
loader = DataLoader(data, batch_size=16, shuffle=True)
model, opt, loader = accelerator.prepare(model, opt, loader)
for _epoch in range(30):
    for x, y in loader:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        accelerator.backward(loss)
        opt.step()
