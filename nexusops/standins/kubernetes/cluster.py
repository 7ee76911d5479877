"""The fake cluster as tests and the demo see it: the NEXUS production namespace, seeded."""

from __future__ import annotations

import copy
import datetime as dt
import random
import threading

from .protocol import NAMESPACE, ROUTES
from .workloads import Workloads

REGISTRY = "registry.nexus.internal/nexus"
# Seed: per deployment, the image tags of its ReplicaSets, oldest first (the last is current),
# the revision of the oldest, and pods to show in trouble: {pod index: (restarts, crashing)}.
SEED = {
    "api-gateway": (["v2.13.0", "v2.13.1", "v2.14.0"], 17, {0: (14, True), 2: (2, False)}),
    "user-service": (["v3.8.2", "v3.9.0", "v3.9.1", "v3.10.0"], 40, {1: (3, False)}),
    "auth-service": (["v1.21.0", "v1.21.1", "v1.22.0"], 8, {}),
    "content-service": (["v4.2.0", "v4.3.0", "v4.3.1"], 25, {}),
    "notification-service": (["v2.0.3", "v2.1.0", "v2.1.1"], 12, {2: (6, True)}),
    "billing-service": (["v1.4.0", "v1.4.1", "v1.5.0"], 5, {}),
}


class Cluster(Workloads):
    """The objects of one namespace-scoped fake cluster, behind one lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.objects: dict[str, dict[tuple[str, str], dict]] = {p: {} for p in ROUTES}
            self.logs: dict[str, str] = {}
            self.requests: list[dict] = []
            self._rv = 1000
            self._random = random.Random(1123)
            self._now = dt.datetime.now(dt.UTC).replace(microsecond=0)
            self._seed()

    def _seed(self) -> None:
        for name, (tags, first_revision, trouble) in SEED.items():
            template = {
                "metadata": {"labels": {"app": name, "app.kubernetes.io/part-of": "nexus"}},
                "spec": {
                    "containers": [
                        {
                            "name": name,
                            "image": f"{REGISTRY}/{name}:{tags[0]}",
                            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                            "resources": {
                                "requests": {"cpu": "250m", "memory": "256Mi"},
                                "limits": {"cpu": "1", "memory": "512Mi"},
                            },
                        }
                    ]
                },
            }
            deployment = self._put(
                "deployments",
                {
                    "metadata": self._meta(
                        name, NAMESPACE, generation=1, labels={"app": name}, annotations={}
                    ),
                    "spec": {
                        "replicas": 3,
                        "selector": {"matchLabels": {"app": name}},
                        "template": template,
                        "paused": False,
                        "strategy": {"type": "RollingUpdate"},
                        "revisionHistoryLimit": 10,
                    },
                    "status": {},
                },
            )
            for offset, tag in enumerate(tags):
                template = copy.deepcopy(template)
                template["spec"]["containers"][0]["image"] = f"{REGISTRY}/{name}:{tag}"
                rs = self._new_replicaset(deployment, template, first_revision + offset)
                rs["metadata"]["annotations"]["kubernetes.io/change-cause"] = f"deploy {tag}"
            deployment["spec"]["template"] = template
            self._sync_deployment(deployment)
            self._put(
                "horizontalpodautoscalers",
                {
                    "metadata": self._meta(name, NAMESPACE),
                    "spec": {
                        "scaleTargetRef": {
                            "apiVersion": "apps/v1",
                            "kind": "Deployment",
                            "name": name,
                        },
                        "minReplicas": 2,
                        "maxReplicas": 20,
                        "metrics": [
                            {
                                "type": "Resource",
                                "resource": {
                                    "name": "cpu",
                                    "target": {"type": "Utilization", "averageUtilization": 70},
                                },
                            }
                        ],
                    },
                    "status": {
                        "currentReplicas": 3,
                        "desiredReplicas": 3,
                        "currentMetrics": [
                            {
                                "type": "Resource",
                                "resource": {"name": "cpu", "current": {"averageUtilization": 41}},
                            }
                        ],
                    },
                },
            )
            pods = [
                p for p in self.objects["pods"].values() if p["metadata"]["labels"]["app"] == name
            ]
            for index, (restarts, crashing) in trouble.items():
                self._set_trouble(pods[index], restarts, crashing)

    def _set_trouble(self, pod: dict, restarts: int, crashing: bool) -> None:
        status = pod["status"]["containerStatuses"][0]
        status["restartCount"] = restarts
        name = pod["metadata"]["name"]
        if crashing:
            status["ready"] = False
            message = f"back-off 5m0s restarting failed container={status['name']} pod={name}"
            status["state"] = {"waiting": {"reason": "CrashLoopBackOff", "message": message}}
            status["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error"}}
            pod["status"]["conditions"][0]["status"] = "False"
            self.logs[name] += (
                "ERROR  database connection failed: FATAL: remaining connection slots are "
                "reserved for non-replication superuser connections\n"
                "ERROR  startup aborted after 3 attempts; exiting with status 1\n"
            )
            self._event(
                pod,
                "Warning",
                "BackOff",
                f"Back-off restarting failed container {status['name']} in pod {name}",
                count=restarts * 4,
            )
            self._event(
                pod,
                "Warning",
                "Unhealthy",
                "Readiness probe failed: HTTP probe failed with statuscode: 503",
                count=restarts * 2,
            )
