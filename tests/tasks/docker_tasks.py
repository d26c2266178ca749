"""Tasks for the docker runner's tests: each leaves evidence of the container it ran in."""

import json
import os
import time

import torch
from torch import nn
from torch.nn import functional as F


def _data():
    torch.manual_seed(0)
    return torch.randn(16, 8), torch.randint(0, 3, (16,))


def _ce(model, batch):
    return F.cross_entropy(model(batch[0]), batch[1])


def frozen():
    """A pipeline that cannot learn: the optimizer's learning rate is 0 (verdict fail, exit 1)."""
    return {"model": nn.Linear(8, 3), "batch": _data(), "loss": _ce, "optimizer": lambda p: torch.optim.SGD(p, lr=0.0)}


def hangs():
    time.sleep(3600)


def probe():
    """A healthy task that records what the container looks like (network, user, environment)."""
    evidence = {
        "interfaces": sorted(os.listdir("/sys/class/net")),
        "uid": os.getuid(),
        "gid": os.getgid(),
        "env": sorted(os.environ),
    }
    with open("evidence.json", "w") as fh:
        json.dump(evidence, fh)
    return {"model": nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3)), "batch": _data(), "loss": _ce,
            "optimizer": lambda p: torch.optim.Adam(p, lr=0.02)}


def hog():
    """Touches far more memory than the test's container limit: the kernel OOM-kills it."""
    chunks = [torch.ones(64 * 1024 * 1024, dtype=torch.uint8) for _ in range(64)]  # 4 GiB
    return {"model": nn.Linear(8, 3), "batch": _data(), "loss": _ce, "chunks": len(chunks)}
