from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser

from nexusops.common import clock

from ..models import Channel, Incident, TimelineEvent
from .common import actor_name

# Called as fn(incident, event) inside the transaction that appended the event. The
# communications fan-out listens here, so every change reaches Slack/PagerDuty by one path.
timeline_listeners: list[Callable[[Incident, TimelineEvent], None]] = []


def timeline_append(
    *,
    incident: Incident,
    kind: str,
    message: str,
    actor: AbstractBaseUser | None = None,
    channel: str = Channel.WEB,
    data: dict | None = None,
    internal: bool = False,
    at: dt.datetime | None = None,
) -> TimelineEvent:
    """Append one fact. Call inside the transaction of the change it records."""
    event = TimelineEvent.objects.create(
        incident=incident,
        kind=kind,
        message=message,
        actor=actor,
        actor_name=actor_name(actor),
        channel=channel,
        data=data or {},
        visibility=TimelineEvent.Visibility.INTERNAL
        if internal
        else TimelineEvent.Visibility.PUBLIC,
        created_at=at or clock.now(),
    )
    # The live view's cheap "changed since?" check reads this one integer.
    Incident.objects.filter(pk=incident.pk).update(last_event_id=event.pk)
    incident.last_event_id = event.pk
    for listener in timeline_listeners:
        listener(incident, event)
    return event
