"""mnist_forward_forward style: each layer trains on a local loss with its own optimizer, and
calls its own forward() directly: no model is ever called as a whole."""

import torch
from torch import nn

torch.manual_seed(0)


class Layer(nn.Linear):
    def __init__(self, i, o):
        super().__init__(i, o)
        self.opt = torch.optim.Adam(self.parameters(), lr=0.03)

    def forward(self, x):
        return torch.relu(torch.mm(x / (x.norm(2, 1, keepdim=True) + 1e-4), self.weight.T) + self.bias)

    def train_layer(self, x_pos, x_neg):
        for _ in range(200):
            g_pos, g_neg = self.forward(x_pos).pow(2).mean(1), self.forward(x_neg).pow(2).mean(1)
            loss = torch.log1p(torch.exp(torch.cat([-g_pos + 2.0, g_neg - 2.0]))).mean()
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
        return self.forward(x_pos).detach(), self.forward(x_neg).detach()


layers = [Layer(20, 32), Layer(32, 32)]
h_pos, h_neg = torch.randn(64, 20) + 1, torch.randn(64, 20) - 1
for layer in layers:
    h_pos, h_neg = layer.train_layer(h_pos, h_neg)
