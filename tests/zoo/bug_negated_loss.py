"""Bug (loss_direction): the criterion is negated, so the optimizer maximises it."""

from torch.nn import functional as F
from zoo_common import classification, mlp


def make_task():
    return classification(mlp(), loss=lambda m, b: -F.cross_entropy(m(b[0]), b[1]))
