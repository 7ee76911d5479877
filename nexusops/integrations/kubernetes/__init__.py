"""Cluster adapter: what the runbook does with kubectl, through the Kubernetes API.

Use :class:`KubernetesClient.from_settings` and its methods; errors are those of
``nexusops.integrations.errors`` plus :mod:`.errors`.
"""

from .client import (
    HpaInfo,
    KubernetesClient,
    PodEvent,
    PodSummary,
    Revision,
    ScaleResult,
    UndoResult,
)

__all__ = [
    "HpaInfo",
    "KubernetesClient",
    "PodEvent",
    "PodSummary",
    "Revision",
    "ScaleResult",
    "UndoResult",
]
