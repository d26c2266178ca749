"""Bug (input_dependence): the targets are the model's own predictions, so the loss goes
to zero whatever the input."""

import torch
from torch.nn import functional as F
from zoo_common import classification, mlp


def self_labelled(model, batch):
    logits = model(batch[0])
    return F.cross_entropy(logits, logits.argmax(dim=-1).detach())


def make_task():
    return classification(mlp(), loss=self_labelled, optimizer=lambda params: torch.optim.Adam(params, lr=1e-2))
