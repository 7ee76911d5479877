"""Which incident events reach which vendor (runbook 2.2 steps 1, 3 and 5).

Each function handles one kind of event (see ``incidents/handlers.py``) inside the transaction
of the change, so a message exists if and only if the change committed. Changes that came
*from* a vendor are not echoed back to it.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from nexusops.engine.outbox import outbox_enqueue

from ..events import (
    IncidentAssigned,
    IncidentDeclared,
    IncidentEvent,
    IncidentTransitioned,
    IncidentUpdated,
    NoteAdded,
)
from ..models import Channel
from . import render

PAGERDUTY_BY_ACTION = {
    "acknowledge": "pagerduty.acknowledge",
    "resolve": "pagerduty.resolve",
    "reopen": "pagerduty.trigger",
}


def _key(event: IncidentEvent) -> str:
    return f"{event.incident.number}:{event.entry.pk}"


def channel_open(event: IncidentDeclared) -> None:
    """Declared: the incident's Slack channel, the stakeholder announcement, the page."""
    incident, number = event.incident, event.incident.number
    outbox_enqueue(target="slack.channel_setup", key=f"{number}:slack-channel", incident=incident)
    if settings.SLACK_ANNOUNCE_CHANNEL:
        outbox_enqueue(
            target="slack.post",
            key=f"{number}:slack-announce",
            incident=incident,
            payload={
                "channel": settings.SLACK_ANNOUNCE_CHANNEL,
                "text": render.slack_announcement(incident),
            },
        )
    if event.channel != Channel.PAGERDUTY:
        outbox_enqueue(target="pagerduty.trigger", key=f"{number}:pd-trigger", incident=incident)


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
        target=target, key=f"{_key(event)}:{suffix}", incident=event.incident, payload=payload
    )


def pagerduty_note(event: IncidentUpdated | NoteAdded) -> None:
    """Major updates (a stakeholder update, a change of severity or impact) as PagerDuty notes."""
    if event.channel == Channel.PAGERDUTY or (isinstance(event, NoteAdded) and event.internal):
        return
    outbox_enqueue(
        target="pagerduty.note",
        key=f"{_key(event)}:pd-note",
        incident=event.incident,
        payload={
            "dedup_key": event.incident.number,
            "text": f"{event.entry.actor_name}: {event.entry.message}",
        },
    )


def slack_summary(event: IncidentTransitioned | IncidentUpdated | IncidentAssigned) -> None:
    """Edit the pinned summary in the incident channel."""
    outbox_enqueue(
        target="slack.summary_update", key=f"{_key(event)}:slack-summary", incident=event.incident
    )


def slack_invite(event: IncidentAssigned) -> None:
    outbox_enqueue(
        target="slack.invite", key=f"{_key(event)}:slack-invite", incident=event.incident
    )


def slack_mirror(event: IncidentEvent) -> None:
    """Post the timeline line into the incident channel (unless it came from Slack)."""
    if event.channel == Channel.SLACK:
        return
    entry = event.entry
    outbox_enqueue(
        target="slack.post",
        key=f"{_key(event)}:slack-mirror",
        incident=event.incident,
        payload={
            "text": render.slack_event_line(
                event.incident, entry.kind, entry.actor_name, entry.message
            )
        },
    )


def slack_archive_later(event: IncidentTransitioned) -> None:
    """Closed: archive the channel a day later (the archive re-checks it is still closed)."""
    if event.action != "close":
        return
    # Keyed by the close: a close after a reopen schedules an archive of its own, and the
    # archive of an earlier close skips (it compares ``closed_at``).
    closed_at = event.incident.closed_at
    outbox_enqueue(
        target="slack.archive",
        key=f"{_key(event)}:slack-archive",
        incident=event.incident,
        payload={"closed_at": closed_at.isoformat() if closed_at else ""},
        delay=dt.timedelta(hours=settings.SLACK_ARCHIVE_AFTER_HOURS),
    )
