"""What task and script mode set up alike before training: the progress log, the seeds, the
device."""

from __future__ import annotations

import random

import torch


def log(line: str) -> None:
    print(line, flush=True)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    try:
        import numpy as np
    except ImportError:  # numpy is optional in the training environment
        return
    np.random.seed(seed % 2**32)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} was asked for but CUDA is not available (torch {torch.__version__})")
    return dev
