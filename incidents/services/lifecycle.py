"""The six steps as a state machine (runbook 2.2).

triggered → acknowledged → investigating → mitigated → resolved → monitoring → closed;
``resolve`` may also come straight from investigating; ``reopen`` takes a resolved or
monitoring incident back to investigating, with a reason. To add a move, add a row to
``TRANSITIONS``; guards that need data go in ``_guard``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from nexusops.common import clock
from nexusops.common.errors import ApplicationError, Conflict
from nexusops.common.text import duration_words, fmt
from nexusops.engine import events
from nexusops.engine.models import Timer
from nexusops.engine.timers import timers_cancel

from ..events import IncidentCloseRequested, IncidentTransitioned
from ..models import Channel, ChecklistItem, Incident, Status, TimerKind
from .checklist import checklist_tick
from .common import bump, lock, require
from .sla import monitoring_period, sla_refresh
from .timeline import timeline_append


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: tuple[str, ...]
    target: str
    stamp: str | None
    permission: str
    ticks: tuple[str, ...] = ()
    needs_reason: bool = False


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition(
            "acknowledge",
            "Acknowledge",
            (Status.TRIGGERED,),
            Status.ACKNOWLEDGED,
            "acknowledged_at",
            "acknowledge_incident",
        ),
        Transition(
            "investigate",
            "Start investigating",
            (Status.ACKNOWLEDGED,),
            Status.INVESTIGATING,
            "investigating_at",
            "drive_incident",
            ticks=("determine_severity",),
        ),
        Transition(
            "mitigate",
            "Mark mitigated",
            (Status.INVESTIGATING,),
            Status.MITIGATED,
            "mitigated_at",
            "drive_incident",
        ),
        Transition(
            "resolve",
            "Resolve",
            (Status.INVESTIGATING, Status.MITIGATED),
            Status.RESOLVED,
            "resolved_at",
            "drive_incident",
            ticks=("verify_resolved",),
        ),
        Transition(
            "monitor",
            "Start monitoring",
            (Status.RESOLVED,),
            Status.MONITORING,
            "monitoring_started_at",
            "drive_incident",
        ),
        Transition(
            "close", "Close", (Status.MONITORING,), Status.CLOSED, "closed_at", "drive_incident"
        ),
        Transition(
            "reopen",
            "Reopen",
            (Status.RESOLVED, Status.MONITORING),
            Status.INVESTIGATING,
            None,
            "drive_incident",
            needs_reason=True,
        ),
    )
}

POSTMORTEM_REQUIRED = ("P0", "P1")


def transitions_available(incident: Incident) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if incident.status in t.sources]


def _guard(transition: Transition, incident: Incident) -> None:
    started = incident.monitoring_started_at  # set by the move to monitoring
    if transition.name == "close" and started is not None:
        ends = started + monitoring_period()
        if clock.now() < ends:
            raise Conflict(
                f"{incident.number} is being monitored until {fmt(ends)} "
                f"(runbook: monitor for {duration_words(monitoring_period())}); "
                "close it after that.",
                code="monitoring",
            )
        if (
            incident.severity.code in POSTMORTEM_REQUIRED
            and not ChecklistItem.objects.filter(
                incident=incident, key="schedule_postmortem", done_at__isnull=False
            ).exists()
        ):
            raise Conflict(
                f"A {incident.severity.code} needs its post-mortem scheduled before it "
                "is closed: tick “Schedule the post-mortem within 48 hours”.",
                code="postmortem_required",
            )
        # Higher apps may refuse (post-mortems: "a P0/P1 needs its meeting").
        events.publish(IncidentCloseRequested(incident=incident))


@transaction.atomic
def incident_transition(
    *,
    incident: Incident | int,
    action: str,
    actor: User | None,
    channel: str = Channel.WEB,
    reason: str = "",
    expected_version: int | None = None,
) -> Incident:
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise ApplicationError(
            f"Unknown action {action!r}; use one of {', '.join(TRANSITIONS)}.",
            fields={"action": ["Unknown action."]},
        )
    require(actor, transition.permission)
    incident = lock(incident, expected_version=expected_version)
    if incident.status not in transition.sources:
        allowed = ", ".join(t.name for t in transitions_available(incident)) or "none"
        raise Conflict(
            f"Cannot {transition.name} {incident.number}: it is {incident.status} "
            f"(allowed now: {allowed}).",
            code="invalid_transition",
        )
    reason = reason.strip()
    if transition.needs_reason and not reason:
        raise ApplicationError(
            f"Say why you {transition.name} {incident.number}.",
            fields={"reason": ["A reason is required."]},
        )
    _guard(transition, incident)

    now = clock.now()
    previous = incident.status
    incident.status = transition.target
    fields = ["status"]
    if transition.stamp:
        setattr(incident, transition.stamp, now)
        fields.append(transition.stamp)
    if action == "reopen":
        incident.resolved_at = incident.monitoring_started_at = None
        fields += ["resolved_at", "monitoring_started_at"]
        timers_cancel(incident, TimerKind.MONITORING_END)
    if action == "monitor":
        Timer.objects.create(
            incident=incident, kind=TimerKind.MONITORING_END, due_at=now + monitoring_period()
        )
    bump(incident, *fields)
    ticked = checklist_tick(incident, *transition.ticks, actor=actor)
    sla_refresh(incident)

    message = {
        "acknowledge": "Acknowledged.",
        "investigate": "Investigating: assessing severity, affected systems and impact.",
        "mitigate": "Mitigated: a fix or workaround is in place.",
        "resolve": "Resolved: the issue is verified fixed.",
        "monitor": f"Monitoring until {fmt(now + monitoring_period())}.",
        "close": "Closed.",
        "reopen": f"Reopened: {reason}",
    }[action]
    if action == "acknowledge":
        took = int((now - incident.detected_at).total_seconds() // 60)
        message = f"Acknowledged {took} min after detection."
    entry = timeline_append(
        incident=incident,
        kind="status_changed",
        actor=actor,
        channel=channel,
        at=now,
        message=message,
        data={
            "from": previous,
            "to": incident.status,
            "action": action,
            "reason": reason,
            "ticked": ticked,
        },
    )
    events.publish(
        IncidentTransitioned(incident=incident, entry=entry, action=action, previous=previous)
    )
    return incident
