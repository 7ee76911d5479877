"""What the database and the broker say right now, read at scrape time.

Four queries, whatever the number of rows (each an aggregate over a partial index, so the cost
follows the open work, not the history): the unsettled outbox by state, the pending timers,
the unprocessed alert events, and open incidents by severity. Then one pipelined read of the
broker's queue lengths. A part that cannot be read reports ``nexusops_up{part=...} 0`` and
leaves its series out instead of failing the scrape.

Every web process answers the same values, so alert rules take ``max()`` over them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import DatabaseError
from django.db.models import Count, Min, Q
from prometheus_client.core import GaugeMetricFamily, Metric

from alerts.models import AlertEvent
from incidents.models import Severity
from incidents.models.incident import OPEN_STATUSES
from nexusops.engine.models import OutboxMessage, Timer

from . import queues

logger = logging.getLogger(__name__)
State = OutboxMessage.State
# Not yet delivered nor given up on: the states whose oldest message may be stuck.
OUTBOX_OPEN = (State.WAITING, State.PENDING, State.SENDING, State.RETRYING)
# The states exported (sent and skipped are history: counting them would read the whole table).
OUTBOX_EXPORTED = (*OUTBOX_OPEN, State.DEAD)


def _age(now: dt.datetime, since: dt.datetime | None) -> float:
    return max((now - since).total_seconds(), 0.0) if since is not None else 0.0


def outbox_families(now: dt.datetime) -> list[Metric]:
    rows = (
        OutboxMessage.objects.filter(state__in=OUTBOX_EXPORTED)
        .values("state")
        .annotate(n=Count("id"), oldest=Min("created_at"))
        .order_by()
    )
    by_state = {row["state"]: row for row in rows}
    messages = GaugeMetricFamily(
        "nexusops_outbox_messages",
        "Outbox messages not yet sent, by state (dead: gave up, waits for a Retry).",
        labels=["state"],
    )
    for state in OUTBOX_EXPORTED:
        messages.add_metric([state], by_state.get(state, {}).get("n", 0))
    oldest = min(
        (by_state[s]["oldest"] for s in OUTBOX_OPEN if s in by_state),
        default=None,
    )
    age = GaugeMetricFamily(
        "nexusops_outbox_oldest_pending_age_seconds",
        "Age of the oldest message waiting, pending, sending or retrying (0 when none).",
        value=_age(now, oldest),
    )
    return [messages, age]


def timer_families(now: dt.datetime) -> list[Metric]:
    due = Q(dead_at__isnull=True, due_at__lte=now)
    row = Timer.objects.filter(fired_at__isnull=True, cancelled_at__isnull=True).aggregate(
        due=Count("id", filter=due),
        oldest_due=Min("due_at", filter=due),
        dead=Count("id", filter=Q(dead_at__isnull=False)),
    )
    return [
        GaugeMetricFamily(
            "nexusops_timers_due",
            "Timers past their due time and not fired yet (dead ones excluded).",
            value=row["due"],
        ),
        GaugeMetricFamily(
            "nexusops_timers_oldest_lateness_seconds",
            "How long the most overdue unfired timer is past its due time (0 when none).",
            value=_age(now, row["oldest_due"]),
        ),
        GaugeMetricFamily(
            "nexusops_timers_dead",
            "Timers stopped after too many failed firings, waiting for a Retry.",
            value=row["dead"],
        ),
    ]


def alert_families(now: dt.datetime) -> list[Metric]:
    row = AlertEvent.objects.filter(processed_at__isnull=True).aggregate(
        n=Count("id"), oldest=Min("received_at")
    )
    return [
        GaugeMetricFamily(
            "nexusops_alert_events_pending",
            "Alert notifications received and not yet processed into alert groups.",
            value=row["n"],
        ),
        GaugeMetricFamily(
            "nexusops_alert_events_oldest_pending_age_seconds",
            "Age of the oldest unprocessed alert notification (0 when none).",
            value=_age(now, row["oldest"]),
        ),
    ]


def incident_families() -> list[Metric]:
    rows = (
        Severity.objects.annotate(
            open=Count("incidents", filter=Q(incidents__status__in=OPEN_STATUSES))
        )
        .order_by("rank")
        .values_list("code", "open")
    )
    family = GaugeMetricFamily(
        "nexusops_incidents_open",
        "Open incidents (triggered, acknowledged, investigating, mitigated) by severity.",
        labels=["severity"],
    )
    for code, count in rows:
        family.add_metric([code], count)
    return [family]


def queue_families() -> list[Metric]:
    lengths = queues.queue_lengths()
    if lengths is None:
        return []
    family = GaugeMetricFamily(
        "nexusops_celery_queue_length",
        "Celery messages waiting in the broker per queue (taken but unacknowledged not counted).",
        labels=["queue"],
    )
    for queue, length in lengths.items():
        family.add_metric([queue], length)
    return [family]


def console_state(now: dt.datetime) -> Iterable[Metric]:
    up = GaugeMetricFamily(
        "nexusops_up",
        "1 when /metrics could read this part (database, broker) at this scrape, else 0.",
        labels=["part"],
    )
    families: list[Metric] = []
    try:
        for read in (outbox_families, timer_families, alert_families):
            families += read(now)
        families += incident_families()
        up.add_metric(["database"], 1)
    except DatabaseError as exc:
        logger.warning("metrics: database unreadable: %s: %s", type(exc).__name__, exc)
        families = []
        up.add_metric(["database"], 0)
    try:
        families += queue_families()
        up.add_metric(["broker"], 1)
    except queues.BrokerUnreadable as exc:
        logger.warning("metrics: broker unreadable: %s", exc)
        up.add_metric(["broker"], 0)
    return [*families, up]
