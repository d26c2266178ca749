"""The kubernetes runner (docs/kubernetes.md). The official ``kubernetes`` client is imported
only when a run starts (``pip install 'overfit-gate[kubernetes]'``)."""

from __future__ import annotations

from gate.runners.kubernetes.runner import KubernetesRunner

__all__ = ["KubernetesRunner"]
