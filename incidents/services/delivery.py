"""What the incident's timeline says about its outbound messages: a failure, and a retry."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from nexusops.engine import outbox
from nexusops.engine.models import OutboxMessage

from ..models import Channel
from .common import require
from .timeline import timeline_append


def record_delivery_failed(event: outbox.OutboxMessageDied) -> None:
    message = event.message
    incident = message.incident
    if incident is None:
        return
    timeline_append(
        incident=incident,
        kind="delivery_failed",
        channel=Channel.SYSTEM,
        internal=True,
        data={"message": message.pk, "target": message.target},
        message=f"{event.label} failed after {message.attempts} attempt(s): {message.last_error}",
    )


@transaction.atomic
def outbox_retry(*, message: OutboxMessage | int, actor: User | None) -> OutboxMessage:
    """A person asks to try a dead message again."""
    require(actor, "drive_incident")
    pk = message.pk if isinstance(message, OutboxMessage) else message
    message = outbox.outbox_requeue(message_id=pk)
    if message.incident is not None:
        timeline_append(
            incident=message.incident,
            kind="delivery_retried",
            actor=actor,
            internal=True,
            data={"message": message.pk},
            message=f"Retrying {outbox.label(message)}.",
        )
    return message
