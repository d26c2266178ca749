"""word_language_model style, Transformer variant: an ``nn.TransformerEncoder`` over
sequence-first (seq, batch) token ids with a square subsequent mask, the output flattened to
(seq * batch, ntokens) for ``nn.NLLLoss`` against the next row. ``--no-mask`` is the silent
bug: the same model without its mask sees the future."""

import argparse
import math

import torch
from torch import nn

parser = argparse.ArgumentParser()
parser.add_argument("--no-mask", action="store_true")
parser.add_argument("--epochs", type=int, default=100)
args = parser.parse_args()

torch.manual_seed(0)
ntokens, bsz, bptt = 24, 6, 8
data = torch.randint(0, ntokens, (33 * bsz,)).view(-1, bsz)  # (seq, batch)


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=64):
        super().__init__()
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe.unsqueeze(0).transpose(0, 1))

    def forward(self, x):
        return x + self.get_buffer("pe")[: x.size(0), :]


class TransformerModel(nn.Module):
    def __init__(self, ninp=32, nhead=2, nhid=64, nlayers=2):
        super().__init__()
        self.src_mask = None
        self.pos_encoder = PositionalEncoding(ninp)
        layer = nn.TransformerEncoderLayer(ninp, nhead, nhid, dropout=0.1)
        self.encoder = nn.TransformerEncoder(layer, nlayers, enable_nested_tensor=False)
        self.input_emb = nn.Embedding(ntokens, ninp)
        self.ninp = ninp
        self.decoder = nn.Linear(ninp, ntokens)

    def forward(self, src, has_mask=True):
        if has_mask:
            if self.src_mask is None or self.src_mask.size(0) != len(src):
                self.src_mask = torch.log(torch.tril(torch.ones(len(src), len(src))))
        else:
            self.src_mask = None
        src = self.pos_encoder(self.input_emb(src) * math.sqrt(self.ninp))
        output = self.encoder(src, mask=self.src_mask)
        return torch.log_softmax(self.decoder(output), dim=-1)


def get_batch(source, i):
    seq_len = min(bptt, len(source) - 1 - i)
    return source[i : i + seq_len], source[i + 1 : i + 1 + seq_len].reshape(-1)


model = TransformerModel()
criterion = nn.NLLLoss()
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
for _epoch in range(args.epochs):
    model.train()
    for i in range(0, data.size(0) - 1, bptt):
        x, targets = get_batch(data, i)
        opt.zero_grad()
        output = model(x, has_mask=not args.no_mask).view(-1, ntokens)
        loss = criterion(output, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        opt.step()
