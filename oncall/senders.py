"""Outbox senders for on-call: page one person through PagerDuty, end those pages with the
incident, and on-call email.

A person's page is its own PagerDuty incident (REST API, assigned to them), apart from the
Events API alert the fan-out triggers for the incident. PagerDuty does not know the two
belong together, so when the console incident resolves, ``pagerduty.resolve_pages`` resolves
every page opened for it; a page still in flight then either sees the incident is no longer
open and pages nobody, or resolves the page it has just opened.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail

from incidents.models import OPEN_STATUSES, Incident
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import register_sender
from nexusops.integrations.pagerduty.client import PagerDutyClient, rest_api_configured

PAGE_USER = "pagerduty.page_user"
RESOLVE_PAGES = "pagerduty.resolve_pages"
EMAIL = "email.oncall"
PAGE_USER_OFF = "per-person paging is not configured (PAGERDUTY_SERVICE_ID and the REST API token)"


def page_user_enabled() -> bool:
    return rest_api_configured() and bool(getattr(settings, "PAGERDUTY_SERVICE_ID", ""))


def _still_open(message: OutboxMessage) -> bool:
    # Read committed state outside any transaction: a resolve that committed before this
    # read has its resolve_pages row dispatched after it, which finds what we open now.
    status = Incident.objects.filter(pk=message.incident_id).values_list("status", flat=True)
    return bool(status) and status[0] in OPEN_STATUSES


def page_user(message: OutboxMessage) -> dict:
    p = message.payload
    if message.incident_id and not _still_open(message):
        return {"skipped": "the incident was no longer open; nobody was paged"}
    client = PagerDutyClient.default()
    incident = client.incident_create(
        title=p["title"],
        service_id=settings.PAGERDUTY_SERVICE_ID,
        assignee_ids=[p["user_id"]],
        incident_key=p["incident_key"],
        urgency=p.get("urgency", "high"),
        details=p.get("details", ""),
    )
    result = {"pagerduty_incident": incident.get("id", ""), "urgency": incident.get("urgency")}
    if message.incident_id and incident.get("id") and not _still_open(message):
        # Resolved while we were opening the page: close it rather than leave it ringing.
        client.incident_resolve(incident["id"], resolution="The console incident was resolved.")
        result["resolved"] = True
    return result


def page_user_find(message: OutboxMessage) -> dict | None:
    found = PagerDutyClient.default().incident_find(message.payload["incident_key"])
    return {"pagerduty_incident": found["id"], "reconciled": True} if found else None


def resolve_pages(message: OutboxMessage) -> dict:
    """Resolve every per-person page opened for the incident that is still open in PagerDuty.

    Looks each page up by its incident key rather than trusting what the outbox recorded: a
    page whose delivery was cut off after PagerDuty opened it has no id here but is open there.
    """
    client = PagerDutyClient.default()
    keys = list(
        OutboxMessage.objects.filter(incident_id=message.incident_id, target=PAGE_USER)
        .order_by("pk")
        .values_list("payload__incident_key", flat=True)
    )
    resolved, untouched = [], []
    reason = message.payload.get("resolution") or "The console incident was resolved."
    for key in dict.fromkeys(k for k in keys if k):
        found = client.incident_find(key)
        if found is None:
            continue  # never opened (skipped, or still to be sent: it will see the status)
        if found.get("status") == "resolved":
            untouched.append(found["id"])
            continue
        client.incident_resolve(found["id"], resolution=reason)
        resolved.append(found["id"])
    return {"resolved": resolved, "already_resolved": untouched}


def send_email(message: OutboxMessage) -> dict:
    p = message.payload
    send_mail(p["subject"], p["body"], settings.DEFAULT_FROM_EMAIL, [p["to"]])
    return {"to": p["to"]}


def register() -> None:
    register_sender(
        PAGE_USER,
        send=page_user,
        reconcile=page_user_find,
        enabled=page_user_enabled,
        label="PagerDuty page (person)",
        off_reason=PAGE_USER_OFF,
    )
    register_sender(
        RESOLVE_PAGES,
        send=resolve_pages,
        enabled=rest_api_configured,
        label="PagerDuty pages resolved",
        off_reason="the PagerDuty REST API is not configured",
    )
    # may_repeat: SMTP takes no idempotency key, so a crash mid-send may mail it twice.
    register_sender(
        EMAIL, send=send_email, enabled=lambda: True, label="On-call email", may_repeat=True
    )
