"""A local Kubernetes API server for the kubernetes runner's tests (see server.py)."""

from .server import FakeKube

__all__ = ["FakeKube"]
