"""language_translation style: an nn.Transformer encoder-decoder fed (time, batch) token ids,
source and target of different lengths, the decoder input the target without its last token,
scored against the target without its first; masks passed positionally, as the example does.
``--no-mask``: the target mask is left out, so the decoder sees the future."""

import argparse
import math

import torch
from torch import nn

parser = argparse.ArgumentParser()
parser.add_argument("--no-mask", action="store_true")
args = parser.parse_args()

torch.manual_seed(0)
SRC_V, TGT_V, PAD, BOS = 24, 20, 1, 2


class Translator(nn.Module):
    def __init__(self, d=32):
        super().__init__()
        self.src_embedding, self.tgt_embedding = nn.Embedding(SRC_V, d), nn.Embedding(TGT_V, d)
        pos = torch.arange(64).unsqueeze(1) * torch.exp(-torch.arange(0, d, 2) * math.log(1e4) / d)
        self.pos: torch.Tensor
        self.register_buffer("pos", torch.cat([pos.sin(), pos.cos()], 1).unsqueeze(1))
        self.transformer = nn.Transformer(d, 2, 1, 1, 64, dropout=0.1)
        self.ff = nn.Linear(d, TGT_V)

    def forward(self, src, trg, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask, memory_key_padding_mask):
        s = self.src_embedding(src) + self.pos[: src.size(0)]
        t = self.tgt_embedding(trg) + self.pos[: trg.size(0)]
        out = self.transformer(
            s, t, src_mask, tgt_mask, None, src_padding_mask, tgt_padding_mask, memory_key_padding_mask
        )
        return self.ff(out)


def batches():
    for _ in range(40):
        src = torch.randint(3, SRC_V, (9, 16))
        tgt = torch.cat([torch.full((1, 16), BOS), (src[:7] % (TGT_V - 3)) + 3], 0)  # (8, batch)
        yield src, tgt


model = Translator()
loss_fn = nn.CrossEntropyLoss(ignore_index=PAD)
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
for _epoch in range(20):
    for src, tgt in batches():
        tgt_input = tgt[:-1, :]
        n = tgt_input.size(0)
        tgt_mask = None if args.no_mask else torch.triu(torch.full((n, n), float("-inf")), diagonal=1)
        src_mask = torch.zeros(src.size(0), src.size(0), dtype=torch.bool)
        src_pad, tgt_pad = (src == PAD).transpose(0, 1), (tgt_input == PAD).transpose(0, 1)
        logits = model(src, tgt_input, src_mask, tgt_mask, src_pad, tgt_pad, src_pad)
        opt.zero_grad()
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt[1:, :].reshape(-1))
        loss.backward()
        opt.step()
