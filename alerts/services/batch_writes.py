"""The set-based writes of a processing batch: one statement each, whatever the number of
events, alerts or groups in it (issue 15). ``processing`` decides; this writes.

On PostgreSQL the rows travel as few parameters as possible (an array literal, one JSON
document): adapting thousands of values one by one in Python was most of a batch's CPU.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Protocol

from django.db import connection
from django.db.models import Case, Count, Q, Value, When

from ..models import Alert, AlertEvent, AlertGroup, AlertStatus

FIRING, RESOLVED = AlertStatus.FIRING, AlertStatus.RESOLVED


class _HasPk(Protocol):
    @property
    def pk(self) -> int: ...


class Routed(Protocol):
    """A group's key and the events routed to it (``processing._Unit``)."""

    @property
    def key(self) -> str: ...
    @property
    def events(self) -> Sequence[_HasPk]: ...


def events_mark_processed(units: Sequence[Routed], now: dt.datetime) -> None:
    """Mark the units' events processed, each with its group's key."""
    if connection.vendor == "postgresql":
        # The ids as one array literal and each event's key as an index into the batch's few
        # keys: two parameters whatever the batch, no per-element adaptation in Python.
        ids = "{" + ",".join(str(e.pk) for u in units for e in u.events) + "}"
        index = "{" + ",".join(str(n) for n, u in enumerate(units, 1) for _ in u.events) + "}"
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {AlertEvent._meta.db_table} AS e SET processed_at = %s, "
                "group_key = (%s::text[])[v.n] "
                "FROM unnest(%s::bigint[], %s::int[]) AS v(id, n) WHERE e.id = v.id",
                [now, [u.key for u in units], ids, index],
            )
        return
    # Elsewhere (SQLite) one UPDATE too, the key chosen per event by a CASE.
    pks = [e.pk for u in units for e in u.events]
    key = Case(*[When(pk__in=[e.pk for e in u.events], then=Value(u.key)) for u in units])
    AlertEvent.objects.filter(pk__in=pks).update(processed_at=now, group_key=key)


ALERT_FIELDS = [
    "group",
    "status",
    "title",
    "labels",
    "annotations",
    "value",
    "url",
    "last_seen",
    "status_changed_at",
    "resolved_at",
    "event_count",
    "flips",
    "flapping",
]


def alerts_save(alerts: dict[tuple[int, str], Alert]) -> None:
    """One upsert on (source, fingerprint) for new and known alerts alike: much cheaper
    than ``bulk_update``'s CASE per field and row. On PostgreSQL the rows travel as one JSON
    document (``jsonb_to_recordset``): encoding it is one C call, where the ORM prepared
    every field of every row in Python (a third of a batch's CPU)."""
    if connection.vendor == "postgresql":
        _upsert_alerts_json(list(alerts.values()))
        return
    Alert.objects.bulk_create(
        list(alerts.values()),
        update_conflicts=True,
        unique_fields=["source", "fingerprint"],
        update_fields=ALERT_FIELDS,
    )


# Column and its type in the JSON document, in the table's terms.
_ALERT_COLUMNS = {
    "source_id": "bigint",
    "fingerprint": "text",
    "group_id": "bigint",
    "status": "text",
    "title": "text",
    "labels": "jsonb",
    "annotations": "jsonb",
    "value": "double precision",
    "url": "text",
    "first_seen": "timestamptz",
    "last_seen": "timestamptz",
    "status_changed_at": "timestamptz",
    "resolved_at": "timestamptz",
    "event_count": "integer",
    "flips": "jsonb",
    "flapping": "boolean",
}
_UPSERT_ALERTS = (
    f"INSERT INTO {Alert._meta.db_table} ({', '.join(_ALERT_COLUMNS)}) "
    f"SELECT {', '.join(_ALERT_COLUMNS)} FROM jsonb_to_recordset(%s::jsonb) AS r("
    + ", ".join(f"{c} {t}" for c, t in _ALERT_COLUMNS.items())
    + ") ON CONFLICT (source_id, fingerprint) DO UPDATE SET "
    + ", ".join(
        f"{c} = EXCLUDED.{c}" for c in (f + "_id" if f == "group" else f for f in ALERT_FIELDS)
    )
)


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _upsert_alerts_json(alerts: list[Alert]) -> None:
    rows = [
        {
            "source_id": a.source_id,
            "fingerprint": a.fingerprint,
            "group_id": a.group.pk,
            "status": a.status,
            "title": a.title,
            "labels": a.labels,
            "annotations": a.annotations,
            # As the ORM's FloatField would: a value that is not a number fails its group.
            "value": None if a.value is None else float(a.value),
            "url": a.url,
            "first_seen": _iso(a.first_seen),
            "last_seen": _iso(a.last_seen),
            "status_changed_at": _iso(a.status_changed_at),
            "resolved_at": _iso(a.resolved_at),
            "event_count": a.event_count,
            "flips": a.flips,
            "flapping": a.flapping,
        }
        for a in alerts
    ]
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT_ALERTS, [json.dumps(rows, allow_nan=False)])


def groups_recount(groups: list[AlertGroup], now: dt.datetime) -> None:
    counts = {
        row["group"]: row
        for row in Alert.objects.filter(group__in=groups)
        .values("group")
        .annotate(
            total=Count("id"),
            firing=Count("id", filter=Q(status=FIRING)),
            flapping=Count("id", filter=Q(flapping=True)),
        )
    }
    for group in groups:
        row = counts.get(group.pk, {"total": 0, "firing": 0, "flapping": 0})
        group.alert_count = row["total"]
        group.firing_count = row["firing"]
        group.flapping = row["flapping"] > 0
        status = FIRING if row["firing"] else RESOLVED
        if status != group.status:
            group.status = status
            group.status_changed_at = now
    # An upsert on the unique key: one statement, without bulk_update's CASE per field/row.
    AlertGroup.objects.bulk_create(
        groups,
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=[
            "alert_count",
            "firing_count",
            "flapping",
            "status",
            "status_changed_at",
            "event_count",
            "last_seen",
        ],
    )
