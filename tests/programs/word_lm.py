"""word_language_model style: a sequence-first LSTM over (seq, batch) token ids, hidden state
carried between batches, and a shorter last batch at the end of each epoch."""

import torch
from torch import nn

torch.manual_seed(0)
ntokens, bsz, bptt = 20, 6, 5
data = torch.randint(0, ntokens, (40 * bsz,)).view(-1, bsz)  # (seq, batch): 40 rows


class RNNModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.rnn = nn.Embedding(ntokens, 16), nn.LSTM(16, 32)
        self.decoder = nn.Linear(32, ntokens)

    def forward(self, input, hidden):
        output, hidden = self.rnn(self.encoder(input), hidden)
        return torch.log_softmax(self.decoder(output), -1).view(-1, ntokens), hidden


def get_batch(source, i):
    seq_len = min(bptt, len(source) - 1 - i)
    return source[i : i + seq_len], source[i + 1 : i + 1 + seq_len].reshape(-1)


model = RNNModel()
criterion = nn.NLLLoss()
opt = torch.optim.Adam(model.parameters(), lr=0.01)
for _epoch in range(100):
    hidden = (torch.zeros(1, bsz, 32), torch.zeros(1, bsz, 32))
    for i in range(0, data.size(0) - 1, bptt):
        x, targets = get_batch(data, i)
        hidden = (hidden[0].detach(), hidden[1].detach())
        opt.zero_grad()
        output, hidden = model(x, hidden)
        loss = criterion(output, targets)
        loss.backward()
        opt.step()
