"""Outbox helpers for tests that deliver in-process."""

from __future__ import annotations

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
