"""A small stand-in for the Kubernetes API server, seeded with the NEXUS production namespace.

It speaks the real REST protocol for what ``nexusops.integrations.kubernetes`` uses, so the
real ``kubernetes`` client talks to it over HTTP: list/get with ``labelSelector`` and
``fieldSelector``, PATCH as JSON patch, merge patch and strategic merge patch (treated as a merge
patch), the ``scale`` subresource, pod logs (text/plain), pod deletion and HPAs (autoscaling/v2).

One controller is simulated because rollbacks depend on it: when a deployment's pod template
changes (and the deployment is not paused) the owned ReplicaSet whose template matches is
re-used and gets the next revision number, or a new ReplicaSet is created with it; old
ReplicaSets are scaled to zero and pods follow their ReplicaSet. (``kmock`` was considered: it
is an asyncio mock with a request DSL and has no such controllers, so it would not save code.)

Test hooks: ``GET /_standin/state`` (objects and the requests received), ``GET
/_standin/received`` (a list of the requests received, oldest first, like every stand-in),
``POST /_standin/reset``.
Run it alone with ``python -m nexusops.standins.kubernetes --port 8001``.

Modules: :mod:`.protocol` (routes, errors, patches, selectors), :mod:`.store` (objects and
reads), :mod:`.workloads` (the controller and the verbs that change objects), :mod:`.cluster`
(the seeded namespace), :mod:`.server` (HTTP and the test hooks).

To serve one more resource: add its plural to ``ROUTES`` (path, apiVersion, kind) and, if
something must happen when it changes, a branch in ``Workloads._after_change``.
"""

from __future__ import annotations

from .cluster import Cluster
from .protocol import NAMESPACE, ApiError, json_patch, merge_patch
from .server import StandinServer, main, make_server

__all__ = [
    "NAMESPACE",
    "ApiError",
    "Cluster",
    "StandinServer",
    "json_patch",
    "main",
    "make_server",
    "merge_patch",
]
