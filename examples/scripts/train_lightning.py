"""A PyTorch Lightning script (LightningModule + Trainer.fit) gated unmodified:
Lightning iterates a torch DataLoader and calls loss.backward()/optimizer.step() inside
its loop, which is all the gate's script mode instruments.

    overfit-gate run -- python examples/scripts/train_lightning.py
"""

import argparse

import lightning as L
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset


class LitClassifier(L.LightningModule):
    def __init__(self, features: int = 20, classes: int = 5, lr: float = 3e-3) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(features, 64), nn.ReLU(), nn.Linear(64, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", F.cross_entropy(self(x), y))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-epochs", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()

    L.seed_everything(7)
    x, y = torch.randn(256, 20), torch.randint(0, 5, (256,))
    train = DataLoader(TensorDataset(x[:192], y[:192]), batch_size=args.batch_size, shuffle=True)
    val = DataLoader(TensorDataset(x[192:], y[192:]), batch_size=args.batch_size)
    trainer = L.Trainer(
        max_epochs=args.max_epochs,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(LitClassifier(), train, val)


if __name__ == "__main__":
    main()
