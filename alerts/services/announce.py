"""Tell people about a group's state change: an incident for a critical group, Slack for
the rest, at most once per change (runbook 6.2: critical pages, warnings go to Slack).

Critical: attach to the group's incident, or to the open incident of the same service, or
declare one (the communications fan-out then pages PagerDuty once, by incident number); a
re-fire during monitoring reopens it. An alert whose rule is more severe than the incident it
joins raises the incident's severity or proposes the raise, as the rule says. Under a storm,
after ``ALERTS_NEW_INCIDENTS_PER_MINUTE`` declarations, further groups attach to the latest
alert incident instead of opening more.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from incidents.models import OPEN_STATUSES, Channel, Incident, Severity, Status, TimelineEvent
from incidents.services import (
    incident_declare,
    incident_note_add,
    incident_transition,
    incident_update,
)
from nexusops.common.services import actor_name

from ..models import AlertGroup, AlertRule, AlertStatus, Level
from .slack import slack_alert_post
from .suppression import suppression_reason

ATTACHABLE = (*OPEN_STATUSES, Status.MONITORING)
REOPENABLE = (Status.RESOLVED, Status.MONITORING)
GROUP_FIELDS = [
    "announced_status",
    "flap_noticed",
    "incident",
    "suppressed_reason",
    "acknowledged_at",
    "acknowledged_by",
]


def group_announce(*, group: AlertGroup, now: dt.datetime) -> bool:
    """Act on the group's status if people were not told yet; True when something was said."""
    if group.flapping:
        if not group.flap_noticed:
            group.flap_noticed = True
            _say(group, f"{group.title} is flapping: notifications are damped until it settles.")
            group.save(update_fields=GROUP_FIELDS)
        return False
    if group.status == group.announced_status or group.silenced_at(now):
        if group.flap_noticed:  # it settled: the next flapping gets a notice again
            group.flap_noticed = False
            group.save(update_fields=GROUP_FIELDS)
        return False
    group.flap_noticed = False
    if group.status == AlertStatus.FIRING:
        _fire(group, now)
    elif group.announced_status:  # a group first seen resolved was never announced
        _resolved(group, now)
    group.announced_status = group.status
    group.save(update_fields=GROUP_FIELDS)
    return True


def _say(group: AlertGroup, text: str) -> None:
    incident = _incident(group)
    if incident is not None and incident.status in ATTACHABLE:
        _note(incident, text)
    else:
        slack_alert_post(text=text)


def _incident(group: AlertGroup) -> Incident | None:
    if group.incident_id is None:
        return None
    return Incident.objects.filter(pk=group.incident_id).first()


def _note(incident: Incident, text: str) -> None:
    incident_note_add(
        incident=incident, actor=None, message=text, internal=True, channel=Channel.ALERT
    )


def _fire(group: AlertGroup, now: dt.datetime) -> None:
    reason = suppression_reason(group.service_slug, now) if group.service_slug else ""
    group.suppressed_reason = reason[:200]
    counted = f"{group.firing_count} alert{'s' if group.firing_count != 1 else ''} firing"
    pages = group.level == Level.CRITICAL and group.rule is not None and not group.rule.is_default
    if pages and not reason:
        _attach_or_declare(group, now, counted)
        return
    tag = "maintenance, Slack only: " + reason if reason else group.level
    slack_alert_post(text=f"[{tag}] {group.title}: {counted}.")


def _attach_or_declare(group: AlertGroup, now: dt.datetime, counted: str) -> None:
    incident = _incident(group)
    if incident is None or incident.status not in (*ATTACHABLE, Status.RESOLVED):
        incident = None
        if group.service_id is not None:
            incident = (
                Incident.objects.filter(services=group.service_id, status__in=ATTACHABLE)
                .order_by("-detected_at")
                .first()
            )
    if incident is None:
        incident = _storm_incident(now)
        if incident is not None:
            group.incident = incident
            _note(incident, f"Alert storm: {group.title} ({counted}) attached here.")
            return
        group.incident = _declare(group, now, counted)
        return
    group.incident = incident
    if incident.status in REOPENABLE:
        incident_transition(
            incident=incident,
            action="reopen",
            actor=None,
            channel=Channel.ALERT,
            reason=f"alert {group.title} fired again ({counted}).",
        )
    else:
        _note(incident, f"Alert group attached: {group.title} ({counted}).")
    _severity_check(group, incident, counted)


def _severity_check(group: AlertGroup, incident: Incident, counted: str) -> None:
    """An alert more severe than its incident raises the incident's severity, or proposes
    it to the IC, as its rule says; the timeline says which was done."""
    rule = group.rule
    if rule is None:
        return
    wanted = rule.severity if rule.severity_id else Severity.objects.filter(code="P1").first()
    incident = Incident.objects.select_related("severity").get(pk=incident.pk)
    if wanted is None or wanted.rank >= incident.severity.rank:
        return
    was = incident.severity.code
    if rule.on_higher_severity == AlertRule.OnHigherSeverity.RAISE:
        incident_update(incident=incident, actor=None, channel=Channel.ALERT, severity=wanted.code)
        _note(
            incident,
            f"Severity raised {was} → {wanted.code} by alert rule “{rule.name}”: "
            f"{group.title} ({counted}).",
        )
    else:
        _note(
            incident,
            f"Alert rule “{rule.name}” proposes raising the severity {was} → {wanted.code}: "
            f"{group.title} ({counted}). Not changed: the IC decides.",
        )


def _storm_incident(now: dt.datetime) -> Incident | None:
    limit = getattr(settings, "ALERTS_NEW_INCIDENTS_PER_MINUTE", 5)
    declared = TimelineEvent.objects.filter(
        kind="declared", channel=Channel.ALERT, created_at__gte=now - dt.timedelta(minutes=1)
    ).count()
    if declared < limit:
        return None
    return (
        Incident.objects.filter(source=Channel.ALERT, status__in=OPEN_STATUSES)
        .order_by("-detected_at", "-id")
        .first()
    )


def _declare(group: AlertGroup, now: dt.datetime, counted: str) -> Incident:
    rule = group.rule
    severity = rule.severity.code if rule is not None and rule.severity is not None else "P1"
    detected = min(group.status_changed_at, now)
    return incident_declare(
        title=f"{group.title}"[:200],
        severity=severity,
        actor=None,
        services=[group.service] if group.service is not None else [],
        summary=f"Opened by alert rule “{group.rule_name}” ({rule.condition if rule else ''}): "
        f"{counted}.",
        channel=Channel.ALERT,
        detected_at=detected,
    )


def _resolved(group: AlertGroup, now: dt.datetime) -> None:
    group.acknowledged_at = None
    group.acknowledged_by = None
    incident = _incident(group)
    if incident is not None and incident.status in ATTACHABLE:
        who = actor_name(incident.commander, "IC")
        _note(
            incident,
            f"{who}: all {group.alert_count} alert(s) of {group.title} resolved at "
            f"{now:%H:%M:%S} UTC. Verify and resolve the incident when ready.",
        )
    if group.level != Level.CRITICAL or group.suppressed_reason or incident is None:
        slack_alert_post(text=f"[resolved] {group.title}: all alerts resolved.")
