"""Bug (causality): the attention mask is missing, so each position sees the future."""

from zoo_common import TinyLM, lm_task


def make_task():
    return lm_task(TinyLM(causal=False))
