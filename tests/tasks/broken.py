"""Deliberately broken tasks for the core end-to-end tests (the verdict, exit codes)."""

import math
import time

import torch
from torch import nn
from torch.nn import functional as F


def _data():
    torch.manual_seed(0)
    return torch.randn(16, 8), torch.randint(0, 3, (16,))


def _ce(model, batch):
    return F.cross_entropy(model(batch[0]), batch[1])


def _mlp():
    return nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))


def healthy():
    return {"model": _mlp(), "batch": _data(), "loss": _ce, "optimizer": lambda p: torch.optim.Adam(p, lr=0.02)}


def lr_zero():
    return {"model": nn.Linear(8, 3), "batch": _data(), "loss": _ce, "optimizer": lambda p: torch.optim.SGD(p, lr=0.0)}


def sign_flipped():
    return {"model": nn.Linear(8, 3), "batch": _data(), "loss": lambda m, b: -_ce(m, b)}


def mse_sign_flipped():
    # Starts positive (so the first loss is above the floor) and runs off below zero.
    x, _ = _data()
    return {
        "model": nn.Linear(8, 1),
        "batch": (x, torch.ones(16, 1)),
        "loss": lambda m, b: 5.0 - (m(b[0]) - b[1]).pow(2).mean(),
        "optimizer": lambda p: torch.optim.Adam(p, lr=0.05),
    }


def nan_loss():
    def loss(model, batch):
        ce = _ce(model, batch)
        # A hand-rolled term that turns NaN once the model gets confident (log of a negative).
        return ce + 0.0 * torch.log(ce - 0.3)

    return {"model": _mlp(), "batch": _data(), "loss": loss, "optimizer": lambda p: torch.optim.Adam(p, lr=0.02)}


def diverges():
    return {
        "model": nn.Linear(8, 3),
        "batch": (_data()[0] * 100, _data()[1]),
        "loss": _ce,
        "optimizer": lambda p: torch.optim.SGD(p, lr=50.0),
    }


def raises():
    def loss(model, batch):
        raise ValueError("shape mismatch in my_loss: expected [16, 3], got [16, 4]")

    return {"model": nn.Linear(8, 3), "batch": _data(), "loss": loss}


def hangs():
    def loss(model, batch):
        time.sleep(3600)

    return {"model": nn.Linear(8, 3), "batch": _data(), "loss": loss}


def missing_loss():
    return {"model": nn.Linear(8, 3), "batch": _data()}


def detached_loss():
    return {"model": nn.Linear(8, 3), "batch": _data(), "loss": lambda m, b: _ce(m, b).detach()}


def _smoothed_ce_floor(eps, k):
    # The entropy of the smoothed target distribution: the lowest cross-entropy possible.
    p_true, p_other = 1 - eps + eps / k, eps / k
    return -(p_true * math.log(p_true) + (k - 1) * p_other * math.log(p_other))


def with_floor():
    # Label smoothing: the best achievable loss is well above zero.
    def loss(model, batch):
        return F.cross_entropy(model(batch[0]), batch[1], label_smoothing=0.2)

    return {
        "model": nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3)),
        "batch": _data(),
        "loss": loss,
        "loss_floor": _smoothed_ce_floor(0.2, 3),
        "optimizer": lambda p: torch.optim.Adam(p, lr=0.02),
    }


def oom():
    def loss(model, batch):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    return {"model": nn.Linear(8, 3), "batch": _data(), "loss": loss}
