"""The timeline as a reader may see it: newest first, by keyset, and its kinds."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import F, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleLessThan

from ..models import Incident, TimelineEvent
from .visibility import can_see_internal


def timeline(
    *,
    incident: Incident,
    user: User | None,
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


def timeline_kinds(*, incident: Incident, user: User | None) -> list[str]:
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
