"""One PyTorch Lightning overfit run on a bundled example, as its own process (the way a
team would run `Trainer(overfit_batches=1, max_steps=N)` as an overfit check): same model,
batch, loss and optimizer as the gate's task. Prints nothing but the final loss."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("entry")
    ap.add_argument("--steps", type=int, default=500)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    import lightning as L
    import torch
    from torch.utils.data import DataLoader

    from gate.harness.loop import build_optimizer
    from gate.harness.task import load_factory, normalize

    torch.manual_seed(0)
    task = normalize(load_factory(str(ROOT / args.entry))(), args.entry)

    class Module(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.model = task.model

        def training_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
            return task.loss(self.model, batch)

        def configure_optimizers(self):  # type: ignore[no-untyped-def]
            return build_optimizer(task.optimizer, self.model)

    loader = DataLoader([task.batch], batch_size=None)  # the one fixed batch
    trainer = L.Trainer(
        overfit_batches=1,
        max_steps=args.steps,
        accelerator="auto",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(Module(), loader)
    print(float(trainer.callback_metrics.get("loss", torch.tensor(float("nan")))))


if __name__ == "__main__":
    main()
