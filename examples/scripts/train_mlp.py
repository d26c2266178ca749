"""A plain PyTorch training script, the kind the gate runs unmodified in script mode:
argparse, a DataLoader loop, print logging, an LR scheduler, gradient clipping, an eval
pass under torch.no_grad() with model.train()/eval() switches, checkpoints.

    overfit-gate run -- python examples/scripts/train_mlp.py --epochs 20
"""

import argparse
import os
import tempfile

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

FEATURES, CLASSES = 20, 5


class MLP(nn.Module):
    def __init__(self, hidden: int = 64, dropout: float = 0.1) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(FEATURES, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, CLASSES),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def make_loaders(n: int, batch_size: int) -> tuple[DataLoader, DataLoader]:
    x = torch.randn(n, FEATURES)
    y = torch.randint(0, CLASSES, (n,))
    split = n * 3 // 4
    train = TensorDataset(x[:split], y[:split])
    val = TensorDataset(x[split:], y[split:])
    return DataLoader(train, batch_size=batch_size, shuffle=True), DataLoader(val, batch_size=batch_size)


@torch.no_grad()
def evaluate(model: nn.Module, loader: DataLoader) -> float:
    model.eval()
    total, count = 0.0, 0
    for x, y in loader:
        total += F.cross_entropy(model(x), y, reduction="sum").item()
        count += len(y)
    model.train()
    return total / max(count, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--samples", type=int, default=512)
    parser.add_argument("--ckpt-dir", default=os.path.join(tempfile.gettempdir(), "overfit-gate-example-ckpt"))
    parser.add_argument("--save-every", type=int, default=100)
    args = parser.parse_args()

    torch.manual_seed(1234)
    train_loader, val_loader = make_loaders(args.samples, args.batch_size)
    model = MLP()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    warmup = 10
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup))
    os.makedirs(args.ckpt_dir, exist_ok=True)

    step = 0
    for epoch in range(args.epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            if step % 50 == 0:
                print(f"epoch {epoch} step {step} loss {loss.item():.4f} lr {scheduler.get_last_lr()[0]:.2e}")
            if step % 25 == 0:
                print(f"  val loss {evaluate(model, val_loader):.4f}")
            if step and step % args.save_every == 0:
                torch.save({"model": model.state_dict(), "step": step}, os.path.join(args.ckpt_dir, "last.pt"))
            step += 1
        print(f"epoch {epoch} done, val loss {evaluate(model, val_loader):.4f}")


if __name__ == "__main__":
    main()
