"""SLA clocks and other due moments, stored as rows (DESIGN.md rule 4).

``sla_refresh`` makes an incident's pending timers match its state (called in the same
transaction as every change); ``timers_sweep`` (Celery beat, every few seconds) fires what is
due, each timer under a row lock so two sweepers never fire one twice. To handle a new kind::

    @timer_handler("escalation_tier")
    def _fire_escalation(timer, incident, now): ...
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from nexusops.common import clock

from ..models import Channel, Incident, Status, Timer
from .timeline import timeline_append

logger = logging.getLogger(__name__)

SLA_KINDS = (Timer.Kind.ACK_DEADLINE, Timer.Kind.FIRST_UPDATE)
Handler = Callable[[Timer, Incident | None, dt.datetime], None]
_handlers: dict[str, Handler] = {}
# Called as fn(incident, timer, now) when an SLA deadline is breached (escalation listens).
breach_listeners: list[Callable[[Incident, Timer, dt.datetime], None]] = []


def timer_handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _handlers[kind] = fn
        return fn

    return register


def monitoring_period() -> dt.timedelta:
    return dt.timedelta(minutes=getattr(settings, "INCIDENT_MONITORING_MINUTES", 30))


def fmt(at: dt.datetime) -> str:
    return timezone.localtime(at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _wanted_sla(incident: Incident) -> dict[str, dt.datetime]:
    """The SLA deadlines this incident should have pending right now."""
    wanted: dict[str, dt.datetime] = {}
    sev = incident.severity
    if incident.status == Status.TRIGGERED:
        wanted[Timer.Kind.ACK_DEADLINE] = incident.detected_at + sev.response_time
    if (
        sev.first_update_within
        and incident.first_update_at is None
        and incident.status not in (Status.RESOLVED, Status.MONITORING, Status.CLOSED)
    ):
        wanted[Timer.Kind.FIRST_UPDATE] = incident.detected_at + sev.first_update_within
    return wanted


def sla_refresh(incident: Incident) -> list[str]:
    """Align pending SLA timers with the incident; returns human lines for what moved."""
    now = clock.now()
    wanted = _wanted_sla(incident)
    changes: list[str] = []
    fired_kinds = set(
        Timer.objects.filter(
            incident=incident, kind__in=SLA_KINDS, fired_at__isnull=False
        ).values_list("kind", flat=True)
    )
    pending = {
        t.kind: t
        for t in Timer.objects.filter(
            incident=incident, kind__in=SLA_KINDS, fired_at__isnull=True, cancelled_at__isnull=True
        )
    }
    for kind, timer in pending.items():
        if kind not in wanted:
            timer.cancelled_at = now
            timer.save(update_fields=["cancelled_at"])
        elif timer.due_at != wanted[kind]:
            changes.append(
                f"{Timer.Kind(kind).label} moved from {fmt(timer.due_at)} to {fmt(wanted[kind])}"
            )
            timer.due_at = wanted[kind]
            timer.save(update_fields=["due_at"])
    for kind, due in wanted.items():
        if kind not in pending and kind not in fired_kinds:
            Timer.objects.create(incident=incident, kind=kind, due_at=due)
            if incident.pk and incident.version > 1:
                changes.append(f"{Timer.Kind(kind).label} set to {fmt(due)}")
    next_timer = (
        Timer.objects.filter(
            incident=incident, kind__in=SLA_KINDS, fired_at__isnull=True, cancelled_at__isnull=True
        )
        .order_by("due_at")
        .first()
    )
    incident.sla_next_due_at = next_timer.due_at if next_timer else None
    incident.sla_next_kind = next_timer.kind if next_timer else ""
    Incident.objects.filter(pk=incident.pk).update(
        sla_next_due_at=incident.sla_next_due_at, sla_next_kind=incident.sla_next_kind
    )
    return changes


def timers_cancel(incident: Incident, *kinds: str) -> None:
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
        incident = (
            # of=self: the joined severity row is shared by every incident of its level;
            # locking it too would serialise all firings.
            Incident.objects.select_for_update(of=("self",))
            .select_related("severity")
            .get(pk=timer.incident_id)
        )
    timer.fired_at = now
    timer.save(update_fields=["fired_at"])
    handler = _handlers.get(timer.kind)
    if handler is None:
        logger.error("no handler for timer kind %s (timer %s)", timer.kind, timer.pk)
    else:
        handler(timer, incident, now)
    return True


def _late(timer: Timer, now: dt.datetime) -> str:
    seconds = int((now - timer.due_at).total_seconds())
    return f" (fired {seconds}s late)" if seconds > 60 else ""


@timer_handler(Timer.Kind.ACK_DEADLINE)
def _ack_deadline(timer: Timer, incident: Incident, now: dt.datetime) -> None:
    sev = incident.severity
    incident.sla_breached = True
    incident.save(update_fields=["sla_breached"])
    timeline_append(
        incident=incident,
        kind="sla_breached",
        channel=Channel.SYSTEM,
        message=f"SLA breached: not acknowledged within {sev.code}'s response time of "
        f"{_duration(sev.response_time)}{_late(timer, now)}.",
        data={"sla": timer.kind, "due_at": timer.due_at.isoformat()},
        at=now,
    )
    sla_refresh(incident)
    for listener in breach_listeners:
        listener(incident, timer, now)


@timer_handler(Timer.Kind.FIRST_UPDATE)
def _first_update(timer: Timer, incident: Incident, now: dt.datetime) -> None:
    incident.sla_breached = True
    incident.save(update_fields=["sla_breached"])
    timeline_append(
        incident=incident,
        kind="sla_breached",
        channel=Channel.SYSTEM,
        message="SLA breached: no stakeholder update within "
        f"{_duration(incident.severity.first_update_within)} of detection{_late(timer, now)}.",
        data={"sla": timer.kind, "due_at": timer.due_at.isoformat()},
        at=now,
    )
    sla_refresh(incident)
    for listener in breach_listeners:
        listener(incident, timer, now)


@timer_handler(Timer.Kind.MONITORING_END)
def _monitoring_end(timer: Timer, incident: Incident, now: dt.datetime) -> None:
    from .checklist import checklist_tick

    if incident.status != Status.MONITORING:
        return
    checklist_tick(incident, "monitor_30")
    timeline_append(
        incident=incident,
        kind="monitoring_complete",
        channel=Channel.SYSTEM,
        message=f"Monitoring period of {_duration(monitoring_period())} complete: "
        "the incident can be closed.",
        at=now,
    )


def _duration(delta: dt.timedelta | None) -> str:
    if delta is None:
        return "-"
    minutes = int(delta.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour" + ("s" if hours != 1 else "")
    return f"{minutes} minutes"
