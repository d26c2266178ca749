"""pytorch/examples regression style: hand-written SGD (no torch.optim), fresh (x, f(x)) pairs
every step, stops once its own loss is small."""

from itertools import count

import torch
import torch.nn.functional as F

torch.manual_seed(0)
W_target, b_target = torch.randn(3, 1), torch.randn(1)


def get_batch(batch_size=16):
    x = torch.randn(batch_size, 3)
    return x, x.mm(W_target) + b_target.item()


fc = torch.nn.Linear(3, 1)
for batch_idx in count(1):  # noqa: B007  (printed after the loop, as in the example)
    batch_x, batch_y = get_batch()
    fc.zero_grad()
    output = F.mse_loss(fc(batch_x), batch_y)
    loss = output.item()
    output.backward()
    for param in fc.parameters():
        param.data.add_(-0.1 * param.grad)  # type: ignore[operator]  # as the example writes it
    if loss < 1e-6:
        break
print(f"Loss: {loss:.6f} after {batch_idx} batches")
