"""Shim for the gate corpus runs: torchvision cannot be imported here. Only the data source
is replaced (tiny synthetic datasets with MNIST/CIFAR shapes), plus the few transforms used."""

from . import datasets, models, transforms, utils  # noqa: F401
