"""The connection to one namespace's API server: the one module that imports ``kubernetes``,
and only when a connection is built or an error converted: the SDK is slow to import, and
registering actions or validating a name at a process's start-up must not load it.

Configuration (Django settings, each read with ``getattr(settings, NAME, "")``):
``KUBERNETES_API_URL`` + ``KUBERNETES_TOKEN`` (+ ``KUBERNETES_VERIFY_SSL``, default true), or
``KUBECONFIG`` (a path); ``KUBERNETES_NAMESPACE`` (default ``nexus-production``).

Every call has short connect/read timeouts and no automatic retry, so an unreachable API
server raises :class:`VendorUnavailable` within seconds; retrying is the task's job. The
resource modules (:mod:`.pods`, :mod:`.rollouts`, :mod:`.scaling`) make their requests through
``self._json`` / ``self._raw`` and never see a ``kubernetes`` object.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from nexusops.integrations.errors import (
    NotConfigured,
    RateLimited,
    VendorRejected,
    VendorUnavailable,
)

from . import validation
from .errors import VENDOR, ObjectNotFound

if TYPE_CHECKING:
    from kubernetes.client.exceptions import ApiException

DEFAULT_NAMESPACE = "nexus-production"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"


def selector_string(selector: dict) -> str:
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


def status_message(exc: ApiException) -> str:
    try:
        return json.loads(exc.body or "{}").get("message") or exc.reason or ""
    except (ValueError, AttributeError):
        return exc.body or exc.reason or ""


class Connection:
    """The API clients, the namespace and the request plumbing every resource module uses."""

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
        from kubernetes import client as k8s
        from kubernetes import config as k8s_config
        from kubernetes.config.config_exception import ConfigException

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

    # --- plumbing ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _vendor_errors(self, what: str) -> Iterator[None]:
        import urllib3
        from kubernetes.client.exceptions import ApiException

        try:
            yield
        except ApiException as exc:
            message, status = status_message(exc), exc.status or 0
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
