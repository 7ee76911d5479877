"""Replicas and autoscalers: ``kubectl scale`` within the HPA's bounds, ``get hpa``, patching it.

Runbook 3.1: scale out for load; change the HPA to make a count outside its bounds last.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import validation
from .connection import MERGE, Connection
from .errors import InvalidRequest, ObjectNotFound, ScaleOutOfBounds


@dataclass(frozen=True)
class HpaInfo:
    name: str
    deployment: str
    min_replicas: int
    max_replicas: int
    target_cpu: int | None
    current_replicas: int | None
    desired_replicas: int | None
    current_cpu: int | None


@dataclass(frozen=True)
class ScaleResult:
    deployment: str
    previous: int
    replicas: int
    min_replicas: int | None
    max_replicas: int | None
    override_reason: str | None


class ScalingOperations(Connection):
    def scale(
        self, deployment: str, replicas: int, override_reason: str | None = None
    ) -> ScaleResult:
        """``kubectl scale --replicas=N``, within the HPA's min/max unless ``override_reason``.

        With an HPA in place the autoscaler will move the count back inside its bounds; to make
        a change outside them last, change the HPA (:meth:`patch_hpa`).
        """
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise InvalidRequest("replicas must be a whole number, 0 or more")
        if override_reason is not None and not override_reason.strip():
            raise InvalidRequest("an override needs a reason")
        validation.dns1123_subdomain(deployment, what="deployment name")
        hpa = self._hpa_for(deployment)
        low: int | None = hpa["spec"].get("minReplicas", 1) if hpa else None
        high: int | None = hpa["spec"]["maxReplicas"] if hpa else None
        outside = low is not None and high is not None and not low <= replicas <= high
        if outside and not override_reason:
            raise ScaleOutOfBounds(
                f"{replicas} replicas is outside the HPA bounds {low}-{high} "
                f"of {deployment}; give an override reason to go beyond"
            )
        scale = self._json(
            f"reading scale of {deployment}",
            self._apps.read_namespaced_deployment_scale,
            deployment,
            self.namespace,
        )
        self._json(
            f"scaling {deployment}",
            self._apps.patch_namespaced_deployment_scale,
            deployment,
            self.namespace,
            {"spec": {"replicas": replicas}},
            _content_type=MERGE,
        )
        return ScaleResult(
            deployment=deployment,
            previous=scale["spec"].get("replicas", 0),
            replicas=replicas,
            min_replicas=low,
            max_replicas=high,
            override_reason=override_reason.strip() if override_reason else None,
        )

    def _hpa_for(self, deployment: str) -> dict | None:
        found = self._json(
            "listing autoscalers",
            self._autoscaling.list_namespaced_horizontal_pod_autoscaler,
            self.namespace,
        )
        return next(
            (
                h
                for h in found.get("items", [])
                if h["spec"]["scaleTargetRef"].get("kind") == "Deployment"
                and h["spec"]["scaleTargetRef"].get("name") == deployment
            ),
            None,
        )

    def get_hpa(self, deployment: str) -> HpaInfo:
        """``kubectl get hpa`` for the autoscaler that targets ``deployment``."""
        validation.dns1123_subdomain(deployment, what="deployment name")
        hpa = self._hpa_for(deployment)
        if hpa is None:
            raise ObjectNotFound(f"no HorizontalPodAutoscaler targets deployment {deployment}")
        return self._hpa_info(hpa)

    def patch_hpa(
        self,
        deployment: str,
        *,
        min_replicas: int | None = None,
        max_replicas: int | None = None,
        target_cpu: int | None = None,
    ) -> HpaInfo:
        """Change the bounds and CPU target of the autoscaler of ``deployment`` (runbook 3.1)."""
        current = self.get_hpa(deployment)
        low = current.min_replicas if min_replicas is None else min_replicas
        high = current.max_replicas if max_replicas is None else max_replicas
        for value in (low, high, target_cpu):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise InvalidRequest("HPA bounds and target must be whole numbers")
        if not 1 <= low <= high:
            raise InvalidRequest(f"need 1 <= min_replicas ({low}) <= max_replicas ({high})")
        if target_cpu is not None and not 1 <= target_cpu <= 100:
            raise InvalidRequest("target_cpu is a utilisation percentage, 1-100")
        spec: dict[str, Any] = {"minReplicas": low, "maxReplicas": high}
        if target_cpu is not None:
            hpa = self._hpa_for(deployment) or {"spec": {}}
            metrics = [
                m
                for m in hpa["spec"].get("metrics", [])
                if not (m.get("type") == "Resource" and m.get("resource", {}).get("name") == "cpu")
            ]
            spec["metrics"] = [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": target_cpu},
                    },
                },
                *metrics,
            ]
        patched = self._json(
            f"patching autoscaler {current.name}",
            self._autoscaling.patch_namespaced_horizontal_pod_autoscaler,
            current.name,
            self.namespace,
            {"spec": spec},
            _content_type=MERGE,
        )
        return self._hpa_info(patched)

    @staticmethod
    def _hpa_info(hpa: dict) -> HpaInfo:
        def cpu(metrics: list, key: str) -> int | None:
            for m in metrics or []:
                if m.get("type") == "Resource" and m.get("resource", {}).get("name") == "cpu":
                    return m["resource"].get(key, {}).get("averageUtilization")
            return None

        status = hpa.get("status", {})
        return HpaInfo(
            name=hpa["metadata"]["name"],
            deployment=hpa["spec"]["scaleTargetRef"]["name"],
            min_replicas=hpa["spec"].get("minReplicas", 1),
            max_replicas=hpa["spec"]["maxReplicas"],
            target_cpu=cpu(hpa["spec"].get("metrics"), "target"),
            current_replicas=status.get("currentReplicas"),
            desired_replicas=status.get("desiredReplicas"),
            current_cpu=cpu(status.get("currentMetrics"), "current"),
        )
