"""What the incident shows about its timers that stopped: the failure, and a person's retry.

The engine's sweep stops a timer after its handler failed ``TIMER_MAX_ATTEMPTS`` times and
publishes ``TimerDied``; the incident's timeline says so, the command page lists it with a
Retry button (``timer_retry``), and so does the admin.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from nexusops.common.text import fmt
from nexusops.engine.models import Timer
from nexusops.engine.timers import TimerDied, timer_requeue

from ..models import Channel, Incident, TimerKind
from .common import lock, require
from .timeline import timeline_append


def timer_label(timer: Timer) -> str:
    """How a person calls this timer: "Acknowledge deadline", "Escalation tier 2"."""
    labels = dict(TimerKind.choices)
    if timer.kind in labels:
        return str(labels[timer.kind])
    words = timer.kind.replace("_", " ").replace(".", " ").capitalize()
    tier = (timer.data or {}).get("tier")
    return f"{words} tier {tier}" if tier is not None else words


def record_timer_died(event: TimerDied) -> None:
    if not isinstance(event.subject, Incident):
        return
    timer = event.timer
    timeline_append(
        incident=event.subject,
        kind="timer_dead",
        channel=Channel.SYSTEM,
        internal=True,
        at=timer.dead_at,
        message=f"Stopped trying “{timer_label(timer)}” (due {fmt(timer.due_at)}) after "
        f"{timer.attempts} failed attempts: {timer.last_error} "
        "It will not fire until someone retries it.",
        data={"timer": timer.pk, "timer_kind": timer.kind, "attempts": timer.attempts},
    )


@transaction.atomic
def timer_retry(*, timer: Timer | int, actor: User | None) -> Timer:
    """A person asks a stopped timer to try again: due now, attempts reset, on the timeline."""
    require(actor, "drive_incident")
    pk = timer.pk if isinstance(timer, Timer) else timer
    incident_id = Timer.objects.filter(pk=pk).values_list("incident_id", flat=True).first()
    incident = lock(incident_id) if incident_id else None  # the subject first, then the timer
    timer, attempts = timer_requeue(timer_id=pk)
    if incident is not None:
        timeline_append(
            incident=incident,
            kind="timer_retried",
            actor=actor,
            internal=True,
            message=f"Retrying “{timer_label(timer)}” (stopped after {attempts} failed "
            f"attempts: {timer.last_error}); the next sweep fires it.",
            data={"timer": timer.pk, "timer_kind": timer.kind},
        )
    return timer
