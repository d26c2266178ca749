"""Bug (parameters_update): the optimizer was built for another model instance."""

import torch
from zoo_common import classification, mlp


def make_task():
    model = mlp()
    stale = mlp()  # e.g. the model was rebuilt after the optimizer was made
    return classification(model, optimizer=torch.optim.Adam(stale.parameters(), lr=1e-2))
