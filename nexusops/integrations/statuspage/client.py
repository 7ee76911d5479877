"""The Atlassian Statuspage adapter (REST API v1 over ``requests``): the public status page.

Settings: ``STATUSPAGE_API_URL`` (``https://api.statuspage.io/v1``), ``STATUSPAGE_API_KEY``
(sent as ``Authorization: OAuth <key>``), ``STATUSPAGE_PAGE_ID``, and optionally
``STATUSPAGE_MIN_INTERVAL`` (seconds between requests, default 1.0).

Statuspage allows one request per second per API key. A :class:`RequestPacer` shared by every
client of the same key in this process spaces requests out; across processes the vendor's
420/429 still becomes :class:`RateLimited` and the Celery task retries later.

To add an operation, add a method that calls ``self._request(method, path, json=...)`` with a
path relative to the page (``"/subscribers"``) and returns the decoded JSON::

    def subscriber_add(self, email: str) -> dict[str, Any]:
        return self._request("POST", "/subscribers", json={"subscriber": {"email": email}})
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings

from nexusops.integrations.errors import (
    NotConfigured,
    RateLimited,
    VendorRejected,
    VendorUnavailable,
)

if TYPE_CHECKING:
    import requests  # imported where a client is built: not at every process's start-up

VENDOR = "statuspage"
COMPONENT_STATUSES = (
    "operational",
    "under_maintenance",
    "degraded_performance",
    "partial_outage",
    "major_outage",
)
INCIDENT_STATUSES = ("investigating", "identified", "monitoring", "resolved")
DEFAULT_INTERVAL = 1.0
RATE_LIMIT_STATUSES = (420, 429)


class RequestPacer:
    """Lets one request through per ``interval`` seconds; callers beyond that wait their turn.

    ``clock`` and ``sleep`` are injectable so a test can check the pacing without waiting.
    """

    def __init__(
        self,
        interval: float = DEFAULT_INTERVAL,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot: float | None = None

    def wait(self) -> float:
        """Block until this caller may send; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = now if self._next_slot is None else max(now, self._next_slot)
            self._next_slot = slot + self.interval
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return delay


_pacers: dict[tuple[str, str], RequestPacer] = {}
_pacers_lock = threading.Lock()


def shared_pacer(api_url: str, api_key: str, interval: float) -> RequestPacer:
    """The one pacer for this key in this process (the limit is per key, not per client)."""
    with _pacers_lock:
        pacer = _pacers.get((api_url, api_key))
        if pacer is None or pacer.interval != interval:
            pacer = _pacers[(api_url, api_key)] = RequestPacer(interval)
        return pacer


class StatuspageClient:
    """Components, incidents and maintenances of one Statuspage page."""

    def __init__(
        self,
        *,
        api_url: str,
        api_key: str,
        page_id: str,
        pacer: RequestPacer | None = None,
        min_interval: float = DEFAULT_INTERVAL,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        if not (api_url and api_key and page_id):
            raise NotConfigured(
                "STATUSPAGE_API_URL, STATUSPAGE_API_KEY and STATUSPAGE_PAGE_ID must be set",
                vendor=VENDOR,
            )
        import requests

        self.api_url = api_url.rstrip("/")
        self.page_id = page_id
        self.timeout = timeout
        self.pacer = pacer or shared_pacer(self.api_url, api_key, min_interval)
        self._session = session or requests.Session()
        self._session.headers.update(
            {"Authorization": f"OAuth {api_key}", "Accept": "application/json"}
        )

    @classmethod
    def default(cls, **options: Any) -> StatuspageClient:
        """The client configured by settings; raises :class:`NotConfigured` when unset."""
        options.setdefault(
            "min_interval", float(getattr(settings, "STATUSPAGE_MIN_INTERVAL", DEFAULT_INTERVAL))
        )
        return cls(
            api_url=getattr(settings, "STATUSPAGE_API_URL", ""),
            api_key=getattr(settings, "STATUSPAGE_API_KEY", ""),
            page_id=getattr(settings, "STATUSPAGE_PAGE_ID", ""),
            **options,
        )

    @classmethod
    def default_or_none(cls, **options: Any) -> StatuspageClient | None:
        try:
            return cls.default(**options)
        except NotConfigured:
            return None

    # --- components -----------------------------------------------------------------------
    def components_list(self) -> list[dict[str, Any]]:
        return self._request("GET", "/components")

    def component_update(self, component_id: str, status: str) -> dict[str, Any]:
        _check(status, COMPONENT_STATUSES, "component status")
        return self._request(
            "PATCH", f"/components/{component_id}", json={"component": {"status": status}}
        )

    # --- incidents ------------------------------------------------------------------------
    def incident_create(
        self,
        name: str,
        status: str,
        body: str = "",
        component_ids: Iterable[str] = (),
        *,
        component_statuses: Mapping[str, str] | None = None,
        deliver_notifications: bool = True,
        metadata: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Open a public incident; ``component_statuses`` also sets those components.

        ``metadata`` is Statuspage's free JSON on the incident (each top-level value an
        object): the console puts its own reference there, so it can find the incident again.
        """
        _check(status, INCIDENT_STATUSES, "incident status")
        statuses = dict(component_statuses or {})
        for value in statuses.values():
            _check(value, COMPONENT_STATUSES, "component status")
        incident: dict[str, Any] = {
            "name": name,
            "status": status,
            "body": body,
            "component_ids": list(dict.fromkeys([*component_ids, *statuses])),
            "deliver_notifications": deliver_notifications,
        }
        if statuses:
            incident["components"] = statuses
        if metadata:
            incident["metadata"] = dict(metadata)
        return self._request("POST", "/incidents", json={"incident": incident})

    def incidents_unresolved(self, *, page: int = 1, per_page: int = 100) -> list[dict[str, Any]]:
        return self._request(
            "GET", "/incidents/unresolved", params={"page": page, "per_page": per_page}
        )

    def incidents_search(self, q: str, *, page: int = 1, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first; ``q`` matches name, status, postmortem and update bodies."""
        return self._request("GET", "/incidents", params={"q": q, "page": page, "limit": limit})

    def incident_find(
        self,
        match: Callable[[dict[str, Any]], bool],
        *,
        q: str = "",
        max_pages: int = 5,
    ) -> dict[str, Any] | None:
        """The first incident ``match`` accepts: among the unresolved ones, then the newest
        (or those ``q`` finds). Read-only, so it is safe before a create that may repeat."""
        for page in range(1, max_pages + 1):
            batch = self.incidents_unresolved(page=page)
            found = next((i for i in batch if match(i)), None)
            if found is not None or len(batch) < 100:
                break
        if found is None:
            found = next((i for i in self.incidents_search(q) if match(i)), None)
        return found

    def incident_update(
        self,
        incident_id: str,
        *,
        status: str | None = None,
        body: str | None = None,
        name: str | None = None,
        component_statuses: Mapping[str, str] | None = None,
        deliver_notifications: bool = True,
    ) -> dict[str, Any]:
        """Post an update: a new status and/or message, and component statuses."""
        incident: dict[str, Any] = {"deliver_notifications": deliver_notifications}
        if status is not None:
            _check(status, INCIDENT_STATUSES, "incident status")
            incident["status"] = status
        if body is not None:
            incident["body"] = body
        if name is not None:
            incident["name"] = name
        if component_statuses:
            for value in component_statuses.values():
                _check(value, COMPONENT_STATUSES, "component status")
            incident["components"] = dict(component_statuses)
            incident["component_ids"] = list(component_statuses)
        return self._request("PATCH", f"/incidents/{incident_id}", json={"incident": incident})

    def maintenance_create(
        self,
        name: str,
        scheduled_for: datetime,
        scheduled_until: datetime,
        body: str = "",
        component_ids: Iterable[str] = (),
        *,
        auto_transition: bool = True,
        remind_prior: bool = True,
    ) -> dict[str, Any]:
        """Schedule a maintenance (an incident with ``status: scheduled``). Times must be aware."""
        if scheduled_for.tzinfo is None or scheduled_until.tzinfo is None:
            raise ValueError("scheduled_for and scheduled_until must be timezone-aware")
        if scheduled_until <= scheduled_for:
            raise ValueError("scheduled_until must be after scheduled_for")
        incident = {
            "name": name,
            "status": "scheduled",
            "body": body,
            "scheduled_for": _iso(scheduled_for),
            "scheduled_until": _iso(scheduled_until),
            "scheduled_remind_prior": remind_prior,
            "scheduled_auto_in_progress": auto_transition,
            "scheduled_auto_completed": auto_transition,
            "component_ids": list(component_ids),
        }
        return self._request("POST", "/incidents", json={"incident": incident})

    # --- the edge -------------------------------------------------------------------------
    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        import requests

        url = f"{self.api_url}/pages/{self.page_id}{path}"
        self.pacer.wait()
        try:
            response = self._session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:  # timeouts, refused connections
            raise VendorUnavailable(
                f"{method} {path}: {type(exc).__name__}: {exc}", vendor=VENDOR
            ) from exc
        status = response.status_code
        if status in RATE_LIMIT_STATUSES:
            raise RateLimited(
                f"{method} {path}: rate limited (HTTP {status})",
                retry_after=_retry_after(response.headers.get("Retry-After"), self.pacer.interval),
                vendor=VENDOR,
                status=status,
            )
        if status >= 500:
            raise VendorUnavailable(
                f"{method} {path}: HTTP {status}",
                vendor=VENDOR,
                code=f"http_{status}",
                status=status,
            )
        if status >= 400:
            raise VendorRejected(
                f"{method} {path}: HTTP {status}: {response.text[:200]}",
                vendor=VENDOR,
                code=f"http_{status}",
                status=status,
            )
        return response.json() if response.content else None


def _check(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {allowed}, not {value!r}")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _retry_after(value: str | None, fallback: float) -> float:
    try:
        return float(value) if value is not None else fallback
    except ValueError:
        return fallback
