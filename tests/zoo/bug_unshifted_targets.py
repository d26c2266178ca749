"""Bug (causality): targets not shifted: position t is scored against the token it is fed."""

from torch.nn import functional as F
from zoo_common import TinyLM, lm_task


def copy_loss(model, batch):
    inputs = batch[:, :-1]
    logits = model(inputs)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), inputs.reshape(-1))


def make_task():
    return lm_task(TinyLM(causal=True), loss=copy_loss)
