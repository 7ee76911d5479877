"""The PagerDuty adapter: the only module that imports ``pagerduty`` (pdpyras's successor),
and only when it talks to PagerDuty: every process loads this module at start-up.

Two APIs, each optional:

* Events API v2 (``PAGERDUTY_EVENTS_URL`` + ``PAGERDUTY_ROUTING_KEY``): trigger, acknowledge
  and resolve an alert by dedup key - the incident's number is a good key.
* REST API v2 (``PAGERDUTY_API_URL`` + ``PAGERDUTY_API_TOKEN`` + ``PAGERDUTY_FROM_EMAIL``):
  find the PagerDuty incident for a dedup key and add a note to it; open an incident assigned
  to named users at an urgency (escalation pages a person), and resolve it again.

``PAGERDUTY_CA_BUNDLE`` names an extra CA file to trust besides the system's (the stand-in's
test CA). The library retries 429/5xx only ``max_retries`` times, then we raise
:class:`RateLimited` / :class:`VendorUnavailable` and let the Celery task back off.

To add an operation, add a method that calls ``self._events()`` or ``self._rest()`` inside
``with _converted_errors("<what>"):`` so every library error leaves as one of ours::

    def snooze(self, incident_id: str, seconds: int) -> None:
        with _converted_errors("snooze"):
            self._rest().rpost(f"/incidents/{incident_id}/snooze", json={"duration": seconds})
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.conf import settings

from nexusops.integrations.errors import (
    NotConfigured,
    NotYetVisible,
    RateLimited,
    VendorRejected,
    VendorUnavailable,
)

VENDOR = "pagerduty"
SEVERITIES = ("critical", "error", "warning", "info")
RETRIED_STATUSES = (429, 500, 502, 503, 504)
URGENCIES = ("high", "low")

if TYPE_CHECKING:
    import pagerduty


def rest_api_configured() -> bool:
    """Whether settings configure the REST API (per-person pages, schedules, user lookups)."""
    return bool(
        getattr(settings, "PAGERDUTY_API_URL", "")
        and getattr(settings, "PAGERDUTY_API_TOKEN", "")
        and getattr(settings, "PAGERDUTY_FROM_EMAIL", "")
    )


class PagerDutyClient:
    """Paging through PagerDuty. Either API may be unconfigured; its operations then raise
    :class:`NotConfigured`."""

    def __init__(
        self,
        *,
        events_url: str = "",
        routing_key: str = "",
        api_url: str = "",
        api_token: str = "",
        from_email: str = "",
        ca_bundle: str = "",
        timeout: float = 10.0,
        max_retries: int = 1,
        retry_sleep: float = 0.5,
    ) -> None:
        for name, url in (("PAGERDUTY_EVENTS_URL", events_url), ("PAGERDUTY_API_URL", api_url)):
            if url and not url.startswith("https://"):
                raise NotConfigured(f"{name} must be an https:// URL", vendor=VENDOR)
        self.events_url = events_url.rstrip("/")
        self.routing_key = routing_key
        self.api_url = api_url.rstrip("/")
        self.api_token = api_token
        self.from_email = from_email
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_sleep = retry_sleep
        self._verify: ssl.SSLContext | bool = True
        if ca_bundle:
            context = ssl.create_default_context()
            context.load_verify_locations(cafile=ca_bundle)
            self._verify = context
        self._events_client: pagerduty.EventsApiV2Client | None = None
        self._rest_client: pagerduty.RestApiV2Client | None = None

    @classmethod
    def default(cls, **options: Any) -> PagerDutyClient:
        """The client configured by settings; :class:`NotConfigured` when neither API is."""
        client = cls(
            events_url=getattr(settings, "PAGERDUTY_EVENTS_URL", ""),
            routing_key=getattr(settings, "PAGERDUTY_ROUTING_KEY", ""),
            api_url=getattr(settings, "PAGERDUTY_API_URL", ""),
            api_token=getattr(settings, "PAGERDUTY_API_TOKEN", ""),
            from_email=getattr(settings, "PAGERDUTY_FROM_EMAIL", ""),
            ca_bundle=getattr(settings, "PAGERDUTY_CA_BUNDLE", ""),
            **options,
        )
        if not (client.events_configured or client.rest_configured):
            raise NotConfigured(
                "set PAGERDUTY_EVENTS_URL + PAGERDUTY_ROUTING_KEY and/or "
                "PAGERDUTY_API_URL + PAGERDUTY_API_TOKEN + PAGERDUTY_FROM_EMAIL",
                vendor=VENDOR,
            )
        return client

    @classmethod
    def default_or_none(cls, **options: Any) -> PagerDutyClient | None:
        try:
            return cls.default(**options)
        except NotConfigured:
            return None

    @property
    def events_configured(self) -> bool:
        return bool(self.events_url and self.routing_key)

    @property
    def rest_configured(self) -> bool:
        return bool(self.api_url and self.api_token and self.from_email)

    # --- Events API v2 --------------------------------------------------------------------
    def trigger(
        self,
        dedup_key: str,
        summary: str,
        severity: str,
        source: str,
        custom_details: dict[str, Any] | None = None,
    ) -> str:
        """Open (or re-trigger) the alert ``dedup_key``; returns the dedup key PagerDuty kept."""
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {severity!r}")
        with _converted_errors("trigger"):
            return self._events().trigger(
                summary=summary[:1024],
                source=source,
                dedup_key=dedup_key,
                severity=severity,
                custom_details=custom_details or None,
            )

    def acknowledge(self, dedup_key: str) -> str:
        with _converted_errors("acknowledge"):
            return self._events().acknowledge(dedup_key)

    def resolve(self, dedup_key: str) -> str:
        with _converted_errors("resolve"):
            return self._events().resolve(dedup_key)

    # --- REST API v2 ----------------------------------------------------------------------
    def incident_find(self, dedup_key: str) -> dict[str, Any] | None:
        """The newest PagerDuty incident whose incident key is ``dedup_key``, or None."""
        with _converted_errors("incident lookup"):
            incidents = self._rest().rget(
                "/incidents",
                params={"incident_key": dedup_key, "date_range": "all", "limit": 25},
            )
        matching = [i for i in incidents if i.get("incident_key") == dedup_key]
        return matching[-1] if matching else None

    def user_find_by_email(self, email: str) -> str | None:
        """The PagerDuty user id registered with ``email`` (case-insensitive), or None."""
        if not email:
            return None
        with _converted_errors("user lookup"):
            user = self._rest().find("users", email, attribute="email")
        return str(user["id"]) if user else None

    def note_add(self, dedup_key: str, content: str) -> dict[str, Any]:
        """Add a note to the incident for ``dedup_key`` (``From`` is PAGERDUTY_FROM_EMAIL).

        Raises :class:`NotYetVisible` (retryable) when PagerDuty has no incident for the key
        yet: the Events API creates incidents asynchronously.
        """
        incident = self.incident_find(dedup_key)
        if incident is None:
            raise NotYetVisible(
                f"no PagerDuty incident with incident_key {dedup_key!r} yet",
                vendor=VENDOR,
                code="incident_not_found",
            )
        with _converted_errors("note"):
            return self._rest().rpost(
                f"/incidents/{incident['id']}/notes", json={"note": {"content": content}}
            )

    def incident_create(
        self,
        *,
        title: str,
        service_id: str,
        assignee_ids: list[str],
        incident_key: str,
        urgency: str = "high",
        details: str = "",
    ) -> dict[str, Any]:
        """Open a PagerDuty incident assigned to these users (pages them, not the service's
        on-call); ``incident_key`` makes a retry find the first one (``incident_find``)."""
        if urgency not in URGENCIES:
            raise ValueError(f"urgency must be one of {URGENCIES}, not {urgency!r}")
        body: dict[str, Any] = {
            "type": "incident",
            "title": title[:255],
            "service": {"id": service_id, "type": "service_reference"},
            "urgency": urgency,
            "incident_key": incident_key,
            "assignments": [
                {"assignee": {"id": uid, "type": "user_reference"}} for uid in assignee_ids
            ],
        }
        if details:
            body["body"] = {"type": "incident_body", "details": details}
        with _converted_errors("incident create"):
            return self._rest().rpost("/incidents", json={"incident": body})

    def incident_get(self, incident_id: str) -> dict[str, Any]:
        with _converted_errors("incident get"):
            return self._rest().rget(f"/incidents/{incident_id}")

    def incident_resolve(self, incident_id: str, *, resolution: str = "") -> dict[str, Any]:
        """Resolve one PagerDuty incident (``From`` is PAGERDUTY_FROM_EMAIL); returns it.

        Safe to call again: PagerDuty refuses to change a resolved incident, so one already
        resolved (by us before a crash, or by a person in PagerDuty) is returned as it is.
        """
        incident = self.incident_get(incident_id)
        if incident.get("status") == "resolved":
            return incident
        body: dict[str, Any] = {"type": "incident_reference", "status": "resolved"}
        if resolution:
            body["resolution"] = resolution[:1000]
        try:
            with _converted_errors("incident resolve"):
                return self._rest().rput(f"/incidents/{incident_id}", json=body)
        except VendorRejected:
            # Resolved by someone else between our read and our write: that is done too.
            incident = self.incident_get(incident_id)
            if incident.get("status") == "resolved":
                return incident
            raise

    # --- schedules (on-call import) ------------------------------------------------------
    def schedules_list(self, query: str = "") -> list[dict[str, Any]]:
        """Every schedule (the library follows offset/limit pagination while ``more``)."""
        params = {"query": query} if query else {}
        with _converted_errors("schedule list"):
            return list(self._rest().iter_all("schedules", params=params))

    def schedule_get(self, schedule_id: str, *, since: str, until: str) -> dict[str, Any]:
        """One schedule with its layers and ``final_schedule.rendered_schedule_entries`` for
        [since, until) (ISO 8601). A wrong id is :class:`VendorRejected` with status 404."""
        with _converted_errors("schedule"):
            return self._rest().rget(
                f"/schedules/{schedule_id}", params={"since": since, "until": until}
            )

    def user_get(self, user_id: str) -> dict[str, Any]:
        with _converted_errors("user"):
            return self._rest().rget(f"/users/{user_id}")

    # --- the edge -------------------------------------------------------------------------
    def _events(self) -> pagerduty.EventsApiV2Client:
        if not self.events_configured:
            raise NotConfigured(
                "PAGERDUTY_EVENTS_URL and PAGERDUTY_ROUTING_KEY must be set", vendor=VENDOR
            )
        if self._events_client is None:
            import pagerduty

            client = pagerduty.EventsApiV2Client(
                self.routing_key, base_url=self.events_url, verify=self._verify
            )
            self._events_client = self._tune(client)
        return self._events_client

    def _rest(self) -> pagerduty.RestApiV2Client:
        if not self.rest_configured:
            raise NotConfigured(
                "PAGERDUTY_API_URL, PAGERDUTY_API_TOKEN and PAGERDUTY_FROM_EMAIL must be set",
                vendor=VENDOR,
            )
        if self._rest_client is None:
            import pagerduty

            client = pagerduty.RestApiV2Client(
                self.api_token,
                default_from=self.from_email,
                base_url=self.api_url,
                verify=self._verify,
            )
            self._rest_client = self._tune(client)
        return self._rest_client

    def _tune(self, client: Any) -> Any:
        # The library retries 429 forever by default; a task must not block a worker that long.
        client.timeout = self.timeout
        client.sleep_timer = self.retry_sleep
        client.max_network_attempts = self.max_retries
        for status in RETRIED_STATUSES:
            client.retry[status] = self.max_retries
        return client


@contextlib.contextmanager
def _converted_errors(operation: str) -> Iterator[None]:
    import pagerduty

    try:
        yield
    except pagerduty.UrlError as exc:
        raise NotConfigured(f"{operation}: {exc}", vendor=VENDOR) from exc
    except pagerduty.Error as exc:
        response = exc.response
        if response is None:  # no answer at all: network error or timeout, retries exhausted
            raise VendorUnavailable(f"{operation}: {exc}", vendor=VENDOR) from exc
        status = response.status_code
        if status == 429:
            raise RateLimited(
                f"{operation}: rate limited",
                retry_after=_retry_after(response.headers.get("Retry-After")),
                vendor=VENDOR,
                status=status,
            ) from exc
        if status >= 500:
            raise VendorUnavailable(
                f"{operation}: HTTP {status}", vendor=VENDOR, code=f"http_{status}", status=status
            ) from exc
        raise VendorRejected(
            f"{operation}: HTTP {status}: {response.text[:200]}",
            vendor=VENDOR,
            code=f"http_{status}",
            status=status,
        ) from exc


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
