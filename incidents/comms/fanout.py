"""Which timeline events reach which vendor (runbook 2.2 steps 1, 3 and 5).

Runs inside the transaction of each change (a timeline listener), so a message exists if and
only if the change committed. Events that came *from* a vendor are not echoed back to it.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from ..models import Channel, Incident, TimelineEvent
from ..services.outbox import outbox_enqueue
from . import render

# Timeline kinds mirrored into the incident's Slack channel.
MIRRORED_KINDS = {
    "status_changed",
    "updated",
    "assigned",
    "note",
    "update",
    "sla_breached",
    "monitoring_complete",
    "escalated",
}
# Kinds after which the pinned summary is edited.
SUMMARY_KINDS = {"status_changed", "updated", "assigned"}
# PagerDuty REST notes for major updates.
PAGERDUTY_NOTE_KINDS = {"update", "updated"}


def on_timeline_event(incident: Incident, event: TimelineEvent) -> None:
    key = f"{incident.number}:{event.pk}"
    if event.kind == "declared":
        _declared(incident, event)
        return
    action = (event.data or {}).get("action")
    if event.channel != Channel.PAGERDUTY:
        if action == "acknowledge":
            outbox_enqueue(
                target="pagerduty.acknowledge",
                key=f"{key}:pd-ack",
                incident=incident,
                payload={"dedup_key": incident.number},
            )
        elif action == "resolve":
            outbox_enqueue(
                target="pagerduty.resolve",
                key=f"{key}:pd-resolve",
                incident=incident,
                payload={"dedup_key": incident.number},
            )
        elif action == "reopen":
            outbox_enqueue(target="pagerduty.trigger", key=f"{key}:pd-trigger", incident=incident)
        if event.kind in PAGERDUTY_NOTE_KINDS:
            outbox_enqueue(
                target="pagerduty.note",
                key=f"{key}:pd-note",
                incident=incident,
                payload={
                    "dedup_key": incident.number,
                    "text": f"{event.actor_name}: {event.message}",
                },
            )
    if event.kind in SUMMARY_KINDS:
        outbox_enqueue(target="slack.summary_update", key=f"{key}:slack-summary", incident=incident)
    if event.kind == "assigned":
        outbox_enqueue(target="slack.invite", key=f"{key}:slack-invite", incident=incident)
    if event.kind in MIRRORED_KINDS and event.channel != Channel.SLACK:
        outbox_enqueue(
            target="slack.post",
            key=f"{key}:slack-mirror",
            incident=incident,
            payload={
                "text": render.slack_event_line(
                    incident, event.kind, event.actor_name, event.message
                )
            },
        )
    if action == "close":
        outbox_enqueue(
            target="slack.archive",
            key=f"{incident.number}:slack-archive",
            incident=incident,
            delay=dt.timedelta(hours=settings.SLACK_ARCHIVE_AFTER_HOURS),
        )


def _declared(incident: Incident, event: TimelineEvent) -> None:
    number = incident.number
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
