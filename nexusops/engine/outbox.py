"""The outbox: every outbound vendor call is a row first (DESIGN.md rule 3).

``outbox_enqueue`` writes the row inside the caller's transaction and dispatches a task
after commit. ``outbox_deliver`` claims the row, calls its sender outside any transaction,
and records the outcome: sent, retrying (backoff with jitter, or the vendor's Retry-After),
or dead (shown on the incident with a Retry button). ``outbox_relay`` (beat) re-dispatches
what the broker never got and attempts a worker died in the middle of.

At most once per key: a message is claimed under a row lock before its call; a claim that
outlived its lease means a worker died mid-call, so the next attempt first asks the sender's
``reconcile`` whether the vendor already has it (PagerDuty dedups by ``dedup_key`` itself).
A sender with neither (an e-mail, a PagerDuty REST note) is registered ``may_repeat=True``:
after a crash mid-call its message may be delivered twice.

Dependencies: a message may wait for another (``depends_on``, state ``waiting``): a post in
an incident's channel waits for the channel's set-up and for the post before it (the
sender's ``after``). Waiting costs no attempt; when the prerequisite is sent its dependants
are dispatched, in order. If it dies, a ``blocks=True`` prerequisite keeps them waiting
(their ``last_error`` says why) until a person retries it; any other releases them.

Fan-out: one row (``register_fanout``) whose delivery, in a worker, writes the per-recipient
rows by key (idempotent) and dispatches them, so a request never writes or publishes N.

Broker: a transaction's dispatches share one attempt budget; after the first broker failure
the rest are left to the relay, so a request never waits on the broker more than once.

To add a sender::

    outbox.register_sender("slack.post", send=_post, enabled=slack_enabled,
                           reconcile=_find_post, on_sent=_remember_ts)
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models, router, transaction
from django.db.models import Q
from django.db.models.constants import OnConflict

from nexusops.common import clock, logs
from nexusops.common.errors import ApplicationError, Conflict, RetryableError
from nexusops.integrations.errors import IntegrationError, NotConfigured

from . import events
from .models import OutboxMessage

logger = logging.getLogger(__name__)
State = OutboxMessage.State

Send = Callable[[OutboxMessage], dict]
# Given the subject (an incident) and payload of a new message, the message it must wait
# for (or None).
After = Callable[[models.Model, dict], "OutboxMessage | None"]
# States after which a dependant may go.
DONE = (State.SENT, State.SKIPPED)


@dataclass(frozen=True)
class Sender:
    name: str
    send: Send
    enabled: Callable[[], bool]
    reconcile: Callable[[OutboxMessage], dict | None] | None = None
    on_sent: Callable[[OutboxMessage, dict], None] | None = None
    queue: str = "notifications"
    label: str = ""
    off_reason: str = ""
    after: After | None = None
    # Dependants of a dead message of this sender wait for its retry (a channel set-up).
    blocks: bool = False
    # Neither an idempotency key the vendor honours nor a ``reconcile``: a worker that dies
    # between the call and recording it makes the next attempt send it again.
    may_repeat: bool = False


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


_senders: dict[str, Sender] = {}


@dataclass(frozen=True)
class OutboxMessageDied(events.Event):
    """A message gave up (attempts spent, or the vendor refused it); ``message.last_error``
    says why. The app that owns the message's subject records it where people look."""

    message: OutboxMessage
    label: str


def register_sender(
    name: str,
    *,
    send: Send,
    enabled: Callable[[], bool],
    reconcile: Callable[[OutboxMessage], dict | None] | None = None,
    on_sent: Callable[[OutboxMessage, dict], None] | None = None,
    queue: str = "notifications",
    label: str = "",
    off_reason: str = "",
    after: After | None = None,
    blocks: bool = False,
    may_repeat: bool = False,
) -> None:
    """``off_reason`` says, for a timeline, why nothing is sent while ``enabled()`` is false.

    ``after`` finds the message a new one must wait for; ``blocks`` keeps dependants of a dead
    message waiting for its retry; ``may_repeat`` declares a sender that can neither dedup
    nor reconcile (see the module docstring).
    """
    _senders[name] = Sender(
        name,
        send,
        enabled,
        reconcile,
        on_sent,
        queue,
        label or name,
        off_reason or f"{label or name} is not configured",
        after,
        blocks,
        may_repeat,
    )


def senders() -> list[Sender]:
    """Every registered sender, by label (the command page lists those switched off)."""
    return sorted(_senders.values(), key=lambda s: s.label)


def sender(name: str) -> Sender:
    try:
        return _senders[name]
    except KeyError:
        raise ApplicationError(f"No sender {name!r} is registered.") from None


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "OUTBOX_LEASE_SECONDS", 120))


def max_attempts() -> int:
    return getattr(settings, "OUTBOX_MAX_ATTEMPTS", 10)


def backoff(attempts: int, retry_after: float | None = None) -> dt.timedelta:
    if retry_after is not None:
        return dt.timedelta(seconds=max(0.0, float(retry_after)))
    base = getattr(settings, "OUTBOX_BACKOFF_BASE_SECONDS", 2.0)
    longest = getattr(settings, "OUTBOX_BACKOFF_MAX_SECONDS", 600.0)
    ceiling = min(longest, base * 2 ** max(0, attempts - 1))
    # Jitter keeps a burst of failures from retrying in lockstep.
    return dt.timedelta(seconds=random.uniform(0.5, 1.0) * ceiling)


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
        or (prerequisite.state == State.DEAD and not _blocks(prerequisite.target))
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
        last_error=_blocked_reason(prerequisite)
        if prerequisite is not None and prerequisite.state == State.DEAD
        else "",
        next_attempt_at=now + (delay or dt.timedelta()),
        created_at=now,
    )
    created = _insert_new(message)
    if not created:
        message = OutboxMessage.objects.get(key=key)
    if created and prerequisite is None:
        _dispatch_on_commit(message.pk, spec.queue, delay.total_seconds() if delay else None)
    return Enqueued(message, created)


def _insert_new(message: OutboxMessage) -> bool:
    """Insert the row unless its key is taken; whether it was inserted.

    One statement, ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` (``INSERT OR IGNORE`` on
    SQLite), where ``get_or_create`` takes four (a read, a savepoint, the insert, its
    release): most keys are new, and a timer sweep enqueues several per firing. Built by
    Django's own insert compiler (the ``_insert`` that ``Model.save`` and ``bulk_create``
    use), so every field is prepared as ``save()`` would. A key inserted by a concurrent
    transaction waits for it, as the unique index always did, then reads as taken."""
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


# ---- dispatch ---------------------------------------------------------------------------
@dataclass
class _Batch:
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


def _current_batch() -> _Batch:
    # A batch collects the hooks of the transaction being written. Once it starts flushing
    # (after commit), anything enqueued belongs to a later transaction: a new batch. A
    # rolled-back transaction never flushed, so its (empty-handed) batch is simply reused.
    batch = getattr(_local, "batch", None)
    if batch is None or batch.flushing:
        batch = _local.batch = _Batch()
    return batch


def _dispatch_on_commit(message_id: int, queue: str, countdown: float | None = None) -> None:
    batch = _current_batch()
    # One hook per message, not one per batch: Django drops the hooks of a rolled-back
    # savepoint, so each message's dispatch lives and dies with its own row.
    transaction.on_commit(lambda: batch.send(message_id, queue, countdown))


def dispatch_many(items: Iterable[tuple[int, str, float | None]]) -> int:
    """Dispatch several messages now (outside a transaction); stops at the first broker
    failure and leaves the rest to the relay. Returns how many the broker took."""
    batch, taken = _Batch(flushing=True), 0
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

    from .tasks import outbox_deliver_task

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


def _blocks(target: str) -> bool:
    spec = _senders.get(target)
    return spec is not None and spec.blocks


def _queue(target: str) -> str:
    spec = _senders.get(target)
    return spec.queue if spec else "notifications"


# ---- delivery ---------------------------------------------------------------------------
def _claim(message_id: int) -> tuple[OutboxMessage, bool] | None:
    with transaction.atomic():
        # NO KEY UPDATE: a transaction inserting a dependant (a KEY SHARE on this row, through
        # its foreign key) must not wait for a delivery in progress.
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True, no_key=True)
            .filter(pk=message_id)
            .first()
        )
        if message is None or not message.open or message.state == State.WAITING:
            return None
        now = clock.now()
        if message.state == State.RETRYING and message.next_attempt_at > now:
            return None  # early: its own countdown or the relay will come back
        if (
            message.state == State.SENDING
            and message.claimed_at
            and now - message.claimed_at < lease()
        ):
            return None  # another worker is in the middle of it
        uncertain = message.state == State.SENDING
        message.state = State.SENDING
        message.claimed_at = now
        message.attempts += 1
        message.save(update_fields=["state", "claimed_at", "attempts"])
        return message, uncertain


def outbox_deliver(*, message_id: int) -> str:
    """Attempt one delivery; returns the message's state afterwards (or why it was skipped)."""
    claimed = _claim(message_id)
    if claimed is None:
        return "skipped"
    message, uncertain = claimed
    _name_incident_in_logs(message)
    spec = _senders.get(message.target)
    result: dict | None = None
    outcome, error, retry_after = State.SENT, "", None
    try:
        if spec is None:
            raise NotConfigured(f"no sender registered for {message.target}")
        if uncertain and spec.reconcile is not None:
            result = spec.reconcile(message)
        if result is None:
            result = spec.send(message) or {}
    except NotConfigured as exc:
        outcome, error = State.DEAD, f"not configured: {exc}"
    except RetryableError as exc:
        outcome, error = State.RETRYING, f"{type(exc).__name__}: {exc}"
        retry_after = getattr(exc, "retry_after", None)
    except (IntegrationError, ApplicationError) as exc:
        outcome, error = State.DEAD, f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001 - unknown failures are retried, then die loudly
        logger.exception("outbox %s: unexpected error from %s", message.pk, message.target)
        outcome, error = State.RETRYING, f"{type(exc).__name__}: {exc}"
    return _record(message.pk, spec, outcome, result, error, retry_after)


def _name_incident_in_logs(message: OutboxMessage) -> None:
    """A delivery the relay re-sent carries no log context from the request that caused it:
    look its incident's number up (one primary-key read) so its log lines still name it."""
    if message.incident_id is None or logs.current().get("incident"):
        return
    subject = OutboxMessage._meta.get_field("incident").related_model
    number = subject.objects.filter(pk=message.incident_id).values_list("number", flat=True)
    logs.bind(incident=number.first())


@transaction.atomic
def _record(
    message_id: int,
    spec: Sender | None,
    outcome: str,
    result: dict | None,
    error: str,
    retry_after: float | None,
) -> str:
    message = OutboxMessage.objects.select_for_update(no_key=True).get(pk=message_id)
    now = clock.now()
    message.last_error = error[:2000]
    if outcome == State.SENT:
        message.state, message.sent_at, message.result = State.SENT, now, result or {}
        message.save(update_fields=["state", "sent_at", "result", "last_error"])
        if spec is not None and spec.on_sent is not None:
            spec.on_sent(message, message.result)
        _release(message, now)
        return message.state
    if outcome == State.RETRYING and message.attempts < max_attempts():
        delay = backoff(message.attempts, retry_after)
        message.state, message.next_attempt_at = State.RETRYING, now + delay
        message.save(update_fields=["state", "next_attempt_at", "last_error"])
        _dispatch_on_commit(message.pk, _queue(message.target), delay.total_seconds())
        return message.state
    message.state = State.DEAD
    message.save(update_fields=["state", "last_error"])
    if spec is not None and spec.blocks:
        message.dependants.filter(state=State.WAITING).update(last_error=_blocked_reason(message))
    else:
        # Only the order depended on it: what came after it goes on without it.
        _release(message, now)
    events.publish(OutboxMessageDied(message=message, label=label(message)))
    return message.state


def _release(prerequisite: OutboxMessage, now: dt.datetime) -> int:
    """Dispatch, in order, what waited for ``prerequisite`` (after this commit)."""
    waiting = list(
        prerequisite.dependants.select_for_update(no_key=True)
        .filter(state=State.WAITING)
        .order_by("pk")
    )
    for dependant in waiting:
        dependant.state, dependant.last_error = State.PENDING, ""
        dependant.save(update_fields=["state", "last_error"])
        countdown = (dependant.next_attempt_at - now).total_seconds()
        _dispatch_on_commit(
            dependant.pk, _queue(dependant.target), countdown if countdown > 0 else None
        )
    return len(waiting)


def _blocked_reason(prerequisite: OutboxMessage) -> str:
    return f"Blocked: {label(prerequisite)} failed; retrying it sends this too."


def label(message: OutboxMessage) -> str:
    spec = _senders.get(message.target)
    return spec.label if spec else message.target


def _releasable() -> Q:
    """Waiting messages whose prerequisite is gone, sent, or dead without blocking: a
    dependant enqueued while its prerequisite was being recorded as sent lands here."""
    blocking = [s.name for s in _senders.values() if s.blocks]
    return Q(state=State.WAITING) & (
        Q(depends_on__isnull=True)
        | Q(depends_on__state__in=DONE)
        | (Q(depends_on__state=State.DEAD) & ~Q(depends_on__target__in=blocking))
    )


def outbox_relay(*, limit: int = 500) -> int:
    """Re-dispatch due messages the broker may never have received; returns how many."""
    now = clock.now()
    grace = dt.timedelta(seconds=getattr(settings, "OUTBOX_RELAY_GRACE_SECONDS", 5))
    with transaction.atomic():
        OutboxMessage.objects.filter(
            pk__in=OutboxMessage.objects.filter(_releasable()).values("pk")[:limit]
        ).update(state=State.PENDING, last_error="")
        due = list(
            OutboxMessage.objects.select_for_update(skip_locked=True, no_key=True)
            .filter(
                # never handed to the broker, or handed over and lost with it
                Q(state__in=[State.PENDING, State.RETRYING], next_attempt_at__lte=now - grace)
                # an attempt whose worker died in the middle of the call
                | Q(state=State.SENDING, claimed_at__lte=now - lease())
            )
            .order_by("next_attempt_at", "pk")
            .values_list("pk", "target")[:limit]
        )
    dispatch_many((pk, _queue(target), None) for pk, target in due)
    return len(due)


@transaction.atomic
def outbox_requeue(*, message_id: int) -> OutboxMessage:
    """Make a dead message due again with a fresh attempt budget (who may: the caller's rule);
    what waits for it goes once it is sent."""
    message = OutboxMessage.objects.select_for_update(no_key=True).get(pk=message_id)
    if message.state != State.DEAD:
        raise Conflict(
            f"Only a failed delivery can be retried; this one is {message.state}.", code="not_dead"
        )
    message.state, message.attempts, message.next_attempt_at = State.PENDING, 0, clock.now()
    message.save(update_fields=["state", "attempts", "next_attempt_at"])
    message.dependants.filter(state=State.WAITING).update(
        last_error=f"Waiting for {label(message)}, which is being retried."
    )
    _dispatch_on_commit(message.pk, _queue(message.target))
    return message


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
    broker = _Batch(flushing=True)

    def flush() -> None:
        OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True, batch_size=FANOUT_BATCH)
        # Dispatch what is still untouched: on a re-run that includes rows the first run
        # dispatched; a message claimed twice is still sent once.
        fresh = OutboxMessage.objects.filter(
            key__in=[r.key for r in rows], state=State.PENDING, attempts=0
        ).values_list("pk", flat=True)
        for pk in fresh:
            broker.send(pk, _queue(target), None)
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
