"""The PagerDuty stand-in's Events API v2: ``POST /v2/enqueue``, as strict as PagerDuty's.

Authenticated by ``routing_key`` in the body, not a header; an invalid event is a 400 with
PagerDuty's ``invalid event`` body. Incidents are kept by dedup key: a trigger on an open
incident is deduplicated, one after a resolve opens a new incident; acknowledge and resolve of
an unknown key are accepted and ignored, as PagerDuty does. Mixed into ``PagerDutyStandin``
(:mod:`nexusops.standins.pagerduty`), whose REST API shares these incidents.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from .common import Request, Response, route

SEVERITIES = ("critical", "error", "warning", "info")
ACTIONS = ("trigger", "acknowledge", "resolve")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _invalid(*errors: str) -> Response:
    return Response(
        400,
        {"status": "invalid event", "message": "Event object is invalid", "errors": list(errors)},
    )


def set_status(incident: dict[str, Any], status: str, *, by: str) -> None:
    if incident["status"] == status:
        return
    incident["status"] = status
    incident["last_status_change_at"] = now_iso()
    incident["last_status_change_by"] = by
    if status == "resolved":
        incident["resolved_at"] = incident["last_status_change_at"]


class EventsMixin:
    """Mixed into ``PagerDutyStandin``; the incidents are its state."""

    base_url: str
    incidents: dict[str, dict[str, Any]]
    _numbers: Iterator[int]

    def _open_incident(self, dedup_key: str) -> dict[str, Any] | None:
        for incident in self.incidents.values():
            if incident["incident_key"] == dedup_key and incident["status"] != "resolved":
                return incident
        return None

    def _incident_new(
        self, key: str, title: str, urgency: str, by: str, **fields: Any
    ) -> dict[str, Any]:
        """A triggered incident, as both the Events API and the REST API open one."""
        number = next(self._numbers)
        incident_id = f"Q{number:06d}"
        now = now_iso()
        incident = {
            "id": incident_id,
            "type": "incident",
            "incident_number": number,
            "incident_key": key,
            "title": title,
            "status": "triggered",
            "urgency": urgency,
            "created_at": now,
            "last_status_change_at": now,
            "last_status_change_by": by,
            "resolved_at": None,
            **fields,
            "self": f"{self.base_url}/incidents/{incident_id}",
            "html_url": f"https://nexusops-standin.pagerduty.com/incidents/{incident_id}",
            "alert_counts": {"all": 0},
        }
        self.incidents[incident_id] = incident
        return incident

    # --- Events API v2 --------------------------------------------------------------------
    @route("POST", r"/v2/enqueue")
    def enqueue(self, request: Request) -> Response:
        event = request.body if isinstance(request.body, dict) else None
        if event is None:
            return _invalid("Request body must be a JSON object")
        if not event.get("routing_key"):
            return _invalid("'routing_key' is missing or blank")
        action = event.get("event_action")
        if action not in ACTIONS:
            return _invalid("'event_action' is invalid")
        dedup_key = event.get("dedup_key")
        if action != "trigger" and not dedup_key:
            return _invalid("'dedup_key' is required for acknowledge and resolve")
        dedup_key = dedup_key or uuid.uuid4().hex
        if action == "trigger":
            payload = event.get("payload") or {}
            missing = [f for f in ("summary", "source", "severity") if not payload.get(f)]
            if missing:
                return _invalid(*(f"'payload.{f}' is missing or blank" for f in missing))
            if payload["severity"] not in SEVERITIES:
                return _invalid("'payload.severity' is invalid")
            incident = self._open_incident(dedup_key)
            if incident is None:
                incident = self._incident_new(
                    dedup_key,
                    payload["summary"],
                    "high" if payload["severity"] in ("critical", "error") else "low",
                    "events_api",
                    custom_details=payload.get("custom_details") or {},
                )
            incident["alert_counts"]["all"] += 1
        else:
            incident = self._open_incident(dedup_key)
            if incident is not None:  # PagerDuty accepts and ignores events for unknown keys
                status = "acknowledged" if action == "acknowledge" else "resolved"
                set_status(incident, status, by="events_api")
        return Response(
            202, {"status": "success", "message": "Event processed", "dedup_key": dedup_key}
        )
