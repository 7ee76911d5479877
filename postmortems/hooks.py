"""How post-mortems plug into the incidents app: open the post-mortem when an incident
resolves, refuse a close without its meeting, the timers and the email sender; and into
on-call's Friday handoff note, with the open action items. The table of
which runs when is ``postmortems/handlers.py``; ``register()`` adds the sender at start-up.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail

from incidents.events import IncidentCloseRequested, IncidentTransitioned
from incidents.models import Channel, Incident
from incidents.services.timeline import timeline_append
from nexusops.common.errors import Conflict
from nexusops.engine.models import OutboxMessage, Timer
from nexusops.engine.outbox import outbox_enqueue, register_sender
from oncall.events import HandoffSections

from . import messages
from .models import ActionItem, PostMortem
from .selectors import action_item_list
from .services.action_items import action_item_notify
from .services.common import EMAIL, policy
from .services.document import postmortem_create


def open_on_resolve(event: IncidentTransitioned) -> None:
    incident = event.incident
    if event.action != "resolve":
        return
    if incident.severity.code in policy().required_codes:
        postmortem_create(
            incident=incident,
            actor=None,
            required=True,
            reason=f"{incident.severity.code} resolved",
        )


def refuse_close_without_meeting(event: IncidentCloseRequested) -> None:
    """A P0/P1 (the policy's severities) closes only once its meeting is scheduled."""
    incident = event.incident
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


def _item_due(timer: Timer, stage: str) -> None:
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


def item_reminder_due(timer: Timer, incident: Incident | None, now: dt.datetime) -> None:
    _item_due(timer, "reminder")


def item_overdue(timer: Timer, incident: Incident | None, now: dt.datetime) -> None:
    _item_due(timer, "overdue")


def handoff_action_items(question: HandoffSections) -> list[str] | None:
    """The handoff note's section of open post-mortem action items (``None`` when none)."""
    items = action_item_list(state="open")
    count = items.count()
    if not count:
        return None
    shown = list(items[: messages.HANDOFF_ITEMS])
    return messages.handoff_section(shown, count, question.end.astimezone(dt.UTC).date())


def send_email(message: OutboxMessage) -> dict:
    payload = message.payload
    send_mail(payload["subject"], payload["body"], settings.DEFAULT_FROM_EMAIL, payload["to"])
    return {"to": payload["to"]}


def register() -> None:
    # may_repeat: SMTP takes no idempotency key, so a crash mid-send may mail it twice.
    register_sender(
        EMAIL, send=send_email, enabled=lambda: True, label="Post-mortem email", may_repeat=True
    )
