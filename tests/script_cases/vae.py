"""The VAE of pytorch/examples (vae/main.py) on MNIST-like soft images: reconstruction BCE
summed over pixels, plus the KL term written out by hand. Soft targets put a floor under the
BCE (BCE(t, t), the targets' own entropy), far above 1 % of the first loss.

``--digits``: images drawn from four grey-level prototypes, as real digits share their shapes
(the default is incompressible random pixels, which no 8-dim latent can encode)."""

import sys

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset


class VAE(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc21 = nn.Linear(32, 8)
        self.fc22 = nn.Linear(32, 8)
        self.fc3 = nn.Linear(8, 32)
        self.fc4 = nn.Linear(32, 64)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 64))
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 64), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


torch.manual_seed(1)
images = torch.rand(256, 1, 8, 8) ** 3  # soft pixel intensities, mostly dark
if "--digits" in sys.argv:
    protos = torch.rand(4, 1, 8, 8)
    images = (protos[torch.randint(0, 4, (256,))] + 0.05 * torch.randn(256, 1, 8, 8)).clamp(0, 1)
loader = DataLoader(TensorDataset(images), batch_size=32, shuffle=True)
model = VAE()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for _epoch in range(1, 200):
    model.train()
    for (data,) in loader:
        optimizer.zero_grad()
        recon, mu, logvar = model(data)
        loss = loss_function(recon, data, mu, logvar)
        loss.backward()
        optimizer.step()
