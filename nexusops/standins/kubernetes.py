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

To serve one more resource: add its plural to ``_ROUTES`` (path, apiVersion, kind) and, if
something must happen when it changes, a branch in ``Cluster._after_change``.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import hashlib
import json
import random
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

NAMESPACE = "nexus-production"
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
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
_ROUTES = {  # plural -> (path prefix, apiVersion, kind)
    "pods": ("/api/v1", "v1", "Pod"),
    "events": ("/api/v1", "v1", "Event"),
    "deployments": ("/apis/apps/v1", "apps/v1", "Deployment"),
    "replicasets": ("/apis/apps/v1", "apps/v1", "ReplicaSet"),
    "horizontalpodautoscalers": (
        "/apis/autoscaling/v2",
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
    ),
}
_PATH = re.compile(
    r"^(?P<prefix>/api/v1|/apis/apps/v1|/apis/autoscaling/v2)/namespaces/(?P<ns>[^/]+)/"
    r"(?P<plural>[a-z]+)(?:/(?P<name>[^/]+)(?:/(?P<sub>log|scale))?)?$"
)


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


def _ts(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _template_hash(template: dict) -> str:
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    alphabet = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet the real controller uses
    return "".join(alphabet[b % len(alphabet)] for b in digest[:10])


def _without_hash(template: dict) -> dict:
    clean = copy.deepcopy(template)
    clean.get("metadata", {}).get("labels", {}).pop(HASH_LABEL, None)
    return clean


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (strategic merge patch is treated the same here)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def json_patch(target: Any, operations: list) -> Any:
    """RFC 6902 JSON patch: add, remove, replace, test, copy, move."""
    doc = copy.deepcopy(target)

    def walk(path: str) -> tuple[Any, str | int]:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
        if not parts:
            raise ApiError(422, "Invalid", "patching the whole document is not supported")
        parent = doc
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent[part]
        last = parts[-1]
        if isinstance(parent, list):
            return parent, len(parent) if last == "-" else int(last)
        return parent, last

    for op in operations:
        try:
            kind, path = op["op"], op["path"]
            if kind in ("copy", "move"):
                src_parent, src_key = walk(op["from"])
                value = copy.deepcopy(src_parent[src_key])
                if kind == "move":
                    del src_parent[src_key]
                op = {"op": "add", "path": path, "value": value}
                kind = "add"
            parent, key = walk(path)
            if kind == "add":
                if isinstance(parent, list):
                    parent.insert(key, op["value"])
                else:
                    parent[key] = op["value"]
            elif kind == "replace":
                parent[key]  # noqa: B018 - replace requires the target to exist
                parent[key] = op["value"]
            elif kind == "remove":
                del parent[key]
            elif kind == "test":
                if parent[key] != op["value"]:
                    raise ApiError(422, "Invalid", f"the test of {path} failed")
            else:
                raise ApiError(422, "Invalid", f"unknown JSON patch op {kind!r}")
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise ApiError(422, "Invalid", f"the JSON patch cannot be applied: {exc!r}") from exc
    return doc


def _label_match(labels: dict, selector: str) -> bool:
    """Equality-based (=, ==, !=), existence (key, !key) and set-based (in, notin) selectors."""
    for term in re.findall(r"(?:[^,(]|\([^)]*\))+", selector or ""):
        term = term.strip()
        if m := re.fullmatch(r"([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)", term):
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",")}
            if (labels.get(key) in values) != (op == "in"):
                return False
        elif m := re.fullmatch(r"([\w./-]+)\s*(!=|==|=)\s*([\w.-]*)", term):
            key, op, value = m.groups()
            if (labels.get(key) == value) != (op != "!="):
                return False
        elif m := re.fullmatch(r"(!?)([\w./-]+)", term):
            if (m.group(2) in labels) == bool(m.group(1)):
                return False
        else:
            raise ApiError(400, "BadRequest", f"unable to parse requirement: {term!r}")
    return True


def _field_match(obj: dict, selector: str) -> bool:
    for term in filter(None, (selector or "").split(",")):
        m = re.fullmatch(r"([\w.]+)(!=|==|=)(.*)", term.strip())
        if not m:
            raise ApiError(400, "BadRequest", f"invalid field selector: {term!r}")
        path, op, value = m.groups()
        current: Any = obj
        for part in path.split("."):
            current = current.get(part) if isinstance(current, dict) else None
        if (str(current) == value if current is not None else value == "") != (op != "!="):
            return False
    return True


def _body_for_log(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


class Cluster:
    """The objects of one namespace-scoped fake cluster, behind one lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    # --- state ------------------------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self.objects: dict[str, dict[tuple[str, str], dict]] = {p: {} for p in _ROUTES}
            self.logs: dict[str, str] = {}
            self.requests: list[dict] = []
            self._rv = 1000
            self._random = random.Random(1123)
            self._now = dt.datetime.now(dt.UTC).replace(microsecond=0)
            self._seed()

    def _meta(self, name: str, ns: str, **extra: Any) -> dict:
        self._rv += 1
        uid = hashlib.md5(f"{ns}/{name}/{self._rv}".encode()).hexdigest()  # noqa: S324
        uid = f"{uid[:8]}-{uid[8:12]}-{uid[12:16]}-{uid[16:20]}-{uid[20:32]}"
        return {
            "name": name,
            "namespace": ns,
            "uid": uid,
            "resourceVersion": str(self._rv),
            "creationTimestamp": _ts(self._now),
            **extra,
        }

    def _put(self, plural: str, obj: dict) -> dict:
        api_version, kind = _ROUTES[plural][1:]
        obj = {"apiVersion": api_version, "kind": kind, **obj}
        self.objects[plural][(obj["metadata"]["namespace"], obj["metadata"]["name"])] = obj
        return obj

    def _owned(self, plural: str, owner: dict) -> list[dict]:
        uid, ns = owner["metadata"]["uid"], owner["metadata"]["namespace"]
        return [
            o
            for (o_ns, _), o in sorted(self.objects[plural].items())
            if o_ns == ns
            and any(r.get("uid") == uid for r in o["metadata"].get("ownerReferences", []))
        ]

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
                "firstTimestamp": _ts(self._now - dt.timedelta(hours=2)),
                "lastTimestamp": _ts(self._now),
                "source": {"component": "kubelet"},
            },
        )

    # --- the deployment and ReplicaSet controllers --------------------------------------------
    def _new_replicaset(self, deployment: dict, template: dict, revision: int) -> dict:
        name = deployment["metadata"]["name"]
        pod_hash = _template_hash(template)
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
        template = _without_hash(deployment["spec"]["template"])
        revisions = [int(rs["metadata"]["annotations"].get(REVISION, "0")) for rs in owned]
        highest = max(revisions, default=0)
        current = next(
            (rs for rs in owned if _without_hash(rs["spec"]["template"]) == template), None
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
                    "startTime": _ts(self._now),
                    "conditions": [{"type": "Ready", "status": "True"}],
                    "containerStatuses": [
                        {
                            "name": c["name"],
                            "image": c["image"],
                            "ready": True,
                            "restartCount": 0,
                            "state": {"running": {"startedAt": _ts(self._now)}},
                        }
                        for c in spec["containers"]
                    ],
                },
            },
        )
        app = pod["metadata"]["labels"].get("app", name)
        image = spec["containers"][0]["image"]
        self.logs[name] = "".join(
            f"{_ts(self._now)} INFO  {app} {line}\n"
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

    # --- verbs ----------------------------------------------------------------------------------
    def get(self, plural: str, ns: str, name: str) -> dict:
        try:
            return self.objects[plural][(ns, name)]
        except KeyError:
            raise ApiError(404, "NotFound", f'{plural} "{name}" not found') from None

    def list(self, plural: str, ns: str, query: dict) -> dict:
        items = [
            o
            for (o_ns, _), o in sorted(self.objects[plural].items())
            if o_ns == ns
            and _label_match(o["metadata"].get("labels", {}), query.get("labelSelector"))
            and _field_match(o, query.get("fieldSelector"))
        ]
        api_version, kind = _ROUTES[plural][1:]
        return {
            "apiVersion": api_version,
            "kind": f"{kind}List",
            "metadata": {"resourceVersion": str(self._rv)},
            "items": items,
        }

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

    def state(self) -> dict:
        return {
            "objects": {p: list(objs.values()) for p, objs in self.objects.items()},
            "requests": self.requests,
        }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StandinServer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, code: int, payload: Any, content_type: str = "application/json") -> None:
        body = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        cluster = self.server.cluster
        if url.path.startswith("/_standin/"):
            if url.path == "/_standin/reset" and self.command == "POST":
                cluster.reset()
            with cluster.lock:
                if url.path == "/_standin/received":
                    # A list, as every stand-in answers it (the Stand-ins page reads it).
                    return self._send(200, cluster.requests)
                return self._send(200, cluster.state())
        with cluster.lock:
            token = self.server.token
            authorized = not token or self.headers.get("Authorization") == f"Bearer {token}"
            cluster.requests.append(
                {
                    "method": self.command,
                    "path": url.path,
                    "query": query,
                    "content_type": content_type,
                    "authorized": authorized,
                    "body": _body_for_log(raw),
                }
            )
            try:
                if not authorized:
                    raise ApiError(401, "Unauthorized", "Unauthorized")
                body = json.loads(raw) if raw else None
                result = self._route(cluster, url.path, query, content_type, body)
            except ApiError as exc:
                return self._send(
                    exc.code,
                    {
                        "kind": "Status",
                        "apiVersion": "v1",
                        "metadata": {},
                        "status": "Failure",
                        "message": exc.message,
                        "reason": exc.reason,
                        "code": exc.code,
                    },
                )
            except json.JSONDecodeError:
                return self._send(
                    400,
                    {
                        "kind": "Status",
                        "status": "Failure",
                        "code": 400,
                        "reason": "BadRequest",
                        "message": "invalid JSON body",
                    },
                )
        if isinstance(result, str):
            return self._send(200, result, "text/plain")
        return self._send(200, result)

    def _route(self, cluster: Cluster, path: str, query: dict, content_type: str, body: Any):
        m = _PATH.match(path)
        if not m or m["plural"] not in _ROUTES or _ROUTES[m["plural"]][0] != m["prefix"]:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        ns, plural, name, sub, verb = m["ns"], m["plural"], m["name"], m["sub"], self.command
        if sub == "scale" and plural == "deployments":
            return cluster.scale(ns, name, verb, content_type, body)
        if sub == "log" and plural == "pods" and verb == "GET":
            return cluster.log(ns, name, query)
        if sub is None and name is None and verb == "GET":
            return cluster.list(plural, ns, query)
        if sub is None and name and verb == "GET":
            return cluster.get(plural, ns, name)
        if sub is None and name and verb == "PATCH":
            return cluster.patch(plural, ns, name, content_type, body)
        if sub is None and name and verb == "DELETE" and plural == "pods":
            return cluster.delete_pod(ns, name)
        raise ApiError(405, "MethodNotAllowed", f"{verb} is not supported on {path}")

    do_GET = do_PATCH = do_PUT = do_DELETE = do_POST = _handle


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], token: str | None = None) -> None:
        super().__init__(address, _Handler)
        self.cluster = Cluster()
        self.token = token


def make_server(
    host: str = "127.0.0.1", port: int = 0, *, token: str | None = None
) -> tuple[StandinServer, str]:
    """A stand-in API server bound to ``host:port`` (0: a free port), not yet serving.

    Run ``server.serve_forever()`` (in a thread) and ``server.shutdown()`` to stop. With
    ``token`` set, requests must carry ``Authorization: Bearer <token>``.
    """
    server = StandinServer((host, port), token=token)
    return server, f"http://{host}:{server.server_address[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--token", default=None)
    args = parser.parse_args()
    server, url = make_server(args.host, args.port, token=args.token)
    print(f"Kubernetes stand-in on {url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
