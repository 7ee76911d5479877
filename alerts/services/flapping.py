"""One alert's state: an event applied to it (late deliveries counted, not applied) and
flapping, set when it changes status too often within a window and ended by ``alerts_settle``
once it has calmed down, which also announces what silences held back. ``processing`` routes
and groups; this is what happens to each alert.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from nexusops.common import clock

from ..models import Alert, AlertGroup, AlertStatus, ProcessingLock
from .announce import group_announce
from .batch_writes import groups_recount

if TYPE_CHECKING:
    from .processing import _Event

FIRING, RESOLVED = AlertStatus.FIRING, AlertStatus.RESOLVED


def flap_window() -> dt.timedelta:
    return dt.timedelta(minutes=getattr(settings, "ALERTS_FLAP_WINDOW_MINUTES", 10))


def flap_changes() -> int:
    """Status changes inside the window that make an alert flapping."""
    return getattr(settings, "ALERTS_FLAP_CHANGES", 4)


def alert_apply(alert: Alert, event: _Event, now: dt.datetime) -> None:
    data = event.data or {}
    alert.event_count += 1
    alert.last_seen = now
    if event.status == FIRING or not alert.title:
        alert.title = (data.get("title") or event.fingerprint)[:200]
        alert.labels = data.get("labels") or {}
        alert.annotations = data.get("annotations") or {}
        alert.value = data.get("value")
        alert.url = (data.get("url") or "")[:500]
    new = not alert.status
    if alert.status == event.status:
        return
    if not new and event.at < alert.status_changed_at:
        return  # a late delivery of an older state: counted, not applied
    alert.status = event.status
    alert.status_changed_at = event.at
    alert.resolved_at = event.at if event.status == RESOLVED else None
    if new:
        return
    window_start = event.at - flap_window()
    flips = [f for f in alert.flips if dt.datetime.fromisoformat(f) >= window_start]
    flips.append(event.at.isoformat())
    alert.flips = flips[-(flap_changes() * 2) :]
    alert.flapping = len(flips) >= flap_changes()


@transaction.atomic
def alerts_settle(*, now: dt.datetime | None = None) -> int:
    """Sweep: end flapping that has calmed down and announce what silences held back."""
    ProcessingLock.objects.get_or_create(name="alerts")
    ProcessingLock.objects.select_for_update().get(name="alerts")
    now = now or clock.now()
    calm: list[Alert] = []
    for alert in Alert.objects.filter(flapping=True).select_related("group"):
        recent = [f for f in alert.flips if dt.datetime.fromisoformat(f) >= now - flap_window()]
        if len(recent) < flap_changes():
            alert.flapping = False
            alert.flips = recent
            calm.append(alert)
    if calm:
        Alert.objects.bulk_update(calm, ["flapping", "flips"])
        groups_recount(list({a.group.pk: a.group for a in calm}.values()), now)
    due = AlertGroup.objects.exclude(status=F("announced_status")).filter(flapping=False)
    due = due.filter(Q(silenced_until__isnull=True) | Q(silenced_until__lte=now))
    count = 0
    for group in due.select_related("rule__severity", "incident")[:200]:
        count += int(group_announce(group=group, now=now))
    return count
