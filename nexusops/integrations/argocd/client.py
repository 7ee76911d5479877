"""The ArgoCD adapter (runbook 1.4, manual rollback): REST with ``requests``.

``argocd app set <app> --revision <sha>`` is :meth:`ArgoCDClient.set_target_revision`,
``argocd app sync <app>`` is :meth:`ArgoCDClient.sync`, and :meth:`wait_for_operation` follows
``status.operationState.phase`` until ``Succeeded``, ``Failed`` or ``Error``.

Settings (``getattr(settings, NAME, "")``): ``ARGOCD_URL``, ``ARGOCD_TOKEN`` and
``ARGOCD_VERIFY_SSL`` (default true).

To add one more call: validate the inputs, go through ``self._request(method, path, what,
json=...)`` (timeouts, auth and error translation are there) and return a dataclass.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings

from nexusops.integrations.errors import (
    NotConfigured,
    RateLimited,
    VendorRejected,
    VendorUnavailable,
)

VENDOR = "argocd"
IN_PROGRESS = "another operation is already in progress"
TERMINAL_PHASES = ("Succeeded", "Failed", "Error")
_APP_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_REVISION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,254}")

if TYPE_CHECKING:
    import requests  # imported where a client is built: not at every process's start-up


class InvalidArgument(VendorRejected):
    """An app name or revision is not acceptable; nothing was sent."""

    def __init__(self, message: str) -> None:
        super().__init__(message, vendor=VENDOR, code="invalid")


class AppNotFound(VendorRejected):
    def __init__(self, message: str) -> None:
        super().__init__(message, vendor=VENDOR, code="not_found", status=404)


class OperationInProgress(VendorUnavailable):
    """Another sync kept running for longer than we were willing to wait. Retryable."""

    def __init__(self, message: str) -> None:
        super().__init__(message, vendor=VENDOR, code="operation_in_progress", status=400)


class OperationTimeout(VendorUnavailable):
    """The operation had not finished when ``wait_for_operation`` gave up. Retryable."""

    def __init__(self, message: str) -> None:
        super().__init__(message, vendor=VENDOR, code="operation_timeout")


@dataclass(frozen=True)
class AppStatus:
    name: str
    target_revision: str
    sync_status: str
    synced_revision: str
    health: str
    operation_phase: str | None
    operation_message: str

    @property
    def operation_running(self) -> bool:
        return self.operation_phase not in (None, *TERMINAL_PHASES)


@dataclass(frozen=True)
class OperationResult:
    app: str
    phase: str
    message: str
    revision: str
    started_at: str | None
    finished_at: str | None

    @property
    def succeeded(self) -> bool:
        return self.phase == "Succeeded"


def _app_name(name: str) -> str:
    if not isinstance(name, str) or len(name) > 253 or not _APP_NAME.fullmatch(name):
        raise InvalidArgument(f"application name {name!r} is not a valid DNS-1123 name")
    return name


class ArgoCDClient:
    """One ArgoCD server. Build it with :meth:`from_settings`."""

    def __init__(
        self,
        *,
        url: str,
        token: str,
        verify_ssl: bool = True,
        timeout: tuple[float, float] = (3.0, 15.0),
        busy_timeout: float = 120.0,
        busy_backoff: float = 1.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not url or not token:
            raise NotConfigured("set ARGOCD_URL and ARGOCD_TOKEN", vendor=VENDOR)
        import requests

        self.url = url.rstrip("/")
        self._timeout = timeout
        self._busy_timeout = busy_timeout
        self._busy_backoff = busy_backoff
        self._sleep = sleep
        self._session = session or requests.Session()
        self._session.headers["Authorization"] = f"Bearer {token}"
        self._session.verify = verify_ssl

    @classmethod
    def from_settings(cls) -> ArgoCDClient:
        verify = str(getattr(settings, "ARGOCD_VERIFY_SSL", "")).strip().lower()
        return cls(
            url=getattr(settings, "ARGOCD_URL", "") or "",
            token=getattr(settings, "ARGOCD_TOKEN", "") or "",
            verify_ssl=verify not in ("0", "false", "no", "off"),
        )

    def _request(self, method: str, path: str, what: str, **kwargs: Any) -> dict:
        import requests

        try:
            response = self._session.request(
                method, f"{self.url}{path}", timeout=self._timeout, **kwargs
            )
        except requests.RequestException as exc:
            raise VendorUnavailable(
                f"cannot reach ArgoCD at {self.url} while {what}: {exc}", vendor=VENDOR
            ) from exc
        if response.ok:
            return response.json()
        try:
            message = response.json().get("message") or response.json().get("error") or ""
        except ValueError:
            message = response.text[:200]
        text, status = f"{what}: {message or response.reason}", response.status_code
        if status == 404:
            raise AppNotFound(text)
        if status == 429:
            retry_after = response.headers.get("Retry-After", "")
            raise RateLimited(
                text,
                vendor=VENDOR,
                retry_after=float(retry_after) if retry_after.isdigit() else None,
            )
        if status >= 500:
            raise VendorUnavailable(text, vendor=VENDOR, status=status)
        raise VendorRejected(text, vendor=VENDOR, status=status)

    @staticmethod
    def _status(app: dict) -> AppStatus:
        status, state = app.get("status", {}), app.get("status", {}).get("operationState") or {}
        phase = state.get("phase")
        if app.get("operation") and phase in (None, *TERMINAL_PHASES):
            phase = "Pending"  # requested; the controller has not picked it up yet
        return AppStatus(
            name=app["metadata"]["name"],
            target_revision=app["spec"]["source"].get("targetRevision", ""),
            sync_status=status.get("sync", {}).get("status", "Unknown"),
            synced_revision=status.get("sync", {}).get("revision", ""),
            health=status.get("health", {}).get("status", "Unknown"),
            operation_phase=phase,
            operation_message=state.get("message", ""),
        )

    def get_app(self, name: str) -> AppStatus:
        _app_name(name)
        return self._status(
            self._request("GET", f"/api/v1/applications/{name}", f"reading application {name}")
        )

    def set_target_revision(self, app: str, revision: str) -> AppStatus:
        """``argocd app set <app> --revision <revision>``: a merge patch of the app's source."""
        _app_name(app)
        if not isinstance(revision, str) or not _REVISION.fullmatch(revision) or ".." in revision:
            raise InvalidArgument(f"revision {revision!r} is not a git SHA, tag or branch")
        patch = json.dumps({"spec": {"source": {"targetRevision": revision}}})
        return self._status(
            self._request(
                "PATCH",
                f"/api/v1/applications/{app}",
                f"setting the revision of {app}",
                json={"name": app, "patchType": "merge", "patch": patch},
            )
        )

    def sync(self, app: str, revision: str | None = None) -> AppStatus:
        """``argocd app sync <app>``; while another operation runs, back off and try again.

        Gives up with :class:`OperationInProgress` (retryable) after ``busy_timeout`` seconds.
        """
        _app_name(app)
        body: dict[str, Any] = {"name": app, "prune": False, "dryRun": False}
        if revision is not None:
            if not isinstance(revision, str) or not _REVISION.fullmatch(revision):
                raise InvalidArgument(f"revision {revision!r} is not a git SHA, tag or branch")
            body["revision"] = revision
        deadline = time.monotonic() + self._busy_timeout
        delay = self._busy_backoff
        while True:
            try:
                return self._status(
                    self._request(
                        "POST", f"/api/v1/applications/{app}/sync", f"syncing {app}", json=body
                    )
                )
            except VendorRejected as exc:
                if IN_PROGRESS not in exc.message:
                    raise
                if time.monotonic() + delay > deadline:
                    raise OperationInProgress(
                        f"{app}: {IN_PROGRESS} for over {self._busy_timeout:.0f}s"
                    ) from exc
            self._sleep(delay)
            delay = min(delay * 2, 15.0)

    def wait_for_operation(
        self, app: str, timeout: float = 300.0, poll: float = 2.0
    ) -> OperationResult:
        """Poll until the app's current operation ends; the result says how it ended."""
        _app_name(app)
        deadline = time.monotonic() + timeout
        while True:
            raw = self._request("GET", f"/api/v1/applications/{app}", f"reading {app}")
            state = raw.get("status", {}).get("operationState") or {}
            if not raw.get("operation") and state.get("phase") in TERMINAL_PHASES:
                return OperationResult(
                    app=app,
                    phase=state["phase"],
                    message=state.get("message", ""),
                    revision=(state.get("syncResult") or {}).get("revision", ""),
                    started_at=state.get("startedAt"),
                    finished_at=state.get("finishedAt"),
                )
            if time.monotonic() + poll > deadline:
                raise OperationTimeout(
                    f"{app}: operation still {state.get('phase', 'pending')} after {timeout:.0f}s"
                )
            self._sleep(poll)
