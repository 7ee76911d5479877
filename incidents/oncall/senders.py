"""Outbox senders for on-call: page one person through PagerDuty, and on-call email."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail

from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import register_sender
from nexusops.integrations.pagerduty.client import PagerDutyClient

from ..comms.senders import pagerduty_rest_enabled

PAGE_USER = "pagerduty.page_user"
EMAIL = "email.oncall"


def page_user_enabled() -> bool:
    return pagerduty_rest_enabled() and bool(getattr(settings, "PAGERDUTY_SERVICE_ID", ""))


def page_user(message: OutboxMessage) -> dict:
    p = message.payload
    incident = PagerDutyClient.default().incident_create(
        title=p["title"],
        service_id=settings.PAGERDUTY_SERVICE_ID,
        assignee_ids=[p["user_id"]],
        incident_key=p["incident_key"],
        details=p.get("details", ""),
    )
    return {"pagerduty_incident": incident.get("id", "")}


def page_user_find(message: OutboxMessage) -> dict | None:
    found = PagerDutyClient.default().incident_find(message.payload["incident_key"])
    return {"pagerduty_incident": found["id"], "reconciled": True} if found else None


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
        off_reason="per-person paging is not configured (PAGERDUTY_SERVICE_ID and the "
        "REST API token)",
    )
    register_sender(EMAIL, send=send_email, enabled=lambda: True, label="On-call email")
