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

Modules: ``registry`` (senders), ``enqueue`` (writing a message), ``dispatch`` (the broker),
``delivery`` (attempts, the relay, retries) and ``fanout``; import from the package.
"""

from __future__ import annotations

from .delivery import outbox_deliver, outbox_relay, outbox_requeue
from .dispatch import dispatch, dispatch_many, dispatch_together
from .enqueue import Enqueued, outbox_enqueue, remembering_writes, written_here
from .fanout import FANOUT_BATCH, register_fanout
from .registry import (
    DONE,
    After,
    OutboxMessageDied,
    Send,
    Sender,
    State,
    backoff,
    label,
    lease,
    max_attempts,
    register_sender,
    sender,
    senders,
)

__all__ = [
    "DONE",
    "FANOUT_BATCH",
    "After",
    "Enqueued",
    "OutboxMessageDied",
    "Send",
    "Sender",
    "State",
    "backoff",
    "dispatch",
    "dispatch_many",
    "dispatch_together",
    "label",
    "lease",
    "max_attempts",
    "outbox_deliver",
    "outbox_enqueue",
    "outbox_relay",
    "outbox_requeue",
    "register_fanout",
    "register_sender",
    "remembering_writes",
    "sender",
    "senders",
    "written_here",
]
