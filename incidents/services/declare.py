from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import connection, transaction

from nexusops.common import clock, logs
from nexusops.common.errors import ApplicationError
from nexusops.engine import events

from ..events import IncidentDeclared
from ..models import TITLE_MAX, Channel, Incident, IncidentDaySequence, Service, Severity
from .checklist import checklist_create, checklist_tick
from .common import require, resolve_services
from .sla import sla_refresh
from .timeline import timeline_append

logger = logging.getLogger(__name__)


def _next_seq(day: dt.date) -> int:
    """Atomically take the next number of the day (an upsert: safe under concurrency)."""
    table = connection.ops.quote_name(IncidentDaySequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 1) "
            f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [day],
        )
        return cursor.fetchone()[0]


def clean_title(title: str | None) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise ApplicationError(
            "A title is required.", fields={"title": ["This field is required."]}
        )
    if len(title) > TITLE_MAX:
        raise ApplicationError(
            f"The title is {len(title)} characters; the limit is {TITLE_MAX}.",
            fields={"title": [f"At most {TITLE_MAX} characters."]},
        )
    return title


def resolve_severity(code: str | Severity | None) -> Severity:
    if isinstance(code, Severity):
        return code
    severity = Severity.objects.filter(code=(code or "").strip().upper()).first()
    if severity is None:
        known = ", ".join(Severity.objects.values_list("code", flat=True))
        raise ApplicationError(
            f"Unknown severity {code!r}; use one of {known}.",
            fields={"severity": [f"Unknown severity {code!r}."]},
        )
    return severity


def validate_impact(users: int | None, percent: Decimal | float | None) -> None:
    if users is not None and users < 0:
        raise ApplicationError(
            "Users affected cannot be negative.", fields={"impact_users": ["Must be 0 or more."]}
        )
    if percent is not None and not 0 <= Decimal(str(percent)) <= 100:
        raise ApplicationError(
            "The share of users affected is a percentage from 0 to 100.",
            fields={"impact_percent": ["Must be between 0 and 100."]},
        )


@transaction.atomic
def incident_declare(
    *,
    title: str,
    severity: str | Severity,
    actor: User | None,
    services: Iterable[str | Service] = (),
    summary: str = "",
    channel: str = Channel.WEB,
    detected_at: dt.datetime | None = None,
    commander: User | None = None,
    impact_users: int | None = None,
    impact_percent: Decimal | None = None,
    impact_description: str = "",
    data_breach: bool = False,
    major_customer_impact: bool = False,
) -> Incident:
    require(actor, "declare_incident")
    title = clean_title(title)
    sev = resolve_severity(severity)
    service_rows = resolve_services(services)
    validate_impact(impact_users, impact_percent)
    now = clock.now()
    detected = detected_at or now
    if detected > now + dt.timedelta(minutes=5):
        raise ApplicationError(
            "Detection time cannot be in the future.", fields={"detected_at": ["In the future."]}
        )
    day = now.astimezone(dt.UTC).date()
    seq = _next_seq(day)
    incident = Incident.objects.create(
        number=f"INC-{day:%Y%m%d}-{seq:03d}",
        day=day,
        seq=seq,
        title=title,
        summary=summary.strip(),
        severity=sev,
        source=channel,
        detected_at=detected,
        commander=commander,
        created_by=actor,
        impact_users=impact_users,
        impact_percent=impact_percent,
        impact_description=impact_description.strip(),
        data_breach=data_breach,
        major_customer_impact=major_customer_impact,
    )
    # The rest of this request or task, and the tasks it publishes, log this incident's number.
    logs.bind(incident=incident.number)
    logger.info("declared %s %s via %s", incident.number, sev.code, channel)
    incident.services.set(service_rows)
    checklist_create(incident)
    ticks = []
    if commander is not None:
        ticks.append("assign_ic")
    if service_rows:
        ticks.append("identify_systems")
    if impact_users is not None or impact_percent is not None or impact_description.strip():
        ticks.append("estimate_impact")
    checklist_tick(incident, *ticks, actor=actor)
    sla_refresh(incident)
    services_text = ", ".join(s.slug for s in service_rows) or "no services named yet"
    entry = timeline_append(
        incident=incident,
        kind="declared",
        actor=actor,
        channel=channel,
        at=now,
        message=f"Declared {sev.code}: {title} ({services_text}).",
        data={
            "severity": sev.code,
            "services": [s.slug for s in service_rows],
            "data_breach": data_breach,
            "major_customer_impact": major_customer_impact,
        },
    )
    events.publish(IncidentDeclared(incident=incident, entry=entry))
    return incident
