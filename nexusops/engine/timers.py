"""Due moments stored as rows (DESIGN.md rule 4), and the sweep that fires them.

``timers_sweep`` (Celery beat, every few seconds) fires what is due, each timer under a row lock
so two sweepers never fire one twice. What a timer of a kind does is in the ``TIMERS`` table of
the app that owns the kind (its ``handlers.py``, see ``events``)::

    TIMERS = {"escalation": fire_escalation_timer}   # fn(timer, incident, now)
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction

from nexusops.common import clock

from . import events
from .models import Timer

logger = logging.getLogger(__name__)


def timers_cancel(incident: object, *kinds: str) -> None:
    """Cancel the subject's pending timers of these kinds."""
    Timer.objects.filter(
        incident=incident, kind__in=kinds, fired_at__isnull=True, cancelled_at__isnull=True
    ).update(cancelled_at=clock.now())


def timers_sweep(*, limit: int = 500, batch: int = 1) -> int:
    """Fire every due timer; safe to run in several processes at once.

    Up to ``batch`` due timers are claimed per transaction (``skip_locked``: another sweeper
    takes the next ones) and fired in incident order, each in a savepoint, so a timer whose
    handler fails is left due (logged, retried next sweep) without holding up the others.
    One per transaction by default: larger batches measured no faster (bench/README.md) and
    hold sibling timers locked longer while their incident is being changed.
    """
    fired = 0
    failed: set[int] = set()  # left due for the next sweep, not retried in a loop here
    while fired < limit:
        with transaction.atomic():
            now = clock.now()
            claimed = list(
                Timer.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(due_at__lte=now, fired_at__isnull=True, cancelled_at__isnull=True)
                .exclude(pk__in=failed)
                .order_by("due_at", "id")[: min(batch, limit - fired)]
            )
            if not claimed:
                return fired
            claimed.sort(key=lambda t: (t.incident_id or 0, t.due_at, t.pk))
            for timer in claimed:
                try:
                    with transaction.atomic():
                        if _fire(timer, now):
                            fired += 1
                except Exception:  # noqa: BLE001 - one bad timer must not stop the sweep
                    failed.add(timer.pk)
                    logger.exception("timer %s (%s) failed; it stays due", timer.pk, timer.kind)
    return fired


def _fire(timer: Timer, now: dt.datetime) -> bool:
    # An earlier handler in this batch may have cancelled or moved this timer.
    timer.refresh_from_db(fields=["fired_at", "cancelled_at", "due_at"])
    if timer.fired_at or timer.cancelled_at or timer.due_at > now:
        return False
    incident = None
    if timer.incident_id:
        subject = Timer._meta.get_field("incident").related_model
        incident = (
            # of=self: the joined severity row is shared by every incident of its level;
            # locking it too would serialise all firings.
            subject.objects.select_for_update(of=("self",))
            .select_related("severity")
            .get(pk=timer.incident_id)
        )
    timer.fired_at = now
    timer.save(update_fields=["fired_at"])
    handler = events.timer_handler(timer.kind)
    if handler is None:
        logger.error("no handler for timer kind %s (timer %s)", timer.kind, timer.pk)
    else:
        handler(timer, incident, now)
    return True
