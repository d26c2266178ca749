"""A script written for torchrun: reads RANK/WORLD_SIZE, joins the process group (NCCL by
default, as GPU scripts do), wraps the model in DistributedDataParallel on cuda:LOCAL_RANK."""

import os

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

backend = os.environ.get("BACKEND", "nccl")
dist.init_process_group(backend=backend)
rank, local_rank = dist.get_rank(), int(os.environ["LOCAL_RANK"])
assert dist.get_world_size() == 1 and rank == 0, (dist.get_world_size(), rank)
device = f"cuda:{local_rank}"
torch.cuda.set_device(device)
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 5)).to(device)
ddp_model = DDP(model, device_ids=[local_rank])
opt = torch.optim.SGD(ddp_model.parameters(), lr=0.05, momentum=0.9)
x, y = torch.randn(16, 10, device=device), torch.randint(0, 5, (16,), device=device)
for _step in range(400):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(ddp_model(x), y)
    loss.backward()
    opt.step()
dist.destroy_process_group()
