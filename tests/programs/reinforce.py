"""reinforcement_learning/reinforce.py style, with a toy environment instead of gym:
REINFORCE's loss is -log_prob * normalised return, positive one episode, negative the next."""

import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical

torch.manual_seed(0)
rng = np.random.default_rng(0)


class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.affine1, self.affine2 = nn.Linear(4, 32), nn.Linear(32, 2)
        self.saved_log_probs, self.rewards = [], []

    def forward(self, x):
        return torch.softmax(self.affine2(torch.relu(self.affine1(x))), dim=1)


policy = Policy()
optimizer = torch.optim.Adam(policy.parameters(), lr=1e-2)
eps = np.finfo(np.float32).eps.item()
for _episode in range(300):
    state = rng.normal(size=4).astype(np.float32)
    for _t in range(int(rng.integers(5, 30))):
        probs = policy(torch.from_numpy(state).float().unsqueeze(0))
        m = Categorical(probs)
        action = m.sample()
        policy.saved_log_probs.append(m.log_prob(action))
        state = rng.normal(size=4).astype(np.float32)
        policy.rewards.append(float(action.item() == (state[0] > 0)))
    R, rewards_to_go = 0.0, list[float]()
    for r in policy.rewards[::-1]:
        R = r + 0.99 * R
        rewards_to_go.insert(0, R)
    returns = torch.tensor(rewards_to_go)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    loss = torch.cat([-lp * R for lp, R in zip(policy.saved_log_probs, returns, strict=False)]).sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    del policy.rewards[:], policy.saved_log_probs[:]
