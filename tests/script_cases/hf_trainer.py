"""Hugging Face ``Trainer`` scripts as the HF docs write them, on tiny randomly initialised
models (nothing downloaded) with their default dropout (0.1) left on:

  --model gpt2       causal LM, labels = input_ids (the model shifts them itself)
  --model bert-mlm   masked LM: 15 % of positions masked, labels -100 elsewhere
  --model bert-cls   sequence classification

and the one-line bugs --bug shifted_twice (labels shifted by the script too) and
--bug all_ignored (every label -100)."""

import argparse
import tempfile

import torch
from torch.utils.data import Dataset
from transformers import (
    BertConfig,
    BertForMaskedLM,
    BertForSequenceClassification,
    GPT2Config,
    GPT2LMHeadModel,
    Trainer,
    TrainingArguments,
)

parser = argparse.ArgumentParser()
parser.add_argument("--model", default="gpt2")
parser.add_argument("--bug", default="none")
args = parser.parse_args()
VOCAB, LENGTH, MASK = 64, 16, 1


class Tokens(Dataset):
    def __init__(self, n: int) -> None:
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(2, VOCAB, (n, LENGTH), generator=g)
        self.masked = torch.rand(n, LENGTH, generator=g) < 0.15
        self.classes = torch.randint(0, 3, (n,), generator=g)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        ids = self.ids[i]
        if args.model == "bert-mlm":
            labels = torch.where(self.masked[i], ids, -100)
            return {"input_ids": torch.where(self.masked[i], MASK, ids), "labels": labels}
        if args.model == "bert-cls":
            return {"input_ids": ids, "labels": self.classes[i]}
        labels = ids.clone()
        if args.bug == "shifted_twice":
            labels = torch.cat([ids[1:], torch.tensor([-100])])
        if args.bug == "all_ignored":
            labels = torch.full_like(ids, -100)
        return {"input_ids": ids, "labels": labels}


def build() -> torch.nn.Module:
    if args.model == "gpt2":
        return GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=2, n_embd=32, vocab_size=VOCAB, n_positions=32))
    config = BertConfig(
        vocab_size=VOCAB, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, num_labels=3
    )
    return BertForMaskedLM(config) if args.model == "bert-mlm" else BertForSequenceClassification(config)


with tempfile.TemporaryDirectory() as out:
    training_args = TrainingArguments(
        output_dir=out,
        max_steps=1000,
        per_device_train_batch_size=8,
        learning_rate=1e-2 if args.model == "gpt2" else 3e-3,
        lr_scheduler_type="constant",
        logging_steps=100,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        dataloader_num_workers=0,
        seed=0,
    )
    Trainer(model=build(), args=training_args, train_dataset=Tokens(64)).train()
