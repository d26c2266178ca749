"""Tasks for the docker runner's tests: each leaves evidence of the container it ran in."""

import json
import os

import torch
from broken import _ce, _data, _mlp  # the core's broken tasks sit beside this file in the workspace
from torch import nn


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
    return {"model": _mlp(), "batch": _data(), "loss": _ce, "optimizer": lambda p: torch.optim.Adam(p, lr=0.02)}


def hog():
    """Touches far more memory than the test's container limit: the kernel OOM-kills it."""
    chunks = [torch.ones(64 * 1024 * 1024, dtype=torch.uint8) for _ in range(64)]  # 4 GiB
    return {"model": nn.Linear(8, 3), "batch": _data(), "loss": _ce, "chunks": len(chunks)}
