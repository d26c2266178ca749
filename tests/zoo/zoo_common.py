"""Tiny models shared by the bug zoo. Each zoo file is one task (``make_task``): a bug
class, or the healthy twin it must not be confused with. Sizes are minimal so a run
takes a fraction of a second on a CPU."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

N, FEATURES, CLASSES = 16, 8, 4
VOCAB, CONTEXT, WIDTH = 64, 8, 32


def mlp(n_in: int = FEATURES, hidden: int = 32, n_out: int = CLASSES) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_out))


def classification(model: nn.Module, **extra: Any) -> dict[str, Any]:
    """A classification task on random features (the model sees ``batch[0]``)."""
    x, y = torch.randn(N, FEATURES), torch.randint(0, CLASSES, (N,))
    task: dict[str, Any] = {
        "model": model,
        "batch": (x, y),
        "loss": lambda m, b: F.cross_entropy(m(b[0]), b[1]),
        "optimizer": lambda params: torch.optim.Adam(params, lr=1e-2),
    }
    return task | extra


class TinyLM(nn.Module):
    """One-block causal transformer LM; ``causal=False`` drops the attention mask (a bug)."""

    def __init__(self, causal: bool = True) -> None:
        super().__init__()
        self.causal = causal
        self.tok = nn.Embedding(VOCAB, WIDTH)
        self.pos = nn.Embedding(CONTEXT, WIDTH)
        self.ln = nn.LayerNorm(WIDTH)
        self.attn = nn.MultiheadAttention(WIDTH, 2, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(WIDTH, 2 * WIDTH), nn.GELU(), nn.Linear(2 * WIDTH, WIDTH))
        self.head = nn.Linear(WIDTH, VOCAB)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        t = idx.shape[1]
        x = self.tok(idx) + self.pos(torch.arange(t, device=idx.device))
        mask = torch.triu(torch.ones(t, t, dtype=torch.bool, device=idx.device), diagonal=1) if self.causal else None
        h = self.ln(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return self.head(x + self.mlp(x))


def next_token_loss(model: nn.Module, batch: torch.Tensor) -> torch.Tensor:
    logits = model(batch[:, :-1])
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))


def lm_task(model: nn.Module, loss: Any = next_token_loss) -> dict[str, Any]:
    return {
        "model": model,
        "batch": torch.randint(0, VOCAB, (8, CONTEXT + 1)),
        "loss": loss,
        "forward": lambda m, b: m(b[:, :-1]),
        "causal_dim": 1,
        "optimizer": lambda params: torch.optim.AdamW(params, lr=1e-2),
    }
