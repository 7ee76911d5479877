"""Deployments, their ReplicaSets and pods, and the one controller the stand-in simulates.

When a deployment's pod template changes (and it is not paused) the owned ReplicaSet whose
template matches is re-used and gets the next revision number, or a new ReplicaSet is created
with it; old ReplicaSets are scaled to zero and pods follow their ReplicaSet. Also the verbs
that change objects: patch, the ``scale`` subresource, pod deletion and pod logs.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from .protocol import (
    HASH_LABEL,
    NAMESPACE,
    REVISION,
    ApiError,
    json_patch,
    merge_patch,
    template_hash,
    ts,
    without_hash,
)
from .store import Store


class Workloads(Store):
    def _event(self, pod: dict, kind: str, reason: str, message: str, count: int = 1) -> None:
        meta = pod["metadata"]
        name = f"{meta['name']}.{self._random.getrandbits(64):016x}"
        self._put(
            "events",
            {
                "metadata": self._meta(name, meta["namespace"]),
                "involvedObject": {
                    "kind": "Pod",
                    "name": meta["name"],
                    "namespace": meta["namespace"],
                    "uid": meta["uid"],
                    "apiVersion": "v1",
                },
                "type": kind,
                "reason": reason,
                "message": message,
                "count": count,
                "firstTimestamp": ts(self._now - dt.timedelta(hours=2)),
                "lastTimestamp": ts(self._now),
                "source": {"component": "kubelet"},
            },
        )

    def _new_replicaset(self, deployment: dict, template: dict, revision: int) -> dict:
        name = deployment["metadata"]["name"]
        pod_hash = template_hash(template)
        template = copy.deepcopy(template)
        template["metadata"].setdefault("labels", {})[HASH_LABEL] = pod_hash
        selector = {**deployment["spec"]["selector"]["matchLabels"], HASH_LABEL: pod_hash}
        owner = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
            "uid": deployment["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
        return self._put(
            "replicasets",
            {
                "metadata": self._meta(
                    f"{name}-{pod_hash}",
                    deployment["metadata"]["namespace"],
                    labels=dict(template["metadata"]["labels"]),
                    annotations={REVISION: str(revision)},
                    ownerReferences=[owner],
                ),
                "spec": {
                    "replicas": 0,
                    "selector": {"matchLabels": selector},
                    "template": template,
                },
                "status": {"replicas": 0},
            },
        )

    def _sync_deployment(self, deployment: dict) -> None:
        owned = self._owned("replicasets", deployment)
        template = without_hash(deployment["spec"]["template"])
        revisions = [int(rs["metadata"]["annotations"].get(REVISION, "0")) for rs in owned]
        highest = max(revisions, default=0)
        current = next(
            (rs for rs in owned if without_hash(rs["spec"]["template"]) == template), None
        )
        if not deployment["spec"].get("paused"):
            if current is None:
                current = self._new_replicaset(deployment, template, highest + 1)
                owned.append(current)
            elif int(current["metadata"]["annotations"].get(REVISION, "0")) != highest:
                # Re-used on undo: the matching ReplicaSet gets the new highest revision.
                notes = current["metadata"]["annotations"]
                history = [h for h in notes.get(f"{REVISION}-history", "").split(",") if h]
                notes[f"{REVISION}-history"] = ",".join([*history, notes[REVISION]])
                notes[REVISION] = str(highest + 1)
            deployment["metadata"]["annotations"][REVISION] = current["metadata"]["annotations"][
                REVISION
            ]
            for rs in owned:
                rs["spec"]["replicas"] = deployment["spec"]["replicas"] if rs is current else 0
                self._sync_replicaset(rs)
        pods = [p for rs in owned for p in self._owned("pods", rs)]
        ready = sum(1 for p in pods if p["status"]["conditions"][0]["status"] == "True")
        deployment["status"] = {
            "observedGeneration": deployment["metadata"]["generation"],
            "replicas": len(pods),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "updatedReplicas": len(self._owned("pods", current)) if current else 0,
        }

    def _sync_replicaset(self, rs: dict) -> None:
        pods = self._owned("pods", rs)
        for pod in pods[rs["spec"]["replicas"] :]:
            del self.objects["pods"][(pod["metadata"]["namespace"], pod["metadata"]["name"])]
        for _ in range(rs["spec"]["replicas"] - len(pods)):
            self._new_pod(rs)
        rs["status"] = {"replicas": rs["spec"]["replicas"], "readyReplicas": rs["spec"]["replicas"]}

    def _new_pod(self, rs: dict) -> dict:
        suffix = "".join(self._random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
        name = f"{rs['metadata']['name']}-{suffix}"
        spec = copy.deepcopy(rs["spec"]["template"]["spec"])
        spec["nodeName"] = f"ip-10-0-{self._random.randint(1, 3)}-{self._random.randint(10, 250)}"
        owner = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": rs["metadata"]["name"],
            "uid": rs["metadata"]["uid"],
            "controller": True,
        }
        pod = self._put(
            "pods",
            {
                "metadata": self._meta(
                    name,
                    rs["metadata"]["namespace"],
                    ownerReferences=[owner],
                    labels=dict(rs["spec"]["template"]["metadata"]["labels"]),
                ),
                "spec": spec,
                "status": {
                    "phase": "Running",
                    "startTime": ts(self._now),
                    "conditions": [{"type": "Ready", "status": "True"}],
                    "containerStatuses": [
                        {
                            "name": c["name"],
                            "image": c["image"],
                            "ready": True,
                            "restartCount": 0,
                            "state": {"running": {"startedAt": ts(self._now)}},
                        }
                        for c in spec["containers"]
                    ],
                },
            },
        )
        app = pod["metadata"]["labels"].get("app", name)
        image = spec["containers"][0]["image"]
        self.logs[name] = "".join(
            f"{ts(self._now)} INFO  {app} {line}\n"
            for line in (
                f"starting {image}",
                "loaded configuration from /etc/nexus/config.yaml",
                "connected to postgres (pool size 20)",
                "connected to redis",
                "listening on :8080",
                *(f"GET /healthz 200 {2 + i % 5}ms" for i in range(40)),
            )
        )
        for reason, message in (
            ("Scheduled", f"Successfully assigned {NAMESPACE}/{name}"),
            ("Pulled", f'Container image "{image}" already present'),
            ("Started", f"Started container {spec['containers'][0]['name']}"),
        ):
            self._event(pod, "Normal", reason, message)
        return pod

    def _after_change(self, plural: str, old: dict, new: dict) -> None:
        if plural == "deployments":
            if old["spec"] != new["spec"]:
                new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
        elif plural == "horizontalpodautoscalers":
            low, high = new["spec"].get("minReplicas", 1), new["spec"].get("maxReplicas", 0)
            if not 1 <= low <= high:
                raise ApiError(422, "Invalid", f"minReplicas {low} must be in 1..maxReplicas")

    def patch(self, plural: str, ns: str, name: str, content_type: str, body: Any) -> dict:
        old = self.get(plural, ns, name)
        if content_type == "application/json-patch+json" and isinstance(body, list):
            new = json_patch(old, body)
        elif content_type in (
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
        ):
            new = merge_patch(old, body)
        else:
            raise ApiError(415, "UnsupportedMediaType", f"unsupported patch: {content_type}")
        return self._store(plural, old, new)

    def _store(self, plural: str, old: dict, new: dict) -> dict:
        for key in ("name", "namespace", "uid"):
            if new.get("metadata", {}).get(key) != old["metadata"][key]:
                raise ApiError(422, "Invalid", f"metadata.{key} is immutable")
        self._after_change(plural, old, new)  # may raise: then nothing was stored
        self._rv += 1
        new["metadata"]["resourceVersion"] = str(self._rv)
        self.objects[plural][(old["metadata"]["namespace"], old["metadata"]["name"])] = new
        if plural == "deployments":
            self._sync_deployment(new)
        return new

    def scale(self, ns: str, name: str, method: str, content_type: str, body: Any) -> dict:
        deployment = self.get("deployments", ns, name)
        if method in ("PATCH", "PUT"):
            if method == "PATCH":
                body = merge_patch(self._scale_of(deployment), body)
            replicas = body.get("spec", {}).get("replicas")
            if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
                raise ApiError(422, "Invalid", "spec.replicas must be a non-negative integer")
            new = copy.deepcopy(deployment)
            new["spec"]["replicas"] = replicas
            deployment = self._store("deployments", deployment, new)
        return self._scale_of(deployment)

    def _scale_of(self, deployment: dict) -> dict:
        meta = deployment["metadata"]
        labels = deployment["spec"]["selector"]["matchLabels"]
        return {
            "apiVersion": "autoscaling/v1",
            "kind": "Scale",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion")},
            "spec": {"replicas": deployment["spec"]["replicas"]},
            "status": {
                "replicas": deployment["status"].get("replicas", 0),
                "selector": ",".join(f"{k}={v}" for k, v in labels.items()),
            },
        }

    def delete_pod(self, ns: str, name: str) -> dict:
        pod = self.get("pods", ns, name)
        del self.objects["pods"][(ns, name)]
        for rs in self.objects["replicasets"].values():  # the ReplicaSet replaces it
            if any(r["uid"] == rs["metadata"]["uid"] for r in pod["metadata"]["ownerReferences"]):
                self._sync_replicaset(rs)
        return pod

    def log(self, ns: str, name: str, query: dict) -> str:
        pod = self.get("pods", ns, name)
        containers = [c["name"] for c in pod["spec"]["containers"]]
        container = query.get("container") or (containers[0] if len(containers) == 1 else None)
        if container not in containers:
            raise ApiError(400, "BadRequest", f"container {container!r} is not valid for pod")
        lines = self.logs.get(name, "").splitlines(keepends=True)
        if "tailLines" in query:
            lines = lines[-int(query["tailLines"]) :] if int(query["tailLines"]) > 0 else []
        return "".join(lines)
