"""Pods: what ``kubectl get pods``, ``describe pod``, ``logs`` and ``delete pod`` do.

Runbook 2.3 and Appendix A (diagnosis); deleting a pod lets its ReplicaSet replace it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import validation
from .connection import Connection, selector_string
from .errors import InvalidRequest


@dataclass(frozen=True)
class PodSummary:
    name: str
    phase: str
    status: str  # what `kubectl get pods` shows: CrashLoopBackOff, Running, Pending...
    ready: bool
    ready_containers: str  # "1/1"
    restarts: int
    node: str
    images: tuple[str, ...]
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PodEvent:
    type: str
    reason: str
    message: str
    count: int
    first_seen: str | None
    last_seen: str | None


class PodOperations(Connection):
    def list_pods(self, selector: str | Mapping[str, str] | None = None) -> list[PodSummary]:
        """``kubectl get pods -n <namespace> [-l selector]``."""
        selector = validation.label_selector(selector)
        found = self._json(
            "listing pods", self._core.list_namespaced_pod, self.namespace, label_selector=selector
        )
        pods = []
        for pod in found.get("items", []):
            statuses = pod.get("status", {}).get("containerStatuses", [])
            shown = pod.get("status", {}).get("phase", "Unknown")
            for status in statuses:
                state = status.get("state", {})
                reason = (state.get("waiting") or state.get("terminated") or {}).get("reason")
                if reason:
                    shown = reason
                    break
            ready = sum(1 for s in statuses if s.get("ready"))
            pods.append(
                PodSummary(
                    name=pod["metadata"]["name"],
                    phase=pod.get("status", {}).get("phase", "Unknown"),
                    status=shown,
                    ready=bool(statuses) and ready == len(statuses),
                    ready_containers=f"{ready}/{len(pod['spec'].get('containers', []))}",
                    restarts=sum(s.get("restartCount", 0) for s in statuses),
                    node=pod["spec"].get("nodeName", ""),
                    images=tuple(c.get("image", "") for c in pod["spec"].get("containers", [])),
                    labels=dict(pod["metadata"].get("labels", {})),
                )
            )
        return pods

    def pod_events(self, pod: str) -> list[PodEvent]:
        """The events ``kubectl describe pod`` shows, oldest first."""
        validation.dns1123_subdomain(pod, what="pod name")
        found = self._json(
            f"listing events of pod {pod}",
            self._core.list_namespaced_event,
            self.namespace,
            field_selector=f"involvedObject.kind=Pod,involvedObject.name={pod}",
        )
        events = [
            PodEvent(
                type=e.get("type", ""),
                reason=e.get("reason", ""),
                message=e.get("message", ""),
                count=e.get("count") or 1,
                first_seen=e.get("firstTimestamp"),
                last_seen=e.get("lastTimestamp"),
            )
            for e in found.get("items", [])
        ]
        return sorted(events, key=lambda e: e.last_seen or "")

    def deployment_logs(self, deployment: str, tail_lines: int = 100) -> dict[str, str]:
        """The last lines of every pod of the deployment: ``{pod name: text}``."""
        if not isinstance(tail_lines, int) or not 1 <= tail_lines <= 10_000:
            raise InvalidRequest("tail_lines must be between 1 and 10000")
        spec = self._deployment(deployment)["spec"]
        container = spec["template"]["spec"]["containers"][0]["name"]
        found = self._json(
            f"listing pods of {deployment}",
            self._core.list_namespaced_pod,
            self.namespace,
            label_selector=selector_string(spec["selector"]),
        )
        logs = {}
        for pod in found.get("items", []):
            name = pod["metadata"]["name"]
            raw = self._raw(
                f"reading logs of pod {name}",
                self._core.read_namespaced_pod_log,
                name,
                self.namespace,
                container=container,
                tail_lines=tail_lines,
            )
            logs[name] = raw.decode("utf-8", "replace")
        return logs

    def delete_pod(self, pod: str) -> dict[str, Any]:
        """``kubectl delete pod``: its ReplicaSet starts a replacement."""
        validation.dns1123_subdomain(pod, what="pod name")
        self._json(f"deleting pod {pod}", self._core.delete_namespaced_pod, pod, self.namespace)
        return {"pod": pod, "deleted": True}
