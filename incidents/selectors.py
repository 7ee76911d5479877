"""Reads: what the list, the command page, the API and the live view show.

Query counts here must not grow with the number of incidents or timeline events (the list
and the command page are benchmarked and guarded by ``django_assert_max_num_queries``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Case, F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.fields.tuple_lookups import Tuple, TupleLessThan

from nexusops.common import keyset
from nexusops.common.errors import NotFoundError
from nexusops.engine.models import Timer

from .models import OPEN_STATUSES, ChecklistItem, Incident, Severity, Status, TimelineEvent

# Each order ends with a unique key, so keyset paging (``incident_page``) is total. The
# default, open incidents first, is one direction throughout so that keyset comparison is one
# row value over the index ``incident_open_first_desc`` (migration 0013).
SORTS = {
    "detected": ("-detected_at", "-id"),
    "oldest": ("detected_at", "id"),
    "severity": ("severity__rank", "-detected_at", "-id"),
    "sla": (F("sla_next_due_at").asc(nulls_last=True), "-detected_at", "-id"),
    "number": ("-number",),
}
COUNT_LIMIT = keyset.COUNT_LIMIT  # the list's count stops here: "1,000+"


def can_see_internal(user: AbstractBaseUser | None) -> bool:
    return bool(user and user.has_perm("incidents.view_internal"))


# The one visibility rule for an incident, on every surface (command page, API): what a user
# without ``view_internal`` (a stakeholder) never gets. Internal timeline events follow the
# same rule in ``timeline()``. A surface that shows one of these asks ``shows()`` first.
INTERNAL_INCIDENT_FIELDS = frozenset(
    {"commander", "responders", "created_by", "checklist", "pending_timers", "transitions"}
)


@dataclass(frozen=True)
class IncidentVisibility:
    internal: bool

    def shows(self, field: str) -> bool:
        return self.internal or field not in INTERNAL_INCIDENT_FIELDS


def incident_visibility(user: AbstractBaseUser | None) -> IncidentVisibility:
    return IncidentVisibility(internal=can_see_internal(user))


def incident_list(
    *,
    status: list[str] | str | None = None,
    severity: list[str] | str | None = None,
    service: str | None = None,
    commander: str | None = None,
    detected_from: dt.date | dt.datetime | None = None,
    detected_to: dt.date | dt.datetime | None = None,
    q: str | None = None,
    sort: str = "",
    open_first: bool = True,
) -> QuerySet[Incident]:
    qs = Incident.objects.select_related("severity", "commander").prefetch_related("services")
    if status:
        statuses = [status] if isinstance(status, str) else list(status)
        if statuses == ["open"]:
            qs = qs.filter(status__in=OPEN_STATUSES)
        else:
            qs = qs.filter(status__in=statuses)
    if severity:
        # Ids, not a join on the code: filtered on severity_id, one severity's rows come in
        # the order of an index that starts with it (incident_severity_sla_order).
        codes = [severity] if isinstance(severity, str) else list(severity)
        qs = qs.filter(
            severity_id__in=list(
                Severity.objects.filter(code__in=codes).values_list("id", flat=True)
            )
        )
    if service:
        qs = qs.filter(services__slug=service)
    if commander:
        qs = qs.filter(commander__username=commander)
    if detected_from:
        qs = (
            qs.filter(detected_at__date__gte=detected_from)
            if isinstance(detected_from, dt.date) and not isinstance(detected_from, dt.datetime)
            else qs.filter(detected_at__gte=detected_from)
        )
    if detected_to:
        qs = (
            qs.filter(detected_at__date__lte=detected_to)
            if isinstance(detected_to, dt.date) and not isinstance(detected_to, dt.datetime)
            else qs.filter(detected_at__lte=detected_to)
        )
    if q:
        q = q.strip()
        qs = qs.filter(Q(number__icontains=q) | Q(title__icontains=q) | Q(summary__icontains=q))
    order = SORTS.get(sort, SORTS["detected"])
    if open_first and sort in ("", "detected"):
        # Must stay the expression of the index incident_open_first_desc (migration 0013).
        qs = qs.annotate(
            open_first=Case(
                When(status__in=OPEN_STATUSES, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        order = ("-open_first", *order)
    return qs.order_by(*order)


@dataclass(frozen=True)
class IncidentPage:
    rows: list[Incident]
    next: str | None  # cursors (``keyset``)
    previous: str | None
    start: int  # position of the first row, 0-based
    count: int  # at most COUNT_LIMIT
    count_exact: bool  # False: there are more than ``count``


def incident_page(*, cursor: str | None, size: int, **filters) -> IncidentPage:
    """One page of ``incident_list(**filters)`` after ``cursor``, with a bounded count.

    The same cost at any depth and for any number of matches: the page is an index range
    scan from the cursor, the count stops at COUNT_LIMIT. Raises ``keyset.InvalidCursor``.
    """
    queryset = incident_list(**filters)
    found = keyset.page(queryset, cursor=cursor, size=size)
    count, exact = keyset.count_page(queryset, found, COUNT_LIMIT)
    return IncidentPage(
        rows=found.rows,
        next=found.next,
        previous=found.previous,
        start=found.start,
        count=count,
        count_exact=exact,
    )


def incident_get(*, number: str) -> Incident:
    try:
        return (
            Incident.objects.select_related("severity", "commander", "created_by")
            .prefetch_related(
                "services",
                "responders",
                Prefetch("checklist", queryset=ChecklistItem.objects.order_by("order", "id")),
                Prefetch("timers", queryset=Timer.objects.order_by("due_at")),
            )
            .get(number=number.upper())
        )
    except Incident.DoesNotExist:
        raise NotFoundError(f"No incident {number}.") from None


def timeline(
    *,
    incident: Incident,
    user: AbstractBaseUser | None,
    kinds: list[str] | None = None,
    before: int | None = None,
) -> QuerySet[TimelineEvent]:
    """Newest first; ``before`` (an event id) starts after that event in this order.

    ``before`` is a keyset: one row value ``(created_at, id) < (...)`` over the index
    timeline_incident_newest, so older pages cost the same at any depth (an ``id < before``
    filter would make the database skip every newer event first).
    """
    qs = TimelineEvent.objects.filter(incident=incident).select_related("actor")
    if not can_see_internal(user):
        qs = qs.filter(visibility=TimelineEvent.Visibility.PUBLIC)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    if before is not None:
        boundary = (
            TimelineEvent.objects.filter(incident=incident, pk=before)
            .values_list("created_at", flat=True)
            .first()
        )
        qs = (
            qs.filter(TupleLessThan(Tuple(F("created_at"), F("id")), [boundary, before]))
            if boundary is not None
            else qs.filter(id__lt=before)  # an event of another incident: as before
        )
    return qs.order_by("-created_at", "-id")


# Each kind is one probe of the index timeline_incident_kinds (incident, visibility, kind):
# the smallest kind, then the smallest after it, and so on (a "skip scan"). DISTINCT over
# the events would read every event of the incident; this reads one index entry per kind.
# column1 is the name PostgreSQL and SQLite both give to a VALUES list's column.
_KINDS_SQL = """
WITH RECURSIVE kinds(visibility, kind) AS (
    SELECT v.column1, (
        SELECT e.kind FROM {table} e WHERE e.incident_id = %s AND e.visibility = v.column1
        ORDER BY e.kind LIMIT 1
    ) FROM (VALUES {visibilities}) AS v
    UNION ALL
    SELECT k.visibility, (
        SELECT e.kind FROM {table} e
        WHERE e.incident_id = %s AND e.visibility = k.visibility AND e.kind > k.kind
        ORDER BY e.kind LIMIT 1
    ) FROM kinds k WHERE k.kind IS NOT NULL
)
SELECT DISTINCT kind FROM kinds WHERE kind IS NOT NULL ORDER BY kind
"""


def timeline_kinds(*, incident: Incident, user: AbstractBaseUser | None) -> list[str]:
    """The kinds of event on the incident's timeline that ``user`` may see, sorted: the
    timeline's kind filter. The same cost for 50 events or 20,000."""
    visibilities = [TimelineEvent.Visibility.PUBLIC.value]
    if can_see_internal(user):
        visibilities.append(TimelineEvent.Visibility.INTERNAL.value)
    sql = _KINDS_SQL.format(
        table=connection.ops.quote_name(TimelineEvent._meta.db_table),
        visibilities=", ".join(["(%s)"] * len(visibilities)),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [incident.pk, *visibilities, incident.pk])
        return [kind for (kind,) in cursor.fetchall()]


def next_checklist_item(steps: list[dict]) -> dict | None:
    """The runbook's next open item, in step order then item order, with its step's progress.

    ``steps`` is the command page's grouping (label, items, done, total per step), so the
    glance and the full checklist can never disagree about what is next.
    """
    for step in steps:
        for item in step["items"]:
            if not item.done:
                return {
                    "step": step["label"],
                    "item": item,
                    "done": step["done"],
                    "total": step["total"],
                }
    return None


def pending_timers(incident: Incident) -> list[Timer]:
    return [t for t in incident.timers.all() if t.pending and not t.dead]


def dead_timers(incident: Incident) -> list[Timer]:
    """Timers whose handler kept failing; they wait for a person's Retry."""
    return [t for t in incident.timers.all() if t.dead]


def is_live(incident: Incident) -> bool:
    return incident.status != Status.CLOSED
