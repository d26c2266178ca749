"""Bug (batch_independence): ``.view(t, b, w)`` where ``.transpose(0, 1)`` was meant
mixes samples; the loss still goes to zero."""

import clean_seq_pool


def make_task():
    return clean_seq_pool.make_task(mix_bug=True)
