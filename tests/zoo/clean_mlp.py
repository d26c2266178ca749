"""Healthy: a small MLP classifier (twin of the gradient, update and sign bugs)."""

from zoo_common import classification, mlp


def make_task():
    return classification(mlp())
