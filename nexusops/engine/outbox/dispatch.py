"""Handing messages to the broker: after the writing transaction commits, or now (the relay).

A transaction's dispatches share one attempt budget: after the first broker failure the rest
are left to the relay, so a request never waits on the broker more than once.

Several messages go in one round trip (a kombu publish batch, one Redis pipeline): the
relay's, a fan-out's, and, inside ``dispatch_together``, every dispatch that falls due there
(what a timer sweep commits batch after batch); elsewhere each goes at its commit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import transaction

logger = logging.getLogger("nexusops.engine.outbox")
Item = tuple[int, str, float | None]  # message id, queue, countdown
_together: ContextVar[list[Item] | None] = ContextVar("outbox_dispatch_together", default=None)


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
        together = _together.get()
        if together is not None:
            together.append((message_id, queue, countdown))
        elif not dispatch(message_id, queue, countdown=countdown):
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


@contextmanager
def dispatch_together() -> Iterator[None]:
    """What transactions committed inside want dispatched is handed to the broker on the way
    out, all in one round trip, rather than at each commit. Only the hooks of what committed
    run, so a rolled-back message is never dispatched; if the broker fails, the relay sends
    them all."""
    items: list[Item] = []
    token = _together.set(items)
    try:
        yield
    finally:
        _together.reset(token)
        dispatch_many(items)


def dispatch_many(items: Iterable[Item]) -> int:
    """Dispatch several messages now (outside a transaction), in one round trip to the
    broker; returns how many it took: all, or none if it failed (the relay sends them)."""
    items = list(items)
    if not items:
        return 0
    from nexusops.celery import app

    from ..tasks import outbox_deliver_task

    try:
        with app.pool.acquire(block=True, timeout=5) as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, interval_max=0, timeout=2
            )
            producer = app.amqp.Producer(conn, auto_declare=False)
            with producer.batch():
                for message_id, queue, countdown in items:
                    outbox_deliver_task.apply_async(
                        (message_id,),
                        queue=queue,
                        countdown=countdown,
                        retry=False,
                        producer=producer,
                    )
        return len(items)
    except Exception as exc:  # noqa: BLE001 - any broker failure leaves the rows for the relay
        logger.warning(
            "outbox %s not dispatched (%s: %s); the relay will send them",
            ", ".join(str(item[0]) for item in items),
            type(exc).__name__,
            exc,
        )
        return 0


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
