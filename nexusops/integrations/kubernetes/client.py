"""The Kubernetes adapter: what the runbook asks of ``kubectl`` (sections 1.4, 2.3, 3.1,
Appendix A) in one namespace, returning plain dataclasses and dicts: no ``kubernetes`` model
object leaves this package.

One module per resource: :mod:`.pods`, :mod:`.rollouts` (deployments), :mod:`.scaling`
(replicas and autoscalers); :mod:`.connection` holds the configuration, the timeouts and the
conversion of vendor errors, and is the only module that imports ``kubernetes``.

To add one more operation: put it in the module of its resource (or a new one mixed in
below), validate every name with :mod:`.validation` first, make the request through
``self._json(what, api_method, ...)`` (it adds the timeouts and turns vendor errors into
ours), and return a dataclass or dict built from the JSON.
"""

from __future__ import annotations

from django.conf import settings

from .connection import DEFAULT_NAMESPACE
from .pods import PodOperations
from .rollouts import RolloutOperations
from .scaling import ScalingOperations


class KubernetesClient(PodOperations, RolloutOperations, ScalingOperations):
    """The cluster operations NexusOps runs in one namespace. Build it with :meth:`from_settings`.

    Every public method validates its names before any request and returns plain data.
    """

    @classmethod
    def from_settings(cls) -> KubernetesClient:
        verify = getattr(settings, "KUBERNETES_VERIFY_SSL", "")
        return cls(
            api_url=getattr(settings, "KUBERNETES_API_URL", "") or "",
            token=getattr(settings, "KUBERNETES_TOKEN", "") or "",
            verify_ssl=str(verify).strip().lower() not in ("0", "false", "no", "off"),
            kubeconfig=getattr(settings, "KUBECONFIG", "") or "",
            namespace=getattr(settings, "KUBERNETES_NAMESPACE", "") or DEFAULT_NAMESPACE,
        )
