"""The incident list (HTML and API): filters, sorts and keyset pages with a bounded count.

Every sort is read in the order of an index, so the first page and a deep page from a cursor
cost the same at 100,000 incidents or 200,000 (bench/README.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When

from nexusops.common import keyset

from ..models import OPEN_STATUSES, Incident, Severity

# Each order ends with a unique key, so keyset paging (``incident_page``) is total, and each
# is read in the order of an index, from its first page to its last. The default, open
# incidents first, is one direction throughout so that keyset comparison is one row value
# over the index ``incident_open_first_desc`` (migration 0013); by severity reads the
# incident's copy of its rank (``incident_severity_rank_order``, migration 0016).
SORTS = {
    "detected": ("-detected_at", "-id"),
    "oldest": ("detected_at", "id"),
    "severity": ("severity_rank", "-detected_at", "-id"),
    "sla": (F("sla_next_due_at").asc(nulls_last=True), "-detected_at", "-id"),
    "number": ("-number",),
}
COUNT_LIMIT = keyset.COUNT_LIMIT  # the list's count stops here: "1,000+"


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
