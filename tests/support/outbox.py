"""Outbox helpers for tests that deliver in-process."""

from __future__ import annotations

import time

from nexusops.common import clock
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import outbox_deliver, outbox_relay
from tests.support.worker import WorkerProcess, wait_for

FANOUT_TARGETS = ("email.public_update.subscribers", "email.maintenance_notice.subscribers")


def expand_fanouts() -> int:
    """Do what a worker does with pending fan-out rows: write the per-recipient rows."""
    pending = OutboxMessage.objects.filter(target__in=FANOUT_TARGETS, state="pending")
    pks = list(pending.order_by("pk").values_list("pk", flat=True))
    for pk in pks:
        assert outbox_deliver(message_id=pk) == "sent"
    return len(pks)


def deliver_due(max_rounds: int = 10) -> list[str]:
    """Deliver every open message that is due now, in order, as workers would."""
    states = []
    for _ in range(max_rounds):
        due = list(
            OutboxMessage.objects.filter(
                state__in=["pending", "retrying"], next_attempt_at__lte=clock.now()
            ).order_by("id")
        )
        if not due:
            break
        states += [outbox_deliver(message_id=m.pk) for m in due]
    return states


def redeliver_after_the_lease(message: OutboxMessage, env: dict[str, str]) -> OutboxMessage:
    """After a worker died mid-call: wait out its 2 s lease, start a new worker, let the relay
    send the message again, and return it once it is sent."""
    time.sleep(2.1)  # the dead worker's lease runs out
    second = WorkerProcess(extra_env=env).start()
    try:
        second.await_ready()
        assert outbox_relay() == 1
        wait_for(
            lambda: OutboxMessage.objects.get(pk=message.pk).state == "sent",
            timeout=30,
            message="the redelivery",
        )
    finally:
        second.stop()
    message.refresh_from_db()
    return message
