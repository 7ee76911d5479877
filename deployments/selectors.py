"""Reads: the log with its filters, a deployment's page, the incident command page's change
panel, the alerts app's maintenance question, the status page's maintenance, the calendar and
DORA figures."""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet

from incidents.models import Incident
from nexusops.common import clock
from statuspage.events import MaintenanceNotice, ScheduledMaintenance

from .models import Deployment, DeploymentIncident, Environment, Kind, MaintenanceWindow, Status
from .services.maintenance import NOTICE_AHEAD

Window = MaintenanceWindow
FILTERS = ("service", "environment", "kind", "status", "date_from", "date_to")


def correlation_hours() -> float:
    return float(getattr(settings, "DEPLOY_CORRELATION_HOURS", 6))


def deployments_filtered(params) -> tuple[QuerySet[Deployment], dict]:  # noqa: ANN001 - a QueryDict
    qs = Deployment.objects.prefetch_related("services")
    applied: dict = {}
    value = (params.get("service") or "").strip()
    if value:
        qs, applied["service"] = qs.filter(services__slug=value), value
    for name, choices in (("environment", Environment), ("kind", Kind), ("status", Status)):
        value = (params.get(name) or "").strip()
        if value in choices.values:
            qs, applied[name] = qs.filter(**{name: value}), value
    for name, lookup in (("date_from", "gte"), ("date_to", "lte")):
        try:
            day = dt.date.fromisoformat((params.get(name) or "").strip())
        except ValueError:
            continue
        qs = qs.filter(**{f"created_at__date__{lookup}": day})
        applied[name] = day.isoformat()
    return qs.distinct().order_by("-created_at", "-id"), applied


def incidents_following(deployment: Deployment, hours: float = 24) -> list[dict]:
    """Linked incidents, then those on its services detected within ``hours`` after it."""
    rows: list[dict[str, Any]] = [
        {"incident": link.incident, "linked": True, "reason": link.reason}
        for link in deployment.incident_links.select_related("incident", "incident__severity")
    ]
    seen = {r["incident"].pk for r in rows}
    start = deployment.at
    nearby = (
        Incident.objects.filter(
            services__in=deployment.services.all(),
            detected_at__gte=start,
            detected_at__lte=start + dt.timedelta(hours=hours),
        )
        .exclude(pk__in=seen)
        .select_related("severity")
        .distinct()
        .order_by("detected_at")
    )
    rows += [{"incident": i, "linked": False, "reason": ""} for i in nearby]
    return rows


def incident_changes_context(*, incident: Incident, user) -> dict:  # noqa: ANN001
    """Deployments to the incident's services in the hours before detection, newest first."""
    hours = correlation_hours()
    since = incident.detected_at - dt.timedelta(hours=hours)
    services = list(incident.services.all())
    deployments = list(
        Deployment.objects.filter(services__in=services)
        .filter(
            Q(started_at__gte=since, started_at__lte=incident.detected_at)
            | Q(started_at=None, created_at__gte=since, created_at__lte=incident.detected_at)
        )
        .exclude(kind=Kind.ROLLBACK)
        .prefetch_related("services")
        .distinct()
        .order_by("-started_at", "-created_at", "-id")
    )
    linked = set(
        DeploymentIncident.objects.filter(incident=incident).values_list("deployment_id", flat=True)
    )
    rollbacks = {
        d.rollback_of_id: d
        for d in Deployment.objects.filter(rollback_of__in=deployments).order_by("created_at")
    }
    can = bool(user and user.has_perm("deployments.rollback_deployment"))
    for d in deployments:
        d.linked = d.pk in linked
        d.rollback = rollbacks.get(d.pk)
        d.can_roll_back = can and d.status != Status.ROLLED_BACK and d.rollback is None
    return {"incident": incident, "changes": deployments, "hours": f"{hours:g}",
            "can_roll_back": can}  # fmt: skip


def window_at(*, service_slug: str, at: dt.datetime) -> MaintenanceWindow | None:
    covering = Q(services__slug=service_slug) | Q(services__isnull=True)
    return (
        Window.objects.filter(covering, starts_at__lte=at, ends_at__gt=at)
        .exclude(status__in=[Window.Status.CANCELLED, Window.Status.COMPLETED])
        # An emergency window nobody approved yet silences nothing (issue 14, item 12).
        .exclude(kind=Window.Kind.EMERGENCY, approved_at__isnull=True)
        .order_by("starts_at")
        .first()
    )


def maintenance_reason(*, service_slug: str, at: dt.datetime) -> str | None:
    """Why an alert for this service at this moment is downgraded to Slack-only, or None."""
    window = window_at(service_slug=service_slug, at=at)
    if window is None:
        return None
    return (
        f"maintenance window “{window.title}” ({window.starts_at:%Y-%m-%d %H:%M}–"
        f"{window.ends_at:%H:%M} UTC)"
    )


def announced_windows(now: dt.datetime) -> QuerySet[MaintenanceWindow]:
    """Windows the public sees: announced (7 days ahead) and not over."""
    return (
        Window.objects.filter(
            status__in=[Window.Status.SCHEDULED, Window.Status.IN_PROGRESS],
            ends_at__gt=now,
        )
        .filter(Q(notice_sent_at__isnull=False) | Q(starts_at__lte=now + NOTICE_AHEAD))
        .exclude(kind=Window.Kind.EMERGENCY, approved_at__isnull=True)
        .prefetch_related("services")
        .order_by("starts_at")
    )


def status_page_maintenance(question: ScheduledMaintenance) -> list:
    """The windows the public status page announces (deployments' answer, in handlers.py)."""
    now = question.now
    return [
        MaintenanceNotice(
            title=w.title + (" (in progress)" if w.status == Window.Status.IN_PROGRESS else ""),
            starts_at=w.starts_at,
            ends_at=w.ends_at,
            body=w.public_note,
            components=[s.name for s in w.services.all()] or ["All services"],
        )
        for w in announced_windows(now)
    ]


@dataclass
class CalendarDay:
    day: dt.date
    in_month: bool
    deployments: list = field(default_factory=list)
    windows: list = field(default_factory=list)


def calendar_context(*, year: int, month: int) -> dict:
    weeks_raw = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    first, last = weeks_raw[0][0], weeks_raw[-1][-1]
    start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    days = {d: CalendarDay(d, d.month == month) for week in weeks_raw for d in week}
    for d in Deployment.objects.filter(
        Q(started_at__gte=start, started_at__lt=end) | Q(started_at=None, created_at__gte=start,
                                                          created_at__lt=end)
    ).prefetch_related("services"):  # fmt: skip
        days[d.at.astimezone(dt.UTC).date()].deployments.append(d)
    for w in Window.objects.filter(starts_at__lt=end, ends_at__gt=start).exclude(
        status=Window.Status.CANCELLED
    ):
        day = w.starts_at.astimezone(dt.UTC).date()
        if day in days:
            days[day].windows.append(w)
    prev_month = (year - 1, 12) if month == 1 else (year, month - 1)
    next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    return {
        "weeks": [[days[d] for d in week] for week in weeks_raw],
        "title": dt.date(year, month, 1).strftime("%B %Y"),
        "prev": prev_month,
        "next": next_month,
    }


@dataclass
class DoraRow:
    service: str
    month: str  # YYYY-MM
    deployments: int = 0
    failed_changes: int = 0
    restore_minutes: list[float] = field(default_factory=list)

    @property
    def change_failure_rate(self) -> float | None:
        return round(100 * self.failed_changes / self.deployments, 1) if self.deployments else None

    @property
    def time_to_restore_minutes(self) -> float | None:
        if not self.restore_minutes:
            return None
        return round(sum(self.restore_minutes) / len(self.restore_minutes), 1)


def dora(*, since: dt.date | None = None, until: dt.date | None = None,
         service: str = "") -> list[DoraRow]:  # fmt: skip
    """DORA figures per service and UTC month, over production deployments (not rollbacks).

    * deployment frequency: deployments started in the month;
    * change failure rate: of those, the share linked to an incident, failed or rolled back;
    * time to restore: mean of detection-to-resolution of the incidents linked to them.
    """
    qs = (
        Deployment.objects.filter(environment=Environment.PRODUCTION)
        .exclude(kind=Kind.ROLLBACK)
        .exclude(started_at=None)
    )
    if since:
        qs = qs.filter(started_at__date__gte=since)
    if until:
        qs = qs.filter(started_at__date__lte=until)
    if service:
        qs = qs.filter(services__slug=service)
    qs = qs.annotate(
        caused_incident=Exists(DeploymentIncident.objects.filter(deployment=OuterRef("pk")))
    ).prefetch_related("services", "incident_links__incident")
    rows: dict[tuple[str, str], DoraRow] = {}
    restored: dict[tuple[str, str], set[int]] = defaultdict(set)
    for d in qs:
        if d.started_at is None:  # excluded by the query; narrows the type
            continue
        month = d.started_at.astimezone(dt.UTC).strftime("%Y-%m")
        failed = d.caused_incident or d.status in (Status.FAILED, Status.ROLLED_BACK)
        for s in d.services.all():
            if service and s.slug != service:
                continue
            row = rows.setdefault((s.slug, month), DoraRow(s.slug, month))
            row.deployments += 1
            row.failed_changes += int(failed)
            for link in d.incident_links.all():
                inc = link.incident
                if inc.resolved_at and inc.pk not in restored[(s.slug, month)]:
                    restored[(s.slug, month)].add(inc.pk)
                    row.restore_minutes.append(
                        (inc.resolved_at - inc.detected_at).total_seconds() / 60
                    )
    return sorted(rows.values(), key=lambda r: (r.month, r.service), reverse=False)


def upcoming_windows(*, limit: int = 12) -> list[MaintenanceWindow]:
    return list(
        Window.objects.filter(ends_at__gt=clock.now())
        .exclude(status=Window.Status.CANCELLED)
        .select_related("approver", "approved_by")
        .prefetch_related("services", "events__actor")
        .order_by("starts_at")[:limit]
    )
