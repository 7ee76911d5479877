"""Fan-out: one message to many recipients, expanded into per-recipient rows in a worker."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from nexusops.common import clock

from ..models import OutboxMessage
from .dispatch import BrokerBudget
from .registry import State, queue_for, register_sender, sender

# ---- fan-out ----------------------------------------------------------------------------
Recipients = Callable[[OutboxMessage], Iterable[tuple[str, dict]]]
FANOUT_BATCH = 500


def register_fanout(name: str, *, target: str, recipients: Recipients, label: str = "") -> None:
    """A message to many recipients as one row: its delivery, in a worker, writes one
    ``target`` row per ``(key, payload)`` that ``recipients`` yields (keys make a re-run
    harmless) and dispatches them. Enqueue it with ``outbox_enqueue(target=name, ...)``::

        register_fanout("email.public_update.all", target=UPDATE_EMAIL,
                        recipients=lambda m: ((f"{m.key}:sub{pk}", {...}) for pk in ...))
    """

    def expand(message: OutboxMessage) -> dict:
        return _expand(message, target, recipients)

    register_sender(
        name,
        send=expand,
        enabled=sender(target).enabled,
        label=label or f"{sender(target).label} (to everyone)",
        queue=sender(target).queue,
        off_reason=sender(target).off_reason,
    )


def _expand(message: OutboxMessage, target: str, recipients: Recipients) -> dict:
    now, total = clock.now(), 0
    rows: list[OutboxMessage] = []
    # One broker budget for the whole expansion: after a failure the relay sends the rest.
    broker = BrokerBudget(flushing=True)

    def flush() -> None:
        OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True, batch_size=FANOUT_BATCH)
        # Dispatch what is still untouched: on a re-run that includes rows the first run
        # dispatched; a message claimed twice is still sent once.
        fresh = OutboxMessage.objects.filter(
            key__in=[r.key for r in rows], state=State.PENDING, attempts=0
        ).values_list("pk", flat=True)
        for pk in fresh:
            broker.send(pk, queue_for(target), None)
        rows.clear()

    for key, payload in recipients(message):
        total += 1
        rows.append(
            OutboxMessage(
                key=key,
                target=target,
                payload=payload,
                incident_id=message.incident_id,
                next_attempt_at=now,
                created_at=now,
            )
        )
        if len(rows) >= FANOUT_BATCH:
            flush()
    if rows:
        flush()
    return {"recipients": total, "left_to_relay": len(broker.skipped) + int(broker.broker_down)}
