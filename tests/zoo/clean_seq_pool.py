"""Healthy: a sequence classifier that moves time to the front with transpose, then pools
(twin of bug_batch_view)."""

import torch
from torch import nn
from torch.nn import functional as F

N, T, D, C = 8, 6, 5, 3


class SeqPool(nn.Module):
    def __init__(self, mix_bug: bool = False) -> None:
        super().__init__()
        self.mix_bug = mix_bug
        self.proj = nn.Linear(D, 32)
        self.head = nn.Linear(32, C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.proj(x))  # (N, T, H)
        b, t, w = h.shape
        # time-major for the pooling below; .view reinterprets memory and mixes samples
        h = h.view(t, b, w) if self.mix_bug else h.transpose(0, 1)
        return self.head(h.mean(dim=0))


def make_task(mix_bug: bool = False):
    x, y = torch.randn(N, T, D), torch.randint(0, C, (N,))
    return {
        "model": SeqPool(mix_bug),
        "batch": (x, y),
        "loss": lambda m, b: F.cross_entropy(m(b[0]), b[1]),
        "optimizer": lambda params: torch.optim.Adam(params, lr=1e-2),
    }
