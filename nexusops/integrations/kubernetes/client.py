"""The Kubernetes adapter: the one module that imports the ``kubernetes`` client library.

It does what the runbook asks of ``kubectl`` (sections 1.4, 2.3, 3.1, Appendix A) in one
namespace, and returns plain dataclasses and dicts: no ``kubernetes`` model object leaves this
module. Reads ask for the raw JSON (``_preload_content=False``), so what is compared and copied
back (pod templates on undo) is exactly what the API server stored.

Configuration (Django settings, each read with ``getattr(settings, NAME, "")``):
``KUBERNETES_API_URL`` + ``KUBERNETES_TOKEN`` (+ ``KUBERNETES_VERIFY_SSL``, default true), or
``KUBECONFIG`` (a path); ``KUBERNETES_NAMESPACE`` (default ``nexus-production``).

Every call has short connect/read timeouts and no automatic retry, so an unreachable API
server raises :class:`VendorUnavailable` within seconds; retrying is the task's job.

To add one more operation: validate every name with :mod:`.validation` first, make the request
through ``self._json(what, api_method, ...)`` (it adds the timeouts and turns vendor errors into
ours), and return a dataclass or dict built from the JSON.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import urllib3
from django.conf import settings
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from nexusops.common import clock
from nexusops.integrations.errors import (
    NotConfigured,
    RateLimited,
    VendorRejected,
    VendorUnavailable,
)

from . import validation
from .errors import (
    VENDOR,
    DeploymentPaused,
    InvalidRequest,
    ObjectNotFound,
    RevisionNotFound,
    ScaleOutOfBounds,
)

DEFAULT_NAMESPACE = "nexus-production"
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
# Deployment annotations kubectl keeps from the deployment (not the ReplicaSet) on undo.
_ANNOTATIONS_TO_SKIP = {
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    f"{REVISION}-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
}
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"


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


@dataclass(frozen=True)
class Revision:
    revision: int
    replicaset: str
    images: tuple[str, ...]
    change_cause: str
    created: str | None
    current: bool


@dataclass(frozen=True)
class UndoResult:
    deployment: str
    from_revision: int | None
    to_revision: int
    replicaset: str
    dry_run: bool
    skipped: bool
    diff: str  # unified diff of the pod template, current -> target
    template: dict
    new_revision: int | None = None  # as the API server answered; its controller may lag


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


def _revision_of(obj: dict) -> int:
    try:
        return int(obj["metadata"].get("annotations", {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _without_hash(template: dict) -> dict:
    clean = copy.deepcopy(template)
    clean.get("metadata", {}).get("labels", {}).pop(HASH_LABEL, None)
    return clean


def _selector_string(selector: dict) -> str:
    terms = [f"{k}={v}" for k, v in selector.get("matchLabels", {}).items()]
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], ",".join(expr.get("values", []))
        terms.append(
            {
                "In": f"{key} in ({values})",
                "NotIn": f"{key} notin ({values})",
                "Exists": key,
                "DoesNotExist": f"!{key}",
            }[op]
        )
    return ",".join(terms)


def _status_message(exc: ApiException) -> str:
    try:
        return json.loads(exc.body or "{}").get("message") or exc.reason or ""
    except (ValueError, AttributeError):
        return exc.body or exc.reason or ""


class KubernetesClient:
    """The cluster operations NexusOps runs in one namespace. Build it with :meth:`from_settings`.

    Every public method validates its names before any request and returns plain data.
    """

    def __init__(
        self,
        *,
        api_url: str = "",
        token: str = "",
        verify_ssl: bool = True,
        kubeconfig: str = "",
        namespace: str = DEFAULT_NAMESPACE,
        connect_timeout: float = 2.0,
        read_timeout: float = 10.0,
    ) -> None:
        self.namespace = validation.dns1123_label(namespace or DEFAULT_NAMESPACE, what="namespace")
        configuration = k8s.Configuration()
        if api_url:
            configuration.host = api_url.rstrip("/")
            configuration.verify_ssl = verify_ssl
            if token:
                configuration.api_key = {"BearerToken": token}
                configuration.api_key_prefix = {"BearerToken": "Bearer"}
        elif kubeconfig:
            try:
                k8s_config.load_kube_config(
                    config_file=kubeconfig, client_configuration=configuration, persist_config=False
                )
            except (ConfigException, OSError) as exc:
                raise NotConfigured(
                    f"cannot load KUBECONFIG {kubeconfig}: {exc}", vendor=VENDOR
                ) from exc
        else:
            raise NotConfigured(
                "set KUBERNETES_API_URL and KUBERNETES_TOKEN, or KUBECONFIG", vendor=VENDOR
            )
        configuration.retries = 0  # fail fast; tasks retry with backoff
        self.host = configuration.host
        self._timeout = (connect_timeout, read_timeout)
        api_client = k8s.ApiClient(configuration)
        self._core = k8s.CoreV1Api(api_client)
        self._apps = k8s.AppsV1Api(api_client)
        self._autoscaling = k8s.AutoscalingV2Api(api_client)

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

    # --- plumbing ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _vendor_errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except ApiException as exc:
            message, status = _status_message(exc), exc.status or 0
            text = f"{what}: {message or f'HTTP {status}'}"
            if status == 404:
                raise ObjectNotFound(text) from exc
            if status == 429:
                retry_after = (exc.headers or {}).get("Retry-After")
                raise RateLimited(
                    text,
                    vendor=VENDOR,
                    retry_after=float(retry_after)
                    if retry_after and retry_after.isdigit()
                    else None,
                ) from exc
            if status >= 500:
                raise VendorUnavailable(text, vendor=VENDOR, status=status) from exc
            raise VendorRejected(text, vendor=VENDOR, status=status) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise VendorUnavailable(
                f"cannot reach the Kubernetes API at {self.host} while {what}: {reason}",
                vendor=VENDOR,
            ) from exc

    def _raw(self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> bytes:
        with self._vendor_errors(what):
            response = method(
                *args, _preload_content=False, _request_timeout=self._timeout, **kwargs
            )
            try:
                return response.data
            finally:
                response.release_conn()

    def _json(self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> dict:
        return json.loads(self._raw(what, method, *args, **kwargs) or b"{}")

    def _deployment(self, name: str) -> dict:
        validation.dns1123_subdomain(name, what="deployment name")
        return self._json(
            f"reading deployment {name}",
            self._apps.read_namespaced_deployment,
            name,
            self.namespace,
        )

    def _owned_replicasets(self, deployment: dict) -> list[dict]:
        """The deployment's ReplicaSets, oldest revision first (as kubectl finds them)."""
        name, uid = deployment["metadata"]["name"], deployment["metadata"]["uid"]
        found = self._json(
            f"listing replica sets of {name}",
            self._apps.list_namespaced_replica_set,
            self.namespace,
            label_selector=_selector_string(deployment["spec"]["selector"]),
        )
        owned = [
            rs
            for rs in found.get("items", [])
            if any(
                ref.get("uid") == uid and ref.get("controller")
                for ref in rs["metadata"].get("ownerReferences", [])
            )
        ]
        return sorted(owned, key=_revision_of)

    # --- diagnosis (runbook 2.3, Appendix A) -------------------------------------------------
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
            label_selector=_selector_string(spec["selector"]),
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

    def rollout_history(self, deployment: str) -> list[Revision]:
        """``kubectl rollout history deployment/<name>``: one entry per owned ReplicaSet."""
        current = self._deployment(deployment)
        current_template = _without_hash(current["spec"]["template"])
        return [
            Revision(
                revision=_revision_of(rs),
                replicaset=rs["metadata"]["name"],
                images=tuple(
                    c.get("image", "") for c in rs["spec"]["template"]["spec"]["containers"]
                ),
                change_cause=rs["metadata"]
                .get("annotations", {})
                .get("kubernetes.io/change-cause", ""),
                created=rs["metadata"].get("creationTimestamp"),
                current=_without_hash(rs["spec"]["template"]) == current_template,
            )
            for rs in self._owned_replicasets(current)
        ]

    # --- remediation (runbook 1.4, 3.1) -------------------------------------------------------
    def rollout_undo(
        self, deployment: str, to_revision: int | None = None, dry_run: bool = False
    ) -> UndoResult:
        """``kubectl rollout undo deployment/<name> [--to-revision=N]``, done the way kubectl does.

        The owned ReplicaSet of the revision (the previous one when ``to_revision`` is None)
        gives its pod template, minus the ``pod-template-hash`` label, and its annotations; one
        JSON patch writes both into the deployment. The patch tests ``resourceVersion`` first,
        so a deployment changed since it was read is not overwritten. ``dry_run`` sends nothing
        and returns the template diff as a preview.
        """
        if to_revision is not None and (not isinstance(to_revision, int) or to_revision < 0):
            raise InvalidRequest("to_revision must be a positive revision number")
        current = self._deployment(deployment)
        if current["spec"].get("paused"):
            raise DeploymentPaused(
                f"deployment {deployment} is paused; resume it before rolling back"
            )
        owned = self._owned_replicasets(current)
        if not to_revision:
            if len(owned) < 2:
                raise RevisionNotFound(f"deployment {deployment} has no previous revision")
            target = owned[-2]
        else:
            target = next((rs for rs in owned if _revision_of(rs) == to_revision), None)
            if target is None:
                known = ", ".join(str(_revision_of(rs)) for rs in owned) or "none"
                raise RevisionNotFound(
                    f"deployment {deployment} has no revision {to_revision} (known: {known})"
                )
        template = _without_hash(target["spec"]["template"])
        before = json.dumps(current["spec"]["template"], indent=2, sort_keys=True).splitlines()
        after = json.dumps(template, indent=2, sort_keys=True).splitlines()
        diff = "\n".join(
            difflib.unified_diff(
                before, after, "current", f"revision {_revision_of(target)}", lineterm=""
            )
        )
        result = dict(
            deployment=deployment,
            from_revision=_revision_of(current) or None,
            to_revision=_revision_of(target),
            replicaset=target["metadata"]["name"],
            dry_run=dry_run,
            diff=diff,
            template=template,
        )
        if template == _without_hash(current["spec"]["template"]):
            return UndoResult(**result, skipped=True)
        if dry_run:
            return UndoResult(**result, skipped=False)
        old_notes = current["metadata"].get("annotations") or {}
        annotations = {k: v for k, v in old_notes.items() if k in _ANNOTATIONS_TO_SKIP}
        annotations.update(
            {
                k: v
                for k, v in (target["metadata"].get("annotations") or {}).items()
                if k not in _ANNOTATIONS_TO_SKIP
            }
        )
        patch = [
            {
                "op": "test",
                "path": "/metadata/resourceVersion",
                "value": current["metadata"]["resourceVersion"],
            },
            {"op": "replace", "path": "/spec/template", "value": template},
            {
                "op": "replace" if "annotations" in current["metadata"] else "add",
                "path": "/metadata/annotations",
                "value": annotations,
            },
        ]
        patched = self._json(
            f"rolling back deployment {deployment}",
            self._apps.patch_namespaced_deployment,
            deployment,
            self.namespace,
            patch,
            _content_type=JSON_PATCH,
        )
        return UndoResult(**result, skipped=False, new_revision=_revision_of(patched) or None)

    def rollout_restart(self, deployment: str) -> dict[str, str]:
        """``kubectl rollout restart``: a new ``restartedAt`` template annotation rolls the pods."""
        current = self._deployment(deployment)
        if current["spec"].get("paused"):
            raise DeploymentPaused(
                f"deployment {deployment} is paused; resume it before restarting"
            )
        restarted_at = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: restarted_at}}}}}
        self._json(
            f"restarting deployment {deployment}",
            self._apps.patch_namespaced_deployment,
            deployment,
            self.namespace,
            patch,
            _content_type=STRATEGIC,
        )
        return {"deployment": deployment, "restarted_at": restarted_at}

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
        low = hpa["spec"].get("minReplicas", 1) if hpa else None
        high = hpa["spec"]["maxReplicas"] if hpa else None
        if hpa and not low <= replicas <= high and not override_reason:
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

    def delete_pod(self, pod: str) -> dict[str, Any]:
        """``kubectl delete pod``: its ReplicaSet starts a replacement."""
        validation.dns1123_subdomain(pod, what="pod name")
        self._json(f"deleting pod {pod}", self._core.delete_namespaced_pod, pod, self.namespace)
        return {"pod": pod, "deleted": True}
