"""The outbox: every outbound vendor call is a row first (DESIGN.md rule 3).

``outbox_enqueue`` writes the row inside the caller's transaction and dispatches a task
after commit. ``outbox_deliver`` claims the row, calls its sender outside any transaction,
and records the outcome: sent, retrying (backoff with jitter, or the vendor's Retry-After),
or dead (shown on the incident with a Retry button). ``outbox_relay`` (beat) re-dispatches
what the broker never got and attempts a worker died in the middle of.

At most once per key: a message is claimed under a row lock before its call; a claim that
outlived its lease means a worker died mid-call, so the next attempt first asks the sender's
``reconcile`` whether the vendor already has it (PagerDuty dedups by ``dedup_key`` itself).

To add a sender::

    outbox.register_sender("slack.post", send=_post, enabled=slack_enabled,
                           reconcile=_find_post, on_sent=_remember_ts)
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q

from nexusops.common import clock
from nexusops.common.errors import ApplicationError, Conflict
from nexusops.common.tasks import RetryableError
from nexusops.integrations.errors import IntegrationError, NotConfigured

from . import events
from .models import OutboxMessage

logger = logging.getLogger(__name__)
State = OutboxMessage.State

Send = Callable[[OutboxMessage], dict]


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
) -> None:
    """``off_reason`` says, for a timeline, why nothing is sent while ``enabled()`` is false."""
    _senders[name] = Sender(
        name,
        send,
        enabled,
        reconcile,
        on_sent,
        queue,
        label or name,
        off_reason or f"{label or name} is not configured",
    )


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
    ceiling = min(600.0, base * 2 ** max(0, attempts - 1))
    # Jitter keeps a burst of failures from retrying in lockstep.
    return dt.timedelta(seconds=random.uniform(0.5, 1.0) * ceiling)


def outbox_enqueue(
    *,
    target: str,
    key: str,
    payload: dict | None = None,
    incident: models.Model | None = None,
    delay: dt.timedelta | None = None,
) -> Enqueued:
    """Write the message in the current transaction; dispatch after commit.

    The result has no message when the target's integration is switched off (with the
    reason), and the existing row when ``key`` was enqueued before (at most once).
    """
    spec = sender(target)
    if not spec.enabled():
        return Enqueued(None, off_reason=spec.off_reason)
    now = clock.now()
    message, created = OutboxMessage.objects.get_or_create(
        key=key,
        defaults={
            "target": target,
            "payload": payload or {},
            "incident": incident,
            "next_attempt_at": now + (delay or dt.timedelta()),
            "created_at": now,
        },
    )
    if created:
        countdown = delay.total_seconds() if delay else None
        transaction.on_commit(lambda: dispatch(message.pk, spec.queue, countdown=countdown))
    return Enqueued(message, created)


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


def _claim(message_id: int) -> tuple[OutboxMessage, bool] | None:
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=message_id).first()
        )
        if message is None or not message.open:
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


@transaction.atomic
def _record(
    message_id: int,
    spec: Sender | None,
    outcome: str,
    result: dict | None,
    error: str,
    retry_after: float | None,
) -> str:
    message = OutboxMessage.objects.select_for_update().get(pk=message_id)
    now = clock.now()
    message.last_error = error[:2000]
    if outcome == State.SENT:
        message.state, message.sent_at, message.result = State.SENT, now, result or {}
        message.save(update_fields=["state", "sent_at", "result", "last_error"])
        if spec is not None and spec.on_sent is not None:
            spec.on_sent(message, message.result)
        return message.state
    if outcome == State.RETRYING and message.attempts < max_attempts():
        delay = backoff(message.attempts, retry_after)
        message.state, message.next_attempt_at = State.RETRYING, now + delay
        message.save(update_fields=["state", "next_attempt_at", "last_error"])
        queue = spec.queue if spec else "notifications"
        transaction.on_commit(lambda: dispatch(message.pk, queue, countdown=delay.total_seconds()))
        return message.state
    message.state = State.DEAD
    message.save(update_fields=["state", "last_error"])
    events.publish(OutboxMessageDied(message=message, label=label(message)))
    return message.state


def label(message: OutboxMessage) -> str:
    spec = _senders.get(message.target)
    return spec.label if spec else message.target


def outbox_relay(*, limit: int = 500) -> int:
    """Re-dispatch due messages the broker may never have received; returns how many."""
    now = clock.now()
    grace = dt.timedelta(seconds=getattr(settings, "OUTBOX_RELAY_GRACE_SECONDS", 5))
    with transaction.atomic():
        due = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(
                # never handed to the broker, or handed over and lost with it
                Q(state__in=[State.PENDING, State.RETRYING], next_attempt_at__lte=now - grace)
                # an attempt whose worker died in the middle of the call
                | Q(state=State.SENDING, claimed_at__lte=now - lease())
            )
            .order_by("next_attempt_at")
            .values_list("pk", "target")[:limit]
        )
    for pk, target in due:
        spec = _senders.get(target)
        dispatch(pk, spec.queue if spec else "notifications")
    return len(due)


@transaction.atomic
def outbox_requeue(*, message_id: int) -> OutboxMessage:
    """Make a dead message due again with a fresh attempt budget (who may: the caller's rule)."""
    message = OutboxMessage.objects.select_for_update().get(pk=message_id)
    if message.state != State.DEAD:
        raise Conflict(
            f"Only a failed delivery can be retried; this one is {message.state}.", code="not_dead"
        )
    message.state, message.attempts, message.next_attempt_at = State.PENDING, 0, clock.now()
    message.save(update_fields=["state", "attempts", "next_attempt_at"])
    spec = _senders.get(message.target)
    transaction.on_commit(lambda: dispatch(message.pk, spec.queue if spec else "notifications"))
    return message
