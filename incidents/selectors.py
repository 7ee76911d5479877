"""Reads: what the list, the command page, the API and the live view show.

Query counts here must not grow with the number of incidents or timeline events (the list
and the command page are benchmarked and guarded by ``django_assert_max_num_queries``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Case, F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.fields.tuple_lookups import Tuple, TupleLessThan
from django.http import QueryDict

from nexusops.common import clock, keyset
from nexusops.common.errors import NotFoundError
from nexusops.engine.models import Timer

from .models import (
    OPEN_STATUSES,
    ChecklistItem,
    Incident,
    Service,
    Severity,
    Status,
    Step,
    TimelineEvent,
    TimerKind,
)
from .services.lifecycle import transitions_available
from .services.stopped_timers import timer_label

# Each order ends with a unique key, so keyset paging (``incident_page``) is total, and each
# is read in the order of an index, from its first page to its last. The default, open
# incidents first, is one direction throughout so that keyset comparison is one row value
# over the index ``incident_open_first_desc`` (migration 0013); by severity reads the
# incident's copy of its rank (``incident_severity_rank_order``, migration 0015).
SORTS = {
    "detected": ("-detected_at", "-id"),
    "oldest": ("detected_at", "id"),
    "severity": ("severity_rank", "-detected_at", "-id"),
    "sla": (F("sla_next_due_at").asc(nulls_last=True), "-detected_at", "-id"),
    "number": ("-number",),
}
COUNT_LIMIT = keyset.COUNT_LIMIT  # the list's count stops here: "1,000+"


def can_see_internal(user: User | None) -> bool:
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


def incident_visibility(user: User | None) -> IncidentVisibility:
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


# --- the command page -------------------------------------------------------------------

TIMELINE_LIMIT = 50  # newest first; older pages by ?before=<id> (keeps the page fast at 5,000)
LATEST_LIMIT = 4  # the glance's latest updates: what fits above the fold at 1400x900
SLA_WORDS: dict[str, str] = {TimerKind.ACK_DEADLINE: "ack", TimerKind.FIRST_UPDATE: "first update"}


def sla_words(incident: Incident) -> str:
    return SLA_WORDS.get(incident.sla_next_kind, incident.sla_next_kind.replace("_", " "))


def commanders() -> QuerySet:
    """Users whose role may drive an incident: the IC choices."""
    return (
        get_user_model()
        .objects.filter(
            Q(is_superuser=True)
            | Q(
                groups__permissions__codename="drive_incident",
                groups__permissions__content_type__app_label="incidents",
            ),
            is_active=True,
        )
        .distinct()
        .order_by("username")
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _labelled(timers: list[Timer]) -> list[Timer]:
    for timer in timers:
        timer.label = timer_label(timer)
    return timers


def _steps(incident: Incident) -> list[dict]:
    items = list(incident.checklist.all())
    steps = []
    for value, label in Step.choices:
        mine = [i for i in items if i.step == value]
        steps.append(
            {
                "key": value,
                "label": label,
                "items": mine,
                "done": sum(1 for i in mine if i.done),
                "total": len(mine),
            }
        )
    return steps


def incident_command_context(
    *,
    incident: Incident,
    user: User,
    query: QueryDict,
    sections: Iterable[str] = (),
    errors: dict[str, list[str]] | None = None,
    edit_data=None,  # noqa: ANN001 - a QueryDict
    note_data=None,  # noqa: ANN001 - a QueryDict
) -> dict:
    """Everything the command page (and its htmx sections) renders for ``user``.

    ``query`` is the page's GET: the timeline's ``kind`` filter and ``before`` paging.
    ``errors``, ``edit_data`` and ``note_data`` keep a rejected form's input on the page.
    """
    # The same rule the API's serializer applies (incident_visibility): the page
    # hides the internal sections exactly when the API leaves their fields out.
    internal = incident_visibility(user).internal
    kinds = [k for k in query.getlist("kind") if k]
    before = _int(query.get("before"))
    events_qs = timeline(incident=incident, user=user, kinds=kinds or None, before=before or None)
    events = list(events_qs[: TIMELINE_LIMIT + 1])
    older = events[TIMELINE_LIMIT - 1].pk if len(events) > TIMELINE_LIMIT else None
    events = events[:TIMELINE_LIMIT]
    older_query = urlencode([*(("kind", k) for k in kinds), ("before", older)]) if older else ""
    now = clock.now()
    end = incident.resolved_at or incident.closed_at or now
    incident.sla_words = sla_words(incident)
    perms = {
        name: user.has_perm(f"incidents.{name}")
        for name in ("drive_incident", "acknowledge_incident", "add_note", "declare_incident")
    }
    context = {
        "incident": incident,
        "internal": internal,
        "perms": perms,
        "live": is_live(incident),
        "now": now,
        "elapsed": end - incident.detected_at,
        "elapsed_running": incident.resolved_at is None and incident.closed_at is None,
        "events": events,
        "older_query": older_query,
        "newer": bool(before),
        "kinds": kinds,
        "all_kinds": timeline_kinds(incident=incident, user=user),
        "sections": set(sections),
        "errors": errors or {},
    }
    if internal:
        steps = _steps(incident)
        responders = list(incident.responders.all())
        context.update(
            {
                "transitions": [
                    t
                    for t in transitions_available(incident)
                    if user.has_perm(f"incidents.{t.permission}")
                ],
                "steps": steps,
                "next_item": next_checklist_item(steps),
                # The glance ignores the timeline's kind filter and paging: always the newest,
                # which is the timeline's own first rows unless it is filtered or paged.
                "latest_events": (
                    events[:LATEST_LIMIT]
                    if not kinds and not before
                    else list(timeline(incident=incident, user=user)[:LATEST_LIMIT])
                ),
                "timers": _labelled(pending_timers(incident)),
                "dead_timers": _labelled(dead_timers(incident)),
                "services_selected": [s.slug for s in incident.services.all()],
                "responders": responders,
                "responder_ids": {u.pk for u in responders},
            }
        )
        if perms["drive_incident"]:
            context.update(_drive_context(incident, edit_data))
        context["note_data"] = note_data or {}
    return context


def _drive_context(incident: Incident, edit_data) -> dict:  # noqa: ANN001 - a QueryDict
    """What the assign and edit forms need; ``edit_data`` keeps a rejected input."""
    if edit_data is not None:
        edit = {
            "title": edit_data.get("title", ""),
            "severity": edit_data.get("severity", ""),
            "services": edit_data.getlist("services"),
            "impact_users": edit_data.get("impact_users", ""),
            "impact_percent": edit_data.get("impact_percent", ""),
            "impact_description": edit_data.get("impact_description", ""),
            "data_breach": bool(edit_data.get("data_breach")),
            "major_customer_impact": bool(edit_data.get("major_customer_impact")),
        }
    else:
        edit = {
            "title": incident.title,
            "severity": incident.severity.code,
            "services": [s.slug for s in incident.services.all()],
            "impact_users": "" if incident.impact_users is None else incident.impact_users,
            "impact_percent": "" if incident.impact_percent is None else incident.impact_percent,
            "impact_description": incident.impact_description,
            "data_breach": incident.data_breach,
            "major_customer_impact": incident.major_customer_impact,
        }
    return {
        "edit": edit,
        "commanders": list(commanders()),
        "people": list(get_user_model().objects.filter(is_active=True).order_by("username")),
        "severities": list(Severity.objects.all()),
        "all_services": list(Service.objects.all()),
    }
