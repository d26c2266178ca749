"""Healthy: a one-block causal transformer LM with next-token targets."""

from zoo_common import TinyLM, lm_task


def make_task():
    return lm_task(TinyLM(causal=True))
