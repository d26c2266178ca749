"""A LightningModule in the style of the Lightning docs, with --bug no_return: the
training_step computes and logs the loss but forgets `return loss`, so Lightning skips the
backward and the optimizer step without a word."""

import argparse

import lightning as L
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

parser = argparse.ArgumentParser()
parser.add_argument("--bug", default="none")
args = parser.parse_args()


class LitClassifier(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        if args.bug != "no_return":
            return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=3e-3)


L.seed_everything(7)
x, y = torch.randn(192, 20), torch.randint(0, 5, (192,))
trainer = L.Trainer(
    max_epochs=30,
    accelerator="cpu",
    devices=1,
    logger=False,
    enable_checkpointing=False,
    enable_progress_bar=False,
    enable_model_summary=False,
)
trainer.fit(LitClassifier(), DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True))
