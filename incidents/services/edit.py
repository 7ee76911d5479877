from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction

from nexusops.common import clock
from nexusops.common.errors import ApplicationError, Conflict
from nexusops.engine import events

from ..events import IncidentAssigned, IncidentUpdated, NoteAdded
from ..models import Channel, Incident, Severity, Status
from .checklist import checklist_tick
from .common import bump, lock, require, resolve_services
from .declare import clean_title, resolve_severity, validate_impact
from .sla import sla_refresh
from .timeline import timeline_append

NOTE_MAX = 10_000
_UNSET = object()


def _refuse_closed(incident: Incident) -> None:
    if incident.status == Status.CLOSED:
        raise Conflict(
            f"{incident.number} is closed; reopen is not possible after close.", code="closed"
        )


@transaction.atomic
def incident_update(
    *,
    incident: Incident | int,
    actor: User | None,
    expected_version: int | None = None,
    channel: str = Channel.WEB,
    title=_UNSET,
    summary=_UNSET,
    severity=_UNSET,
    services=_UNSET,
    impact_users=_UNSET,
    impact_percent=_UNSET,
    impact_description=_UNSET,
    data_breach=_UNSET,
    major_customer_impact=_UNSET,
) -> Incident:
    """Change fields; each change is one timeline line. Unchanged values write nothing."""
    require(actor, "drive_incident")
    incident = lock(incident, expected_version=expected_version)
    _refuse_closed(incident)
    lines: list[str] = []
    data: dict = {}
    fields: list[str] = []
    ticks: list[str] = []

    if title is not _UNSET:
        title = clean_title(title)
        if title != incident.title:
            lines.append(f"Title changed to “{title}”.")
            incident.title = title
            fields.append("title")
    if summary is not _UNSET and (summary or "").strip() != incident.summary:
        incident.summary = (summary or "").strip()
        lines.append("Summary updated.")
        fields.append("summary")
    severity_changed = False
    if severity is not _UNSET:
        sev: Severity = resolve_severity(severity)
        if sev.pk != incident.severity_id:
            lines.append(f"Severity changed {incident.severity.code} → {sev.code}.")
            data["severity"] = {"from": incident.severity.code, "to": sev.code}
            incident.severity = sev
            fields.append("severity")
            severity_changed = True
            ticks.append("determine_severity")
    if services is not _UNSET:
        rows = resolve_services(services or [])
        before = set(incident.services.values_list("slug", flat=True))
        after = {s.slug for s in rows}
        if before != after:
            incident.services.set(rows)
            lines.append("Affected services: " + (", ".join(sorted(after)) or "none") + ".")
            data["services"] = sorted(after)
            if after:
                ticks.append("identify_systems")
    users = incident.impact_users if impact_users is _UNSET else impact_users
    percent = (
        incident.impact_percent
        if impact_percent is _UNSET
        else (None if impact_percent in (None, "") else Decimal(str(impact_percent)))
    )
    validate_impact(users, percent)
    impact_changed = False
    if users != incident.impact_users:
        incident.impact_users = users
        fields.append("impact_users")
        impact_changed = True
    if percent != incident.impact_percent:
        incident.impact_percent = percent
        fields.append("impact_percent")
        impact_changed = True
    if (
        impact_description is not _UNSET
        and (impact_description or "").strip() != incident.impact_description
    ):
        incident.impact_description = (impact_description or "").strip()
        fields.append("impact_description")
        impact_changed = True
    if impact_changed:
        parts = []
        if incident.impact_users is not None:
            parts.append(f"{incident.impact_users:,} users")
        if incident.impact_percent is not None:
            parts.append(f"{incident.impact_percent}% of users")
        if incident.impact_description:
            parts.append(incident.impact_description)
        lines.append("User impact estimated: " + ("; ".join(parts) or "cleared") + ".")
        ticks.append("estimate_impact")
    flags = (
        ("data_breach", "Data breach", data_breach),
        ("major_customer_impact", "Major customer impact", major_customer_impact),
    )
    for flag, label, value in flags:
        if value is not _UNSET and bool(value) != getattr(incident, flag):
            setattr(incident, flag, bool(value))
            fields.append(flag)
            lines.append(f"{label} flag {'set' if value else 'cleared'}.")
            data[flag] = bool(value)

    if not lines:
        return incident
    bump(incident, *fields)
    checklist_tick(incident, *ticks, actor=actor)
    if severity_changed:
        moved = sla_refresh(incident)
        lines += [f"{m}." for m in moved] or ["No open SLA deadline moved."]
    entry = timeline_append(
        incident=incident,
        kind="updated",
        actor=actor,
        channel=channel,
        message=" ".join(lines),
        data=data,
    )
    events.publish(IncidentUpdated(incident=incident, entry=entry, changed=frozenset(fields)))
    return incident


@transaction.atomic
def incident_assign(
    *,
    incident: Incident | int,
    actor: User | None,
    commander=_UNSET,
    responders=_UNSET,
    expected_version: int | None = None,
    channel: str = Channel.WEB,
) -> Incident:
    require(actor, "drive_incident")
    incident = lock(incident, expected_version=expected_version)
    _refuse_closed(incident)
    user_model = get_user_model()
    lines = []
    if commander is not _UNSET:
        user = _user(user_model, commander)
        if user is not None and not user.has_perm("incidents.drive_incident"):
            raise ApplicationError(
                f"{user.get_username()} cannot be incident commander: their "
                "role cannot drive incidents.",
                fields={"commander": ["Not an incident commander or manager."]},
            )
        if (user.pk if user else None) != incident.commander_id:
            incident.commander = user
            bump(incident, "commander")
            lines.append(
                f"Incident commander: {user.get_username()}."
                if user
                else "Incident commander unassigned."
            )
            if user is not None:
                checklist_tick(incident, "assign_ic", actor=actor)
    if responders is not _UNSET:
        users = [_user(user_model, r) for r in responders]
        users = [u for u in users if u is not None]
        before = set(incident.responders.values_list("pk", flat=True))
        if before != {u.pk for u in users}:
            incident.responders.set(users)
            if not lines:
                bump(incident)
            lines.append(
                "Responders: "
                + (", ".join(sorted(u.get_username() for u in users)) or "none")
                + "."
            )
    if lines:
        entry = timeline_append(
            incident=incident,
            kind="assigned",
            actor=actor,
            channel=channel,
            message=" ".join(lines),
        )
        events.publish(IncidentAssigned(incident=incident, entry=entry))
    return incident


def _user(user_model, value):
    if value in (None, ""):
        return None
    if isinstance(value, user_model):
        return value
    lookup = {"pk": value} if isinstance(value, int) else {"username": str(value)}
    user = user_model.objects.filter(is_active=True, **lookup).first()
    if user is None:
        raise ApplicationError(f"No active user {value!r}.", fields={"user": ["Unknown user."]})
    return user


@transaction.atomic
def incident_note_add(
    *,
    incident: Incident | int,
    actor: User | None,
    message: str,
    internal: bool = False,
    channel: str = Channel.WEB,
) -> Incident:
    """A note; a public one is a stakeholder update and satisfies the first-update clock."""
    require(actor, "add_note")
    text = (message or "").strip()
    if not text:
        raise ApplicationError(
            "The note is empty.", fields={"message": ["This field is required."]}
        )
    if len(text) > NOTE_MAX:
        raise ApplicationError(
            f"The note is {len(text):,} characters; the limit is {NOTE_MAX:,}.",
            fields={"message": [f"At most {NOTE_MAX:,} characters."]},
        )
    incident = lock(incident)
    kind = "note" if internal else "update"
    if not internal and incident.first_update_at is None:
        incident.first_update_at = clock.now()
        bump(incident, "first_update_at")
        checklist_tick(incident, "initial_update", actor=actor)
        sla_refresh(incident)
    entry = timeline_append(
        incident=incident, kind=kind, actor=actor, channel=channel, message=text, internal=internal
    )
    events.publish(NoteAdded(incident=incident, entry=entry, internal=internal))
    return incident
