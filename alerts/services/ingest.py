"""Record what a webhook delivered, in one INSERT, and make sure it gets processed.

A replayed or duplicated delivery has the same ``event_key`` and is dropped by the unique
constraint (``ON CONFLICT DO NOTHING``): it changes nothing. Processing is a task queued
after commit; if the broker is down the rows wait for the beat sweep.

Outside a transaction (every webhook request) the rows go through the process's group commit
(``group_commit.py``): concurrent requests share one INSERT and one commit, and each returns
only once its rows are committed. Inside a caller's transaction they are written on the
caller's connection and commit with it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence

import psycopg
from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from nexusops.common import clock

from ..models import AlertEvent, AlertSource
from .group_commit import GroupCommit
from .parsers import ParsedAlert

logger = logging.getLogger(__name__)

# Requests of every web process within this window share one processing task: the task is
# queued with this countdown, so it starts after every commit that saw it pending. A task
# costs the worker ~20 statements whatever its size: at a few hundred alerts/s, 0.2 s windows
# made that fixed cost most of an alert's CPU; half a second halves it, for at most 0.3 s more
# before a page.
COALESCE_SECONDS = 0.5
_MARGIN = 0.02
BROKER_BACKOFF_SECONDS = 5.0
_lock = threading.Lock()


class _Scheduled:
    until = 0.0  # a task queued by this process starts after this time (time.time())


_scheduled = _Scheduled()


def alert_events_record(*, source: AlertSource, alerts: list[ParsedAlert]) -> int:
    """Insert the events (duplicates ignored) and queue processing after commit.

    One ``INSERT ... ON CONFLICT DO NOTHING`` statement, atomic on its own: outside a
    transaction the process's writer runs it in autocommit for every request waiting (no
    BEGIN/COMMIT trips), and this returns once it committed or raises the database's error.
    """
    rows = _rows(source, alerts) if connection.vendor == "postgresql" else _params(source, alerts)
    if connection.in_atomic_block:
        _insert([rows], connection)
        transaction.on_commit(processing_schedule)
    else:
        writer.submit(rows)
    return len(alerts)


_TABLE = AlertEvent._meta.db_table
_INSERT = f"INSERT INTO {_TABLE} (source_id, event_key, fingerprint, status, at, data, received_at)"
_ROW = "(%s, %s, %s, %s, %s, %s, %s)"
# PostgreSQL: the rows of every request in the batch as one JSON document, so the statement's
# text is the same whatever the batch: prepared once per connection, planned once, and one
# parameter to send (json.dumps is one C call; binding 7 parameters a row was not).
_JSON_INSERT = (
    f"{_INSERT} SELECT source_id, event_key, fingerprint, status, at, data, received_at "
    "FROM jsonb_to_recordset(%s::jsonb) AS r(source_id bigint, event_key text, "
    "fingerprint text, status text, at timestamptz, data jsonb, received_at timestamptz) "
    "ON CONFLICT (source_id, event_key) DO NOTHING"
)


def _rows(source: AlertSource, alerts: list[ParsedAlert]) -> list[dict]:
    now = clock.now().isoformat()
    return [
        {
            "source_id": source.pk,
            "event_key": a.event_key,
            "fingerprint": a.fingerprint,
            "status": a.status,
            "at": a.at.isoformat(),
            "data": a.data(),
            "received_at": now,
        }
        for a in alerts
    ]


def _params(source: AlertSource, alerts: list[ParsedAlert]) -> list[list]:
    at_field = AlertEvent._meta.get_field("at")
    now = at_field.get_db_prep_value(clock.now(), connection)
    return [
        [
            source.pk,
            a.event_key,
            a.fingerprint,
            a.status,
            at_field.get_db_prep_value(a.at, connection),
            json.dumps(a.data()),
            now,
        ]
        for a in alerts
    ]


def _insert(requests: Sequence[list], db: BaseDatabaseWrapper) -> None:
    """One INSERT of the rows of one or more requests, on ``db``."""
    if db.vendor == "postgresql":
        payload = json.dumps([row for rows in requests for row in rows])
        db.ensure_connection()
        with db.wrap_database_errors, psycopg.Cursor(db.connection) as cursor:
            cursor.execute(_JSON_INSERT, [payload], prepare=True)
        return
    params = [value for rows in requests for row in rows for value in row]
    values = ", ".join([_ROW] * (len(params) // 7))
    with db.cursor() as cursor:
        cursor.execute(
            f"{_INSERT} VALUES {values} ON CONFLICT (source_id, event_key) DO NOTHING", params
        )


def processing_schedule() -> bool:
    """Queue one processing task unless one (from any process) will start after now."""
    now = time.time()
    if now < _scheduled.until - _MARGIN:
        return True
    with _lock:  # threads of one process share the task
        if now < _scheduled.until - _MARGIN:
            return True
        return _publish(now)


def _publish(now: float) -> bool:
    from nexusops.celery import app

    from ..tasks import alerts_process_task

    try:
        with app.pool.acquire(block=True, timeout=2) as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, interval_max=0, timeout=2
            )
            held_for = _claim_window(conn)
            if held_for is not None:
                # Another web process queued a task that has not started yet: it will see
                # our rows (they are committed), so one task serves every process, until then.
                _scheduled.until = now + held_for
                return True
            try:
                alerts_process_task.apply_async(
                    countdown=COALESCE_SECONDS, retry=False, connection=conn
                )
            except Exception:
                _release_window(conn)
                raise
    except Exception as exc:  # noqa: BLE001 - the rows are committed; the sweep will run them
        logger.warning("alert processing not queued (the sweep will pick it up): %s", exc)
        # Do not make every request wait on a dead broker: the sweep covers this window.
        _scheduled.until = now + BROKER_BACKOFF_SECONDS
        return False
    _scheduled.until = now + COALESCE_SECONDS
    return True


# The flag in the broker's Redis that says "a processing task is queued and not started".
WINDOW_KEY = "nexusops:alerts:processing-queued"


def _redis(conn):  # noqa: ANN001, ANN202 - a kombu connection; a redis client or None
    return getattr(conn.default_channel, "client", None) if conn.transport_cls == "redis" else None


def _claim_window(conn) -> float | None:  # noqa: ANN001 - a kombu connection
    """None when this process should queue the task; else the seconds for which another
    process's queued task is sure not to have started. The flag expires a little before that
    task starts, so a row committed after it is gone always gets a task of its own. Brokers
    other than Redis: always None (one task per process and window, as before)."""
    client = _redis(conn)
    if client is None:
        return None
    ttl_ms = int((COALESCE_SECONDS - _MARGIN) * 1000)
    if client.set(WINDOW_KEY, "1", nx=True, px=ttl_ms):
        return None
    remaining_ms = client.pttl(WINDOW_KEY)
    if remaining_ms is None or remaining_ms <= 0:  # gone meanwhile, or no expiry: queue ours
        return None
    return remaining_ms / 1000.0


def _release_window(conn) -> None:  # noqa: ANN001 - a kombu connection
    client = _redis(conn)
    if client is not None:
        client.delete(WINDOW_KEY)


# The process's group commit (its write connection opens on first use).
writer = GroupCommit(_insert, after=processing_schedule)
