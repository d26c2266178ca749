"""Healthy: an LSTM language model (causal by construction, batch_first)."""

import torch
from torch import nn
from zoo_common import VOCAB, WIDTH, lm_task


class LSTMLM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(VOCAB, WIDTH)
        self.rnn = nn.LSTM(WIDTH, WIDTH, batch_first=True)
        self.head = nn.Linear(WIDTH, VOCAB)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(self.emb(idx))[0])


def make_task():
    task = lm_task(LSTMLM())
    task["optimizer"] = lambda params: torch.optim.Adam(params, lr=2e-2)
    return task
