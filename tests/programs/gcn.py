"""gcn style: full-graph training, nodes on dim 0, a sparse normalised adjacency."""

import torch
from torch import nn

torch.manual_seed(0)
V, F_in, C = 60, 8, 3
labels = torch.randint(0, C, (V,))
features = torch.eye(C)[labels].repeat(1, 3)[:, :F_in] + 0.3 * torch.randn(V, F_in)
edges = torch.randint(0, V, (2, 200))
adj = torch.sparse_coo_tensor(edges, torch.ones(200), (V, V)).coalesce()
adj = (adj + torch.eye(V).to_sparse()).coalesce()
deg = torch.sparse.sum(adj, 1).to_dense().rsqrt()
adj = torch.sparse_coo_tensor(adj.indices(), deg[adj.indices()[0]] * adj.values() * deg[adj.indices()[1]], (V, V))


class GCN(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1, self.l2 = nn.Linear(F_in, 64), nn.Linear(64, C)

    def forward(self, x, adj):
        return torch.log_softmax(torch.sparse.mm(adj, self.l2(torch.relu(torch.sparse.mm(adj, self.l1(x))))), 1)


model = GCN()
opt = torch.optim.Adam(model.parameters(), lr=0.03, weight_decay=5e-4)  # as pytorch/examples' gcn
criterion = nn.NLLLoss()
train = torch.arange(V) < 40
for _epoch in range(1000):
    model.train()
    opt.zero_grad()
    out = model(features, adj)
    loss = criterion(out[train], labels[train])
    loss.backward()
    opt.step()
