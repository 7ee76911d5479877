"""Cluster adapter: what the runbook does with kubectl, through the Kubernetes API.

Use :class:`KubernetesClient.from_settings` and its methods; errors are those of
``nexusops.integrations.errors`` plus :mod:`.errors`.
"""

from .client import KubernetesClient
from .pods import PodEvent, PodSummary
from .rollouts import Revision, UndoResult
from .scaling import HpaInfo, ScaleResult

__all__ = [
    "HpaInfo",
    "KubernetesClient",
    "PodEvent",
    "PodSummary",
    "Revision",
    "ScaleResult",
    "UndoResult",
]
