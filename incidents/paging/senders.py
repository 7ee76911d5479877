"""PagerDuty senders: deliver one outbox row through the PagerDuty adapter (DESIGN.md rules 3, 5).

PagerDuty's Events API deduplicates on the incident number, so a retry is harmless. REST
notes are the exception (``may_repeat``): the REST API honours no idempotency key for notes,
so a worker that dies after PagerDuty stored a note and before the outbox recorded it sends
that note again.
"""

from __future__ import annotations

from django.conf import settings

from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import register_sender
from nexusops.integrations.pagerduty.client import PagerDutyClient, rest_api_configured

from ..models import Incident
from . import render

PAGERDUTY_EVENTS_OFF = (
    "PagerDuty events are not configured (PAGERDUTY_EVENTS_URL, PAGERDUTY_ROUTING_KEY)"
)
PAGERDUTY_REST_OFF = (
    "PagerDuty REST is not configured (PAGERDUTY_API_URL, PAGERDUTY_API_TOKEN, "
    "PAGERDUTY_FROM_EMAIL)"
)


def pagerduty_events_enabled() -> bool:
    return bool(settings.PAGERDUTY_EVENTS_URL and settings.PAGERDUTY_ROUTING_KEY)


def pagerduty_rest_enabled() -> bool:
    return rest_api_configured()


def _incident(message: OutboxMessage) -> Incident:
    return (
        Incident.objects.select_related("severity", "commander__profile")
        .prefetch_related("services")
        .get(pk=message.incident_id)
    )


def pagerduty_trigger(message: OutboxMessage) -> dict:
    payload = render.pagerduty_trigger(_incident(message))
    key = PagerDutyClient.default().trigger(**payload)
    return {"dedup_key": key}


def pagerduty_acknowledge(message: OutboxMessage) -> dict:
    return {"dedup_key": PagerDutyClient.default().acknowledge(message.payload["dedup_key"])}


def pagerduty_resolve(message: OutboxMessage) -> dict:
    return {"dedup_key": PagerDutyClient.default().resolve(message.payload["dedup_key"])}


def pagerduty_note(message: OutboxMessage) -> dict:
    note = PagerDutyClient.default().note_add(message.payload["dedup_key"], message.payload["text"])
    return {"note_id": note.get("id", "")}


def register() -> None:
    register_sender(
        "pagerduty.trigger",
        send=pagerduty_trigger,
        enabled=pagerduty_events_enabled,
        label="PagerDuty page",
        off_reason=PAGERDUTY_EVENTS_OFF,
    )
    register_sender(
        "pagerduty.acknowledge",
        send=pagerduty_acknowledge,
        enabled=pagerduty_events_enabled,
        label="PagerDuty acknowledge",
        off_reason=PAGERDUTY_EVENTS_OFF,
    )
    register_sender(
        "pagerduty.resolve",
        send=pagerduty_resolve,
        enabled=pagerduty_events_enabled,
        label="PagerDuty resolve",
        off_reason=PAGERDUTY_EVENTS_OFF,
    )
    register_sender(
        "pagerduty.note",
        send=pagerduty_note,
        enabled=pagerduty_rest_enabled,
        label="PagerDuty note",
        off_reason=PAGERDUTY_REST_OFF,
        # No idempotency key for REST notes (checked: PagerDuty REST API v2, `pagerduty`'s
        # RestApiV2Client has only a client-side find-or-create, not usable for notes).
        may_repeat=True,
    )
