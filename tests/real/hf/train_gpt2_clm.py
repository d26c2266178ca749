"""Causal language modelling with the Hugging Face Trainer, the way the HF docs' language
modelling tutorial writes it: tokenize, concatenate and cut into blocks (group_texts),
``labels`` a copy of ``input_ids`` (the model shifts them internally), Trainer.train().
A tiny, randomly initialised GPT2LMHeadModel; the tokenizer is built locally."""

import argparse
import tempfile

import torch
from local_tokenizer import TEXTS, build_tokenizer
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments, default_data_collator

BLOCK_SIZE = 16


def group_texts(ids):
    concatenated = [t for seq in ids for t in seq]
    total = (len(concatenated) // BLOCK_SIZE) * BLOCK_SIZE
    blocks = [concatenated[i : i + BLOCK_SIZE] for i in range(0, total, BLOCK_SIZE)]
    return [{"input_ids": b, "labels": b.copy()} for b in blocks]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max_steps", type=int, default=400)
    parser.add_argument("--learning_rate", type=float, default=3e-3)
    args = parser.parse_args()

    tokenizer = build_tokenizer(TEXTS)
    lm_dataset = group_texts(tokenizer(TEXTS * 2)["input_ids"])
    config = GPT2Config(
        vocab_size=tokenizer.vocab_size,
        n_positions=BLOCK_SIZE,
        n_embd=32,
        n_layer=1,
        n_head=2,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    torch.manual_seed(0)
    model = GPT2LMHeadModel(config)
    with tempfile.TemporaryDirectory() as out:
        training_args = TrainingArguments(
            output_dir=out,
            learning_rate=args.learning_rate,
            per_device_train_batch_size=8,
            max_steps=args.max_steps,
            lr_scheduler_type="constant",
            logging_steps=50,
            save_strategy="no",
            report_to=[],
            use_cpu=True,
            disable_tqdm=True,
            seed=0,
        )
        trainer = Trainer(
            model=model, args=training_args, train_dataset=lm_dataset, data_collator=default_data_collator
        )
        trainer.train()


if __name__ == "__main__":
    main()
