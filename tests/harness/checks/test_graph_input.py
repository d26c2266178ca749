"""Graph inputs (nodes on dim 0 that depend on each other by design) against batches that only
happen to look like one: batch_independence must not skip a square batch of features or tokens."""

from __future__ import annotations

import torch

from gate.harness.checks.batch_independence import graph_input


def test_adjacencies_and_edge_indices_are_graph_inputs() -> None:
    g = torch.Generator().manual_seed(0)
    a = (torch.rand(50, 50, generator=g) < 0.1).float()
    a = (((a + a.t()) > 0).float() + torch.eye(50)).clamp(max=1)
    d = a.sum(1).rsqrt()
    normalized = d[:, None] * a * d[None, :]  # GCN's D^-1/2 (A + I) D^-1/2
    x = torch.randn(50, 16, generator=g)
    assert graph_input((x, normalized), 50) is not None
    assert graph_input((x, a.long()), 50) is not None
    assert graph_input((x, (a / a.sum(1, keepdim=True))), 50) is not None  # row-normalised, mostly zero
    assert graph_input((x, torch.randint(0, 50, (2, 300), generator=g)), 50) is not None
    assert graph_input((x, a.to_sparse()), 50) is not None


def test_square_batches_and_two_sequences_are_not_graphs() -> None:
    g = torch.Generator().manual_seed(0)
    assert graph_input((torch.randn(64, 64, generator=g),), 64) is None  # 64 samples x 64 features
    assert graph_input((torch.rand(32, 32, generator=g),), 32) is None  # dense, non-negative pixels
    assert graph_input((torch.randint(0, 1000, (32, 32), generator=g),), 32) is None  # 32 x 32 tokens
    assert graph_input((torch.randint(0, 1000, (2, 128), generator=g),), 2) is None  # two sequences
