"""Which incident events are said in chat (runbook 2.2 steps 1, 3 and 5).

Each function handles one kind of event (see ``chat/handlers.py``) inside the transaction of
the change, so a message exists if and only if the change committed: one outbox row per
configured provider (``NEXUSOPS_CHAT``), target ``<provider>.<effect>`` and key ending
``:<provider>-<effect>``, so each provider's messages are idempotent on their own. Changes
that came *from* a chat are not echoed back to it.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from incidents.events import (
    IncidentAssigned,
    IncidentDeclared,
    IncidentEvent,
    IncidentTransitioned,
    IncidentUpdated,
)
from incidents.paging.fanout import event_key
from nexusops.engine.outbox import outbox_enqueue
from nexusops.integrations.chat.registry import chat_provider_class

from . import render
from .senders import chat_providers


def channel_open(event: IncidentDeclared) -> None:
    """Declared: the incident's channel at each provider, and the Slack announcement."""
    incident, number = event.incident, event.incident.number
    for name in chat_providers():
        outbox_enqueue(
            target=f"{name}.channel_setup", key=f"{number}:{name}-channel", incident=incident
        )
    if settings.SLACK_ANNOUNCE_CHANNEL and "slack" in chat_providers():
        summary = render.chat_summary(incident)
        outbox_enqueue(
            target="slack.post",
            key=f"{number}:slack-announce",
            incident=incident,
            payload={
                "channel": settings.SLACK_ANNOUNCE_CHANNEL,
                "text": chat_provider_class("slack").announcement_text(summary),
            },
        )


def chat_summary(event: IncidentTransitioned | IncidentUpdated | IncidentAssigned) -> None:
    """Edit the pinned summary in the incident's channels."""
    for name in chat_providers():
        outbox_enqueue(
            target=f"{name}.summary_update",
            key=f"{event_key(event)}:{name}-summary",
            incident=event.incident,
        )


def chat_invite(event: IncidentAssigned) -> None:
    for name in chat_providers():
        outbox_enqueue(
            target=f"{name}.invite",
            key=f"{event_key(event)}:{name}-invite",
            incident=event.incident,
        )


def chat_mirror(event: IncidentEvent) -> None:
    """Post the timeline line into the incident's channels (unless it came from that chat)."""
    entry = event.entry
    line = render.chat_line(entry.kind, entry.actor_name, entry.message)
    for name in chat_providers():
        if event.channel == name:  # a timeline Channel value ("slack") names its chat
            continue
        outbox_enqueue(
            target=f"{name}.post",
            key=f"{event_key(event)}:{name}-mirror",
            incident=event.incident,
            payload={"text": chat_provider_class(name).line_text(line)},
        )


def chat_archive_later(event: IncidentTransitioned) -> None:
    """Closed: archive the channels a day later (the archive re-checks it is still closed)."""
    if event.action != "close":
        return
    # Keyed by the close: a close after a reopen schedules an archive of its own, and the
    # archive of an earlier close skips (it compares ``closed_at``).
    closed_at = event.incident.closed_at
    for name in chat_providers():
        outbox_enqueue(
            target=f"{name}.archive",
            key=f"{event_key(event)}:{name}-archive",
            incident=event.incident,
            payload={"closed_at": closed_at.isoformat() if closed_at else ""},
            delay=dt.timedelta(hours=settings.CHAT_ARCHIVE_AFTER_HOURS),
        )
