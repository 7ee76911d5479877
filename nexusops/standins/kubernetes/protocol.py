"""The stand-in's view of the Kubernetes REST protocol: routes, errors, patches and selectors."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import re
from typing import Any

NAMESPACE = "nexus-production"
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
ROUTES = {  # plural -> (path prefix, apiVersion, kind)
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
PATH = re.compile(
    r"^(?P<prefix>/api/v1|/apis/apps/v1|/apis/autoscaling/v2)/namespaces/(?P<ns>[^/]+)/"
    r"(?P<plural>[a-z]+)(?:/(?P<name>[^/]+)(?:/(?P<sub>log|scale))?)?$"
)


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


def ts(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def template_hash(template: dict) -> str:
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    alphabet = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet the real controller uses
    return "".join(alphabet[b % len(alphabet)] for b in digest[:10])


def without_hash(template: dict) -> dict:
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


def label_match(labels: dict, selector: str) -> bool:
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


def field_match(obj: dict, selector: str) -> bool:
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


def body_for_log(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")
