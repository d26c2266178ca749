"""Bug (parameters_update): a learning rate of 0 (a scheduler/config mix-up)."""

import torch
from zoo_common import classification, mlp


def make_task():
    return classification(mlp(), optimizer=lambda params: torch.optim.Adam(params, lr=0.0))
