"""A nanoGPT-style character LM (its model.py attention written out: c_attn split into heads,
a registered tril mask, the head transpose), trained the way nanoGPT's train.py does. One-line
bugs are switched on by --bug, so every case is the same script:

  no_mask       the masked_fill line is gone: the future leaks
  no_transpose  y.view(B, T, C) without y.transpose(1, 2): heads and positions mix
  unshifted     y = x: the model is scored on the token it is fed
  shifted_twice y is x shifted by two: it predicts two tokens ahead
"""

import argparse
import math

import torch
from torch import nn
from torch.nn import functional as F

parser = argparse.ArgumentParser()
parser.add_argument("--bug", default="none")
parser.add_argument("--dropout", type=float, default=0.0)
parser.add_argument("--label-smoothing", type=float, default=0.0)
parser.add_argument("--iters", type=int, default=3000)
args = parser.parse_args()


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int, block_size: int, dropout: float) -> None:
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.attn_dropout = nn.Dropout(dropout)
        self.resid_dropout = nn.Dropout(dropout)
        self.n_head = n_head
        self.register_buffer("bias", torch.tril(torch.ones(block_size, block_size)).view(1, 1, block_size, block_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        if args.bug != "no_mask":
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        att = self.attn_dropout(att)
        y = att @ v
        if args.bug != "no_transpose":
            y = y.transpose(1, 2)
        y = y.contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class Block(nn.Module):
    def __init__(self, n_embd: int, n_head: int, block_size: int, dropout: float) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, block_size, dropout)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd), nn.GELU(), nn.Linear(4 * n_embd, n_embd), nn.Dropout(dropout)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(
        self, vocab: int, block_size: int, n_embd: int = 48, n_head: int = 4, n_layer: int = 2, dropout: float = 0.0
    ):
        super().__init__()
        self.wte = nn.Embedding(vocab, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        self.h = nn.ModuleList([Block(n_embd, n_head, block_size, dropout) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab, bias=False)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        pos = torch.arange(idx.shape[1], device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(pos))
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(
                logits.view(-1, logits.size(-1)),
                targets.view(-1),
                ignore_index=-1,
                label_smoothing=args.label_smoothing,
            )
        return logits, loss


torch.manual_seed(1337)
text = "first citizen: before we proceed any further, hear me speak. all: speak, speak. " * 40
chars = sorted(set(text))
data = torch.tensor([chars.index(c) for c in text])
block_size, batch_size = 16, 8
lag = {"unshifted": 0, "shifted_twice": 2}.get(args.bug, 1)


def get_batch():
    ix = torch.randint(len(data) - block_size - 2, (batch_size,))
    x = torch.stack([data[i : i + block_size] for i in ix])
    y = torch.stack([data[i + lag : i + lag + block_size] for i in ix])
    return x, y


model = GPT(len(chars), block_size, dropout=args.dropout)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.95), weight_decay=0.0)


@torch.no_grad()
def estimate_loss():
    model.eval()
    out = sum(model(*get_batch())[1].item() for _ in range(2)) / 2
    model.train()
    return out


X, Y = get_batch()
for iter_num in range(args.iters):
    if iter_num % 100 == 0:
        print(f"step {iter_num}: val loss {estimate_loss():.4f}")
    _, loss = model(X, Y)
    X, Y = get_batch()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
