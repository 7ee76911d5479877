"""Who the outbox can send to: the senders, their settings, and what a message waiting for
another is told."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import models

from nexusops.common.errors import ApplicationError

from .. import events
from ..models import OutboxMessage

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
    # The chat this sender belongs to ("teams", "mattermost"), or "" for none. A chat's
    # senders are listed as off only when NEXUSOPS_CHAT chose that chat: one nobody chose is
    # not "off", it is not used.
    chat: str = ""


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
    chat: str = "",
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
        chat,
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


def blocks_dependants(target: str) -> bool:
    spec = _senders.get(target)
    return spec is not None and spec.blocks


def queue_for(target: str) -> str:
    spec = _senders.get(target)
    return spec.queue if spec else "notifications"


def blocked_reason(prerequisite: OutboxMessage) -> str:
    return f"Blocked: {label(prerequisite)} failed; retrying it sends this too."


def label(message: OutboxMessage) -> str:
    spec = _senders.get(message.target)
    return spec.label if spec else message.target
