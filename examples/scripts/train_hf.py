"""A Hugging Face ``Trainer`` script gated unmodified: a tiny, randomly initialised GPT-2
built from a config in code (nothing is downloaded) and a tokenizer-free dataset of token
ids. The Trainer iterates a torch DataLoader and calls backward/step, which is what the
gate's script mode instruments.

    overfit-gate run -- python examples/scripts/train_hf.py
"""

import argparse
import tempfile

import torch
from torch.utils.data import Dataset
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments


class RandomTokens(Dataset):
    def __init__(self, n: int, length: int, vocab: int) -> None:
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, vocab, (n, length), generator=g)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.ids[i], "labels": self.ids[i]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-steps", type=int, default=1000)
    parser.add_argument("--lr", type=float, default=1e-2)
    args = parser.parse_args()

    config = GPT2Config(
        n_layer=1, n_head=2, n_embd=32, vocab_size=64, n_positions=32, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0
    )
    model = GPT2LMHeadModel(config)
    with tempfile.TemporaryDirectory() as out:
        training_args = TrainingArguments(
            output_dir=out,
            max_steps=args.max_steps,
            per_device_train_batch_size=8,
            learning_rate=args.lr,
            lr_scheduler_type="constant",
            logging_steps=50,
            save_strategy="no",
            report_to=[],
            use_cpu=True,
            disable_tqdm=True,
            dataloader_num_workers=0,
            seed=0,
        )
        trainer = Trainer(model=model, args=training_args, train_dataset=RandomTokens(64, 16, 64))
        trainer.train()


if __name__ == "__main__":
    main()
