"""Which incident events reach PagerDuty (runbook 2.2 steps 1 and 3).

Each function handles one kind of event (see ``incidents/handlers.py``) inside the transaction
of the change, so a message exists if and only if the change committed. Changes that came
*from* PagerDuty are not echoed back to it.
"""

from __future__ import annotations

from nexusops.engine.outbox import outbox_enqueue

from ..events import (
    IncidentDeclared,
    IncidentEvent,
    IncidentTransitioned,
    IncidentUpdated,
    NoteAdded,
)
from ..models import Channel

PAGERDUTY_BY_ACTION = {
    "acknowledge": "pagerduty.acknowledge",
    "resolve": "pagerduty.resolve",
    "reopen": "pagerduty.trigger",
}


def event_key(event: IncidentEvent) -> str:
    """The outbox key stem of one timeline entry: ``INC-…:<entry id>``."""
    return f"{event.incident.number}:{event.entry.pk}"


def pagerduty_page(event: IncidentDeclared) -> None:
    """Declared: page through PagerDuty (unless PagerDuty declared it)."""
    if event.channel != Channel.PAGERDUTY:
        incident = event.incident
        outbox_enqueue(
            target="pagerduty.trigger", key=f"{incident.number}:pd-trigger", incident=incident
        )


def pagerduty_follow(event: IncidentTransitioned) -> None:
    """Acknowledge, resolve or re-trigger the PagerDuty alert as the incident moves."""
    target = PAGERDUTY_BY_ACTION.get(event.action)
    if target is None or event.channel == Channel.PAGERDUTY:
        return
    suffix = {"pagerduty.acknowledge": "pd-ack", "pagerduty.resolve": "pd-resolve"}.get(
        target, "pd-trigger"
    )
    payload = {} if target == "pagerduty.trigger" else {"dedup_key": event.incident.number}
    outbox_enqueue(
        target=target, key=f"{event_key(event)}:{suffix}", incident=event.incident, payload=payload
    )


def pagerduty_note(event: IncidentUpdated | NoteAdded) -> None:
    """Major updates (a stakeholder update, a change of severity or impact) as PagerDuty notes."""
    if event.channel == Channel.PAGERDUTY or (isinstance(event, NoteAdded) and event.internal):
        return
    outbox_enqueue(
        target="pagerduty.note",
        key=f"{event_key(event)}:pd-note",
        incident=event.incident,
        payload={
            "dedup_key": event.incident.number,
            "text": f"{event.entry.actor_name}: {event.entry.message}",
        },
    )
