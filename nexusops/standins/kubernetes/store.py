"""The objects of one namespace-scoped fake cluster and the generic verbs: get, list, state."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import threading
from typing import Any

from .protocol import ROUTES, ApiError, field_match, label_match, ts


class Store:
    """Objects by plural and (namespace, name), behind one lock."""

    lock: threading.RLock
    objects: dict[str, dict[tuple[str, str], dict]]
    logs: dict[str, str]
    requests: list[dict]
    _rv: int
    _random: random.Random
    _now: dt.datetime

    def _meta(self, name: str, ns: str, **extra: Any) -> dict:
        self._rv += 1
        uid = hashlib.md5(f"{ns}/{name}/{self._rv}".encode()).hexdigest()  # noqa: S324
        uid = f"{uid[:8]}-{uid[8:12]}-{uid[12:16]}-{uid[16:20]}-{uid[20:32]}"
        return {
            "name": name,
            "namespace": ns,
            "uid": uid,
            "resourceVersion": str(self._rv),
            "creationTimestamp": ts(self._now),
            **extra,
        }

    def _put(self, plural: str, obj: dict) -> dict:
        api_version, kind = ROUTES[plural][1:]
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
            and label_match(o["metadata"].get("labels", {}), query.get("labelSelector"))
            and field_match(o, query.get("fieldSelector"))
        ]
        api_version, kind = ROUTES[plural][1:]
        return {
            "apiVersion": api_version,
            "kind": f"{kind}List",
            "metadata": {"resourceVersion": str(self._rv)},
            "items": items,
        }

    def state(self) -> dict:
        return {
            "objects": {p: list(objs.values()) for p, objs in self.objects.items()},
            "requests": self.requests,
        }
