"""How post-mortems plug into the incidents app: a timeline listener (open the post-mortem
when an incident resolves), a close guard, the timer handlers and the email sender.

``register()`` is called once from ``PostmortemsConfig.ready()``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail

from incidents.models import Channel, Incident, OutboxMessage, TimelineEvent, Timer
from incidents.services import lifecycle, timeline, timers
from incidents.services.outbox import outbox_enqueue, register_sender
from incidents.services.timeline import timeline_append
from nexusops.common.errors import Conflict

from . import messages
from .models import ActionItem, PostMortem
from .services.action_items import ITEM_OVERDUE, ITEM_REMINDER, action_item_notify
from .services.common import EMAIL, policy
from .services.document import MEETING_REMINDER, SCHEDULE_DUE, postmortem_create


def on_timeline_event(incident: Incident, event: TimelineEvent) -> None:
    if event.kind != "status_changed" or (event.data or {}).get("action") != "resolve":
        return
    if incident.severity.code in policy().required_codes:
        postmortem_create(
            incident=incident,
            actor=None,
            required=True,
            reason=f"{incident.severity.code} resolved",
        )


def close_guard(incident: Incident) -> None:
    """A P0/P1 (the policy's severities) closes only once its meeting is scheduled."""
    if incident.severity.code not in policy().required_codes:
        return
    if not PostMortem.objects.filter(
        incident=incident, meeting_scheduled_at__isnull=False
    ).exists():
        raise Conflict(
            f"A {incident.severity.code} needs its post-mortem meeting scheduled before it is "
            "closed: schedule it on the post-mortem page.",
            code="postmortem_not_scheduled",
        )


def _postmortem(timer: Timer) -> PostMortem | None:
    return (
        PostMortem.objects.select_for_update()
        .select_related("incident")
        .filter(pk=(timer.data or {}).get("postmortem"))
        .first()
    )


def schedule_due(timer: Timer, incident: Incident | None, now: dt.datetime) -> None:
    postmortem = _postmortem(timer)
    if postmortem is None or postmortem.meeting_scheduled_at is not None:
        return
    postmortem.overdue_at = now
    postmortem.save(update_fields=["overdue_at"])
    text = messages.overdue(postmortem)
    timeline_append(
        incident=postmortem.incident,
        kind="postmortem_overdue",
        channel=Channel.SYSTEM,
        internal=True,
        message=text,
        data={"postmortem": postmortem.pk},
        at=now,
    )
    outbox_enqueue(
        target="slack.post",
        key=f"{postmortem.incident.number}:pm-overdue",
        incident=postmortem.incident,
        payload={"text": f":warning: {text}"},
    )


def meeting_reminder(timer: Timer, incident: Incident | None, now: dt.datetime) -> None:
    postmortem = _postmortem(timer)
    if postmortem is None or postmortem.meeting_at is None:
        return
    if (timer.data or {}).get("meeting_at") != postmortem.meeting_at.isoformat():
        return  # the meeting moved; its own reminder is pending
    text = messages.meeting_reminder(postmortem)
    stamp = postmortem.meeting_at.strftime("%Y%m%d%H%M")
    for person in postmortem.attendees.all():
        if person.email:
            outbox_enqueue(
                target=EMAIL,
                key=f"pm{postmortem.pk}:reminder:{stamp}:{person.pk}",
                incident=postmortem.incident,
                payload={"to": [person.email], **text},
            )
    outbox_enqueue(
        target="slack.post",
        key=f"{postmortem.incident.number}:pm-reminder:{stamp}",
        incident=postmortem.incident,
        payload={"text": text["subject"].split("] ", 1)[-1]},
    )


def _item_timer(stage: str):  # noqa: ANN202
    def handler(timer: Timer, incident: Incident | None, now: dt.datetime) -> None:
        item = (
            ActionItem.objects.select_for_update()
            .select_related("postmortem__incident", "owner")
            .filter(pk=(timer.data or {}).get("action_item"))
            .first()
        )
        if item is None or not item.is_open:
            return
        item.reminders_sent += 1
        item.save(update_fields=["reminders_sent"])
        action_item_notify(item, stage)

    return handler


def send_email(message: OutboxMessage) -> dict:
    payload = message.payload
    send_mail(payload["subject"], payload["body"], settings.DEFAULT_FROM_EMAIL, payload["to"])
    return {"to": payload["to"]}


def register() -> None:
    register_sender(EMAIL, send=send_email, enabled=lambda: True, label="Post-mortem email")
    if on_timeline_event not in timeline.timeline_listeners:
        timeline.timeline_listeners.append(on_timeline_event)
    if close_guard not in lifecycle.close_guards:
        lifecycle.close_guards.append(close_guard)
    timers.timer_handler(SCHEDULE_DUE)(schedule_due)
    timers.timer_handler(MEETING_REMINDER)(meeting_reminder)
    timers.timer_handler(ITEM_REMINDER)(_item_timer("reminder"))
    timers.timer_handler(ITEM_OVERDUE)(_item_timer("overdue"))
