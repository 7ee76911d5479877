"""Delivering a message (claim, call its sender outside any transaction, record the outcome),
releasing what waited for it, the relay, and a person's retry."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from nexusops.common import clock, logs
from nexusops.common.errors import ApplicationError, Conflict, RetryableError
from nexusops.integrations.errors import IntegrationError, NotConfigured

from .. import events
from ..models import OutboxMessage
from .dispatch import dispatch_many, dispatch_on_commit
from .registry import (
    DONE,
    OutboxMessageDied,
    Sender,
    State,
    _senders,
    backoff,
    blocked_reason,
    label,
    lease,
    max_attempts,
    queue_for,
)

logger = logging.getLogger("nexusops.engine.outbox")


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
        dispatch_on_commit(message.pk, queue_for(message.target), delay.total_seconds())
        return message.state
    message.state = State.DEAD
    message.save(update_fields=["state", "last_error"])
    if spec is not None and spec.blocks:
        message.dependants.filter(state=State.WAITING).update(last_error=blocked_reason(message))
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
        dispatch_on_commit(
            dependant.pk, queue_for(dependant.target), countdown if countdown > 0 else None
        )
    return len(waiting)


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
    dispatch_many((pk, queue_for(target), None) for pk, target in due)
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
    dispatch_on_commit(message.pk, queue_for(message.target))
    return message
