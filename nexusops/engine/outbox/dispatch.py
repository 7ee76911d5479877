"""Handing messages to the broker: after the writing transaction commits, or now (the relay).

A transaction's dispatches share one attempt budget: after the first broker failure the rest
are left to the relay, so a request never waits on the broker more than once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction

logger = logging.getLogger("nexusops.engine.outbox")


@dataclass
class BrokerBudget:
    """The dispatches of one transaction's commit: after one broker failure, skip the rest."""

    flushing: bool = False
    broker_down: bool = False
    skipped: list[int] = field(default_factory=list)

    def send(self, message_id: int, queue: str, countdown: float | None) -> None:
        self.flushing = True
        if self.broker_down:
            self.skipped.append(message_id)
            return
        if not dispatch(message_id, queue, countdown=countdown):
            self.broker_down = True


_local = threading.local()


def _current_batch() -> BrokerBudget:
    # A batch collects the hooks of the transaction being written. Once it starts flushing
    # (after commit), anything enqueued belongs to a later transaction: a new batch. A
    # rolled-back transaction never flushed, so its (empty-handed) batch is simply reused.
    batch = getattr(_local, "batch", None)
    if batch is None or batch.flushing:
        batch = _local.batch = BrokerBudget()
    return batch


def dispatch_on_commit(message_id: int, queue: str, countdown: float | None = None) -> None:
    batch = _current_batch()
    # One hook per message, not one per batch: Django drops the hooks of a rolled-back
    # savepoint, so each message's dispatch lives and dies with its own row.
    transaction.on_commit(lambda: batch.send(message_id, queue, countdown))


def dispatch_many(items: Iterable[tuple[int, str, float | None]]) -> int:
    """Dispatch several messages now (outside a transaction); stops at the first broker
    failure and leaves the rest to the relay. Returns how many the broker took."""
    batch, taken = BrokerBudget(flushing=True), 0
    for message_id, queue, countdown in items:
        batch.send(message_id, queue, countdown)
        if batch.broker_down:
            break
        taken += 1
    return taken


def dispatch(message_id: int, queue: str, *, countdown: float | None = None) -> bool:
    """Hand a message to the broker. A broker outage is not an error: the relay resends.

    One connection attempt, no retry loop: a request that changed an incident must not hang
    because the broker is down (kombu's default would retry for minutes).
    """
    from nexusops.celery import app

    from ..tasks import outbox_deliver_task

    try:
        with app.pool.acquire(block=True, timeout=5) as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, interval_max=0, timeout=2
            )
            outbox_deliver_task.apply_async(
                (message_id,), queue=queue, countdown=countdown, retry=False, connection=conn
            )
        return True
    except Exception as exc:  # noqa: BLE001 - any broker failure leaves the row for the relay
        logger.warning(
            "outbox %s not dispatched (%s: %s); the relay will send it",
            message_id,
            type(exc).__name__,
            exc,
        )
        return False
