from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User

from nexusops.common import clock
from nexusops.common.services import actor_name
from nexusops.engine.held_rows import holding

from ..models import Channel, Incident, TimelineEvent


def timeline_append(
    *,
    incident: Incident,
    kind: str,
    message: str,
    actor: User | None = None,
    channel: str = Channel.WEB,
    data: dict | None = None,
    internal: bool = False,
    at: dt.datetime | None = None,
) -> TimelineEvent:
    """Append one fact. Call inside the transaction of the change it records.

    The timeline is the audit log only: code that acts on a change handles the typed event
    the service publishes next to this call (``incidents/events.py``), never a ``kind``.

    Inside a timer batch that holds rows (``nexusops.engine.held_rows``) the entry has its id
    at once and is inserted, with the pointer below, together with the batch's others."""
    event = TimelineEvent(
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
    held = holding(TimelineEvent)
    if held is not None and holding(Incident) is held:
        held.insert(event)
        # The live view's cheap "changed since?" check reads this one integer.
        held.set(Incident, incident.pk, "last_event_id", event.pk)
    else:
        event.save(force_insert=True)
        Incident.objects.filter(pk=incident.pk).update(last_event_id=event.pk)
    incident.last_event_id = event.pk
    return event
