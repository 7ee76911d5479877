"""Reads for the public status page, its feed and the command page's publish panel.

The status page is public and polled by many visitors: its query count is fixed (components,
one aggregate for the 90-day history, severities, active incidents, their public updates),
whatever the number of incidents. Only public rows are read: components, public updates (their
public title and text) and the incident's number and severity; never the timeline, and never
the incident's internal title.

Higher apps fill the "Scheduled maintenance" section by answering ``ScheduledMaintenance``
(``statuspage/events.py``) in their ``handlers.py`` with a list of ``MaintenanceNotice``
(deployments: its windows).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, Min, OuterRef, Prefetch, QuerySet
from django.db.models.functions import TruncDate

from incidents.events import CommandPagePanels
from incidents.models import Incident, Severity, Status
from nexusops.common import clock
from nexusops.common.errors import NotFoundError
from nexusops.engine import events

from .events import ScheduledMaintenance
from .models import Component, ComponentStatus, PublicUpdate
from .services import (
    STATUS_RANK,
    incident_components,
    next_stage,
    public_title_suggested,
    stage_templates,
)

HISTORY_DAYS = 90
FEED_LIMIT = 50

BANNER: dict[str, str] = {
    ComponentStatus.OPERATIONAL: "All systems operational",
    ComponentStatus.UNDER_MAINTENANCE: "Scheduled maintenance in progress",
    ComponentStatus.DEGRADED: "Some systems have degraded performance",
    ComponentStatus.PARTIAL_OUTAGE: "Partial outage",
    ComponentStatus.MAJOR_OUTAGE: "Major outage",
}


@dataclass(frozen=True)
class HistoryDay:
    day: dt.date
    severity: str  # "" when nothing happened, else the worst severity code that day

    @property
    def label(self) -> str:
        if not self.severity:
            return f"{self.day:%d %b %Y}: no incidents"
        return f"{self.day:%d %b %Y}: {self.severity} incident"


@dataclass
class ComponentRow:
    component: Component
    history: list[HistoryDay]

    @property
    def status_label(self) -> str:
        return self.component.get_status_display()

    @property
    def incident_days(self) -> int:
        return sum(1 for d in self.history if d.severity)


def _worst(statuses: Iterable[str]) -> str:
    return max(statuses, key=lambda s: STATUS_RANK.get(s, 0), default=ComponentStatus.OPERATIONAL)


def history_by_service(
    *, service_ids: Iterable[int], today: dt.date, days: int = HISTORY_DAYS
) -> dict[int, dict[dt.date, str]]:
    """``{service id: {UTC day: worst severity code}}`` for incidents detected on that day.

    One aggregate query over the incident/service pairs, grouped by service and UTC day.
    """
    ids = list(service_ids)
    if not ids:
        return {}
    start = dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time(), tzinfo=dt.UTC)
    rows = (
        Incident.services.through.objects.filter(
            service_id__in=ids, incident__detected_at__gte=start
        )
        .values("service_id", day=TruncDate("incident__detected_at", tzinfo=dt.UTC))
        .annotate(worst=Min("incident__severity__rank"))
        .order_by()
    )
    found = list(rows)
    codes = dict(Severity.objects.values_list("rank", "code")) if found else {}
    out: dict[int, dict[dt.date, str]] = {}
    for row in found:
        out.setdefault(row["service_id"], {})[row["day"]] = codes.get(row["worst"], "")
    return out


def _public_incidents() -> QuerySet[Incident]:
    published = PublicUpdate.objects.filter(incident=OuterRef("pk"))
    return (
        Incident.objects.filter(Exists(published))
        .select_related("severity")
        .prefetch_related(
            Prefetch(
                "public_updates",
                queryset=PublicUpdate.objects.order_by("-published_at", "-id"),
                to_attr="updates",
            )
        )
    )


def status_page(*, now: dt.datetime | None = None) -> dict:
    """Everything /status/ shows."""
    now = now or clock.now()
    today = now.astimezone(dt.UTC).date()
    components = list(Component.objects.select_related("service"))
    history = history_by_service(
        service_ids={c.service_id for c in components if c.service_id}, today=today
    )
    days = [today - dt.timedelta(days=n) for n in range(HISTORY_DAYS - 1, -1, -1)]
    rows = [
        ComponentRow(
            c,
            [
                HistoryDay(d, history.get(c.service_id, {}).get(d, "") if c.service_id else "")
                for d in days
            ],
        )
        for c in components
    ]
    worst = _worst(c.status for c in components)
    open_ones = _public_incidents().exclude(status=Status.CLOSED).order_by("-detected_at")
    names = {str(c.pk): c.name for c in components}
    active = [_public(incident, names) for incident in open_ones]
    maintenance = [n for answer in events.ask(ScheduledMaintenance(now=now)) for n in answer]
    return {
        "overall": worst,
        "banner": BANNER.get(worst, "All systems operational"),
        "components": rows,
        "history_start": days[0],
        "history_end": days[-1],
        "active_incidents": active,
        "maintenance": maintenance,
        "now": now,
    }


@dataclass(frozen=True)
class PublicIncident:
    """An incident as the public sees it: its number and what was published, newest first;
    never its internal title or timeline."""

    number: str
    public_title: str
    public_stage: str
    public_stage_label: str
    updates: list[PublicUpdate]


def _public(incident: Incident, names: dict[str, str]) -> PublicIncident:
    labels = dict(ComponentStatus.choices)
    updates: list[PublicUpdate] = getattr(incident, "updates", [])  # the prefetch's to_attr
    for update in updates:
        update.component_rows = [
            (names.get(str(pk), "?"), status, labels.get(status, status))
            for pk, status in (update.component_statuses or {}).items()
            if str(pk) in names
        ]
    latest = updates[0] if updates else None
    # The headline is the latest published one: an internal edit of the title changes nothing.
    return PublicIncident(
        number=incident.number,
        public_title=latest.title if latest else "",
        public_stage=latest.stage if latest else "",
        public_stage_label=latest.get_stage_display() if latest else "",
        updates=updates,
    )


def public_incident(*, number: str) -> PublicIncident:
    """One incident as the public sees it; one never published is not there at all."""
    incident = _public_incidents().filter(number=number.upper()).first()
    if incident is None:
        raise NotFoundError(f"No public incident {number}.")
    names = dict(Component.objects.values_list("pk", "name"))
    return _public(incident, {str(k): v for k, v in names.items()})


def feed_updates(*, limit: int = FEED_LIMIT) -> list[PublicUpdate]:
    return list(
        PublicUpdate.objects.select_related("incident").order_by("-published_at", "-id")[:limit]
    )


# ---- the command page's panels ---------------------------------------------------------


def publish_form_context(*, incident: Incident, data=None, errors=None) -> dict:  # noqa: ANN001
    """What ``status/_publish_form.html`` renders inline (the command page gets it as
    ``status_publish`` by asking ``CommandPagePanels``; otherwise the partial loads it)."""
    components = incident_components(incident)
    latest = incident.public_updates.order_by("-published_at", "-id").first()
    stage = (data or {}).get("stage") or next_stage(incident)
    templates = stage_templates(incident, components)
    selected = {}
    for c in components:
        value = (data or {}).get(f"component-{c.pk}") if data else None
        selected[c.pk] = value or c.status
    return {
        "incident": incident,
        "stages": [(v, label, templates[v]) for v, label in PublicUpdate.Stage.choices],
        "stage": stage,
        "templates": templates,
        "message": data.get("message", "") if data else templates.get(stage, ""),
        # Empty until something was published: the service then makes it from the statuses
        # chosen in this form; the placeholder shows what it would be with today's statuses.
        "title": data.get("title", "") if data else (latest.title if latest else ""),
        "title_default": public_title_suggested(incident, components, latest),
        "filled": templates.get(stage, ""),
        "components": [(c, selected[c.pk]) for c in components],
        "component_choices": ComponentStatus.choices,
        "errors": errors or {},
        "latest": latest,
    }


def command_page_panels(question: CommandPagePanels) -> dict | None:
    """The publish form, inline on the command page of those who may publish (handlers.py)."""
    if not question.drive:
        return None
    return {"status_publish": publish_form_context(incident=question.incident)}


def component_statuses_from_form(data, components: list[Component]) -> dict[int, str]:  # noqa: ANN001
    return {
        c.pk: data.get(f"component-{c.pk}") for c in components if data.get(f"component-{c.pk}")
    }


__all__ = [
    "PublicIncident",
    "command_page_panels",
    "component_statuses_from_form",
    "feed_updates",
    "history_by_service",
    "incident_components",
    "public_incident",
    "publish_form_context",
    "status_page",
]
