"""Outbox helpers for tests that deliver in-process."""

from __future__ import annotations

from nexusops.common import clock
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import outbox_deliver

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
