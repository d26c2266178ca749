"""Sequence classification with the Hugging Face Trainer, written the way the HF docs'
text-classification tutorial writes it: tokenize the texts, DataCollatorWithPadding,
TrainingArguments, a Trainer subclass overriding compute_loss with class weights (the
docs' recipe for imbalanced labels), trainer.train(). The model is a tiny, randomly
initialised BertForSequenceClassification; the tokenizer is built locally."""

import argparse
import tempfile

import torch
from local_tokenizer import LABELS, TEXTS, build_tokenizer
from torch import nn
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    DataCollatorWithPadding,
    Trainer,
    TrainingArguments,
)


class WeightedTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        logits = outputs.get("logits")
        loss_fct = nn.CrossEntropyLoss(weight=torch.tensor([1.0, 1.5, 1.0], device=model.device))
        loss = loss_fct(logits.view(-1, self.model.config.num_labels), labels.view(-1))
        return (loss, outputs) if return_outputs else loss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max_steps", type=int, default=400)
    parser.add_argument("--learning_rate", type=float, default=2e-3)
    args = parser.parse_args()

    tokenizer = build_tokenizer(TEXTS)
    encodings = tokenizer(TEXTS, truncation=True)
    train_dataset = [
        {"input_ids": ids, "attention_mask": mask, "labels": label}
        for ids, mask, label in zip(encodings["input_ids"], encodings["attention_mask"], LABELS)
    ]
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=32,
        num_labels=3,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    with tempfile.TemporaryDirectory() as out:
        training_args = TrainingArguments(
            output_dir=out,
            learning_rate=args.learning_rate,
            per_device_train_batch_size=8,
            max_steps=args.max_steps,
            weight_decay=0.01,
            lr_scheduler_type="constant",
            logging_steps=50,
            save_strategy="no",
            report_to=[],
            use_cpu=True,
            disable_tqdm=True,
            seed=0,
        )
        trainer = WeightedTrainer(
            model=model,
            args=training_args,
            train_dataset=train_dataset,
            data_collator=DataCollatorWithPadding(tokenizer=tokenizer),
        )
        trainer.train()


if __name__ == "__main__":
    main()
