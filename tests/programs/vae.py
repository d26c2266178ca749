"""vae style: a variational autoencoder on soft (grey-level) images, its loss the
reconstruction BCE (summed) plus a KL term written out by hand, Adam, one epoch loop."""

import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed(0)
protos = torch.rand(4, 1, 8, 8)  # four "digits" in grey levels: BCE(x, x) > 0
images = (protos[torch.randint(0, 4, (64,))] + 0.05 * torch.randn(64, 1, 8, 8)).clamp(0, 1)
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images), batch_size=16, shuffle=True)


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(64, 128), nn.Linear(128, 8), nn.Linear(128, 8)
        self.fc3, self.fc4 = nn.Linear(8, 128), nn.Linear(128, 64)

    def forward(self, x):
        h = F.relu(self.fc1(x.view(-1, 64)))
        mu, logvar = self.fc21(h), self.fc22(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z)))), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 64), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


model = VAE()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
for _epoch in range(400):
    model.train()
    for (data,) in loader:
        optimizer.zero_grad()
        recon, mu, logvar = model(data)
        loss = loss_function(recon, data, mu, logvar)
        loss.backward()
        optimizer.step()
