"""An incident's SLA clocks (runbook 2.1) and its monitoring period, as timer rows.

``sla_refresh`` makes an incident's pending SLA timers match its state (called in the same
transaction as every change); the engine's sweep fires them through ``incidents/handlers.py``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from nexusops.common import clock
from nexusops.common.text import duration_words, fmt
from nexusops.engine import events
from nexusops.engine.models import Timer

from ..events import MonitoringCompleted, SlaBreached
from ..models import Channel, Incident, Status, TimerKind
from .timeline import timeline_append

SLA_KINDS = (TimerKind.ACK_DEADLINE, TimerKind.FIRST_UPDATE)


def monitoring_period() -> dt.timedelta:
    return dt.timedelta(minutes=getattr(settings, "INCIDENT_MONITORING_MINUTES", 30))


def _wanted_sla(incident: Incident) -> dict[str, dt.datetime]:
    """The SLA deadlines this incident should have pending right now."""
    wanted: dict[str, dt.datetime] = {}
    sev = incident.severity
    if incident.status == Status.TRIGGERED:
        wanted[TimerKind.ACK_DEADLINE] = incident.detected_at + sev.response_time
    if (
        sev.first_update_within
        and incident.first_update_at is None
        and incident.status not in (Status.RESOLVED, Status.MONITORING, Status.CLOSED)
    ):
        wanted[TimerKind.FIRST_UPDATE] = incident.detected_at + sev.first_update_within
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
                f"{TimerKind(kind).label} moved from {fmt(timer.due_at)} to {fmt(wanted[kind])}"
            )
            timer.due_at = wanted[kind]
            timer.save(update_fields=["due_at"])
    for kind, due in wanted.items():
        if kind not in pending and kind not in fired_kinds:
            Timer.objects.create(incident=incident, kind=kind, due_at=due)
            if incident.pk and incident.version > 1:
                changes.append(f"{TimerKind(kind).label} set to {fmt(due)}")
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


def _still_wanted(timer: Timer, incident: Incident, now: dt.datetime) -> bool:
    """Re-check under the sweep's locks: if the incident no longer calls for this deadline now
    (acknowledged, updated), the timer is un-fired and aligned (moved or cancelled) instead
    of breaching. Every change runs ``sla_refresh`` in its own transaction, so this is the
    belt to that pair of braces."""
    due = _wanted_sla(incident).get(timer.kind)
    if due is not None and due <= now:
        return True
    timer.fired_at = None
    timer.save(update_fields=["fired_at"])
    sla_refresh(incident)
    return False


def _late(timer: Timer, now: dt.datetime) -> str:
    seconds = int((now - timer.due_at).total_seconds())
    return f" (fired {seconds}s late)" if seconds > 60 else ""


def ack_deadline_passed(timer: Timer, incident: Incident, now: dt.datetime) -> None:
    if not _still_wanted(timer, incident, now):
        return
    sev = incident.severity
    incident.sla_breached = True
    incident.save(update_fields=["sla_breached"])
    entry = timeline_append(
        incident=incident,
        kind="sla_breached",
        channel=Channel.SYSTEM,
        message=f"SLA breached: not acknowledged within {sev.code}'s response time of "
        f"{duration_words(sev.response_time)}{_late(timer, now)}.",
        data={"sla": timer.kind, "due_at": timer.due_at.isoformat()},
        at=now,
    )
    sla_refresh(incident)
    events.publish(SlaBreached(incident=incident, timer=timer, entry=entry))


def first_update_passed(timer: Timer, incident: Incident, now: dt.datetime) -> None:
    if not _still_wanted(timer, incident, now):
        return
    incident.sla_breached = True
    incident.save(update_fields=["sla_breached"])
    entry = timeline_append(
        incident=incident,
        kind="sla_breached",
        channel=Channel.SYSTEM,
        message="SLA breached: no stakeholder update within "
        f"{duration_words(incident.severity.first_update_within)} of detection{_late(timer, now)}.",
        data={"sla": timer.kind, "due_at": timer.due_at.isoformat()},
        at=now,
    )
    sla_refresh(incident)
    events.publish(SlaBreached(incident=incident, timer=timer, entry=entry))


def monitoring_ended(timer: Timer, incident: Incident, now: dt.datetime) -> None:
    from .checklist import checklist_tick

    if incident.status != Status.MONITORING:
        return
    checklist_tick(incident, "monitor_30")
    entry = timeline_append(
        incident=incident,
        kind="monitoring_complete",
        channel=Channel.SYSTEM,
        message=f"Monitoring period of {duration_words(monitoring_period())} complete: "
        "the incident can be closed.",
        at=now,
    )
    events.publish(MonitoringCompleted(incident=incident, entry=entry))
