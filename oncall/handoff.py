"""Handoff notes and shift reminders, as Timer rows (kinds ``oncall_handoff`` and
``oncall_reminder``, data ``{"rotation": id, "shift": n}``) re-armed at each firing.

A handoff note lists the past week's incidents and the open ones; other apps add sections
(open post-mortem action items) by answering ``HandoffSections`` in their ``handlers.py``
with a list of lines.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from incidents.models import OPEN_STATUSES, Incident
from nexusops.common import clock
from nexusops.common.services import actor_name
from nexusops.engine import events
from nexusops.engine.models import Timer
from nexusops.engine.outbox import outbox_enqueue

from . import schedule
from .events import HandoffSections
from .models import Rotation

HANDOFF = "oncall_handoff"
REMINDER = "oncall_reminder"


def rotation_timers_arm(rotation: Rotation, *, now: dt.datetime | None = None) -> None:
    """Pending handoff/reminder timers for the rotation's next shift (replacing old ones)."""
    now = now or clock.now()
    Timer.objects.filter(
        kind__in=[HANDOFF, REMINDER],
        data__rotation=rotation.pk,
        fired_at__isnull=True,
        cancelled_at__isnull=True,
    ).update(cancelled_at=now)
    if not rotation.active or not rotation.members.exists():
        return
    index = max(schedule.shift_index(rotation, now) + 1, 0)
    starts = schedule.handoff_at(rotation, index)
    data = {"rotation": rotation.pk, "shift": index}
    Timer.objects.create(kind=HANDOFF, due_at=starts, data=data)
    remind = starts - rotation.reminder_before
    if remind > now:
        Timer.objects.create(kind=REMINDER, due_at=remind, data=data)


def _local(at: dt.datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%a %d %b %H:%M %Z")


def handoff_note(rotation: Rotation, starts: dt.datetime) -> str:
    week_ago = starts - dt.timedelta(weeks=1)
    past = Incident.objects.filter(
        detected_at__gte=week_ago, detected_at__lt=starts
    ).select_related("severity")
    still_open = Incident.objects.filter(status__in=OPEN_STATUSES).select_related("severity")
    lines = [f"Incidents of the past week ({past.count()}):"]
    lines += [f"• {i.number} [{i.severity.code}] {i.title} — {i.status}" for i in past[:50]]
    lines.append(f"Open incidents ({still_open.count()}):")
    lines += [f"• {i.number} [{i.severity.code}] {i.title} — {i.status}" for i in still_open[:50]]
    for section in events.ask(HandoffSections(rotation=rotation, start=week_ago, end=starts)):
        lines += section
    return "\n".join(lines)


def fire_handoff(timer: Timer, incident: Incident | None, now: dt.datetime) -> None:
    rotation = Rotation.objects.filter(pk=timer.data.get("rotation")).first()
    if rotation is None:
        return
    index = timer.data["shift"]
    starts = schedule.handoff_at(rotation, index)
    person = schedule.on_call_at(rotation, starts)
    previous = schedule.on_call_at(rotation, starts - dt.timedelta(seconds=1))
    if person is not None:
        name = actor_name(person)
        head = f"On-call handoff for {rotation.name}: {name} is on call from " + _local(
            starts, rotation.time_zone
        )
        if previous is not None and previous.pk != person.pk:
            head += f" (taking over from {actor_name(previous)})"
        text = head + ".\n" + handoff_note(rotation, starts)
        if rotation.slack_channel:
            outbox_enqueue(
                target="slack.post",
                key=f"oncall:handoff:{rotation.pk}:{index}:slack",
                payload={"channel": rotation.slack_channel, "text": text},
            )
        if person.email:
            outbox_enqueue(
                target="email.oncall",
                key=f"oncall:handoff:{rotation.pk}:{index}:email",
                payload={
                    "to": person.email,
                    "subject": f"[NexusOps] You are on call for {rotation.name} now",
                    "body": text,
                },
            )
    rotation_timers_arm(rotation, now=max(now, starts))


def fire_reminder(timer: Timer, incident: Incident | None, now: dt.datetime) -> None:
    rotation = Rotation.objects.filter(pk=timer.data.get("rotation")).first()
    if rotation is None:
        return
    starts = schedule.handoff_at(rotation, timer.data["shift"])
    person = schedule.on_call_at(rotation, starts)
    if person is None or not person.email or starts <= now:
        return
    tz = getattr(getattr(person, "profile", None), "time_zone", "") or rotation.time_zone
    outbox_enqueue(
        target="email.oncall",
        key=f"oncall:reminder:{rotation.pk}:{timer.data['shift']}:{person.pk}",
        payload={
            "to": person.email,
            "subject": f"[NexusOps] Your on-call shift for {rotation.name} starts soon",
            "body": f"Your shift starts {_local(starts, tz)} and ends "
            f"{_local(schedule.handoff_at(rotation, timer.data['shift'] + 1), tz)}.",
        },
    )
