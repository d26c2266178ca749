"""mp.spawn style: the training runs in workers; each joins a world of `world_size`."""

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn


def train(rank, world_size):
    dist.init_process_group("gloo", init_method="tcp://127.0.0.1:29533", rank=rank, world_size=world_size)
    torch.manual_seed(0)
    model = nn.parallel.DistributedDataParallel(nn.Sequential(nn.Linear(6, 32), nn.Tanh(), nn.Linear(32, 3)))
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    x, y = torch.randn(12, 6), torch.randint(0, 3, (12,))
    for _ in range(300):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    dist.destroy_process_group()


if __name__ == "__main__":
    mp.spawn(train, args=(2,), nprocs=2, join=True)
