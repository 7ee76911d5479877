"""Writing a message: ``outbox_enqueue``, in the caller's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import connections, models, router
from django.db.models.constants import OnConflict

from nexusops.common import clock

from ..held_rows import holding
from ..models import OutboxMessage
from .dispatch import dispatch_on_commit
from .registry import DONE, State, blocked_reason, blocks_dependants, sender


@dataclass(frozen=True)
class Enqueued:
    """What ``outbox_enqueue`` did. Callers must look before they say anything was sent.

    ``message`` is the row (new, or the one enqueued before under the same key), or ``None``
    when the target's integration is switched off; ``off_reason`` then says why, in words a
    timeline can carry ("per-person paging is not configured").
    """

    message: OutboxMessage | None
    created: bool = False
    off_reason: str = ""

    @property
    def queued(self) -> bool:
        return self.message is not None

    def __bool__(self) -> bool:
        return self.queued


def outbox_enqueue(
    *,
    target: str,
    key: str,
    payload: dict | None = None,
    incident: models.Model | None = None,
    delay: dt.timedelta | None = None,
    after: OutboxMessage | None = None,
) -> Enqueued:
    """Write the message in the current transaction; dispatch after commit.

    The result has no message when the target's integration is switched off (with the
    reason), and the existing row when ``key`` was enqueued before (at most once). The
    message waits for ``after`` (or what the sender's ``after`` finds) until that is sent.
    """
    spec = sender(target)
    if not spec.enabled():
        return Enqueued(None, off_reason=spec.off_reason)
    payload = payload or {}
    prerequisite = after
    if prerequisite is None and spec.after is not None and incident is not None:
        prerequisite = spec.after(incident, payload)
    if prerequisite is not None and (
        prerequisite.state in DONE
        or (prerequisite.state == State.DEAD and not blocks_dependants(prerequisite.target))
    ):
        prerequisite = None
    now = clock.now()
    message = OutboxMessage(
        key=key,
        target=target,
        payload=payload,
        incident=incident,
        depends_on=prerequisite,
        state=State.WAITING if prerequisite is not None else State.PENDING,
        last_error=blocked_reason(prerequisite)
        if prerequisite is not None and prerequisite.state == State.DEAD
        else "",
        next_attempt_at=now + (delay or dt.timedelta()),
        created_at=now,
    )
    created = _insert_new(message)
    if not created:
        message = OutboxMessage.objects.get(key=key)
    if created and prerequisite is None:
        dispatch_on_commit(message.pk, spec.queue, delay.total_seconds() if delay else None)
    if created and incident is not None:
        _remember(message)
    return Enqueued(message, created)


# (message, the savepoints open when it was written)
_written: ContextVar[list[tuple[OutboxMessage, tuple[str, ...]]] | None] = ContextVar(
    "outbox_written", default=None
)


@contextmanager
def remembering_writes() -> Iterator[None]:
    """Inside, ``written_here`` lists the messages written so far. Open it inside one
    transaction (or savepoint) and close it before that ends: what a timer sweep does
    around each handler, so a sender's ``after`` finds the message a firing just wrote
    without reading it back."""
    token = _written.set([])
    try:
        yield
    finally:
        _written.reset(token)


def written_here(incident: models.Model) -> list[OutboxMessage]:
    """The messages for ``incident`` written inside the current ``remembering_writes``,
    oldest first, of those that are surely still there (written in no savepoint that has
    ended since); empty outside one."""
    written = _written.get()
    if not written:
        return []
    open_now = tuple(connections[router.db_for_write(OutboxMessage)].savepoint_ids)
    return [
        message
        for message, savepoints in written
        if message.incident_id == incident.pk and open_now[: len(savepoints)] == savepoints
    ]


def _remember(message: OutboxMessage) -> None:
    written = _written.get()
    if written is not None:
        using = router.db_for_write(OutboxMessage)
        written.append((message, tuple(connections[using].savepoint_ids)))


def _insert_new(message: OutboxMessage) -> bool:
    """Insert the row unless its key is taken; whether it was inserted.

    One statement, ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` (``INSERT OR IGNORE`` on
    SQLite), where ``get_or_create`` takes four (a read, a savepoint, the insert, its
    release): most keys are new, and a timer sweep enqueues several per firing. Built by
    Django's own insert compiler (the ``_insert`` that ``Model.save`` and ``bulk_create``
    use), so every field is prepared as ``save()`` would. A key inserted by a concurrent
    transaction waits for it, as the unique index always did, then reads as taken.

    Inside a timer batch that holds rows (``held_rows``) the row gets its id now and is
    inserted with the batch's others, in one statement; a key found taken then rolls the
    batch back and its timers fire one by one, through this function's own insert."""
    held = holding(OutboxMessage)
    if held is not None:
        held.insert(message, new_by="key")
        return True
    using = router.db_for_write(OutboxMessage)
    meta = OutboxMessage._meta
    rows = OutboxMessage._base_manager._insert(
        [message],
        fields=[f for f in meta.local_concrete_fields if not f.primary_key],
        returning_fields=[meta.pk],
        using=using,
        on_conflict=OnConflict.IGNORE,
    )
    if not rows or rows[0] is None:
        return False
    message.pk = rows[0][0]
    message._state.adding, message._state.db = False, using
    return True
