"""What one Teams activity does: at most one action, and the bot's answer, in one transaction.

The action (one service call, :mod:`chat.inbound.actions`) runs in the request: Teams waits
15 seconds for the bot, and a service call takes milliseconds, so no broker stands between a
person's press and the change. The answer is an outbox row (``teams.reply``) written in the
same transaction as the change it reports, with the activity's "done" marker
(``InboundDelivery``): a redelivered activity does nothing and says nothing again, a broker
outage only delays the answer (the relay sends it), and a refusal ("⚠️ …") is said while
the refused change rolls back.

Answers in one conversation go in order: each waits for what the bot was still to say there
before it (an earlier answer, or, in an incident's channel, its summary and mirrored posts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from chat.senders import in_channel_targets
from incidents.models import Incident
from nexusops.common.errors import ApplicationError
from nexusops.engine.models import InboundDelivery, OutboxMessage
from nexusops.engine.outbox import DONE, Enqueued, outbox_enqueue

from .actions import run_action
from .senders import TEAMS_REPLY

SOURCE = "teams"
NOT_LINKED = (
    "No NexusOps account has the e-mail address of your Microsoft account, so nothing was done."
)


@dataclass(frozen=True)
class Thread:
    """Where the bot answers: a channel post's thread, or a personal chat (no thread)."""

    conversation: str
    thread: str = ""


def _said_before(conversation: str, incident: Incident | None) -> OutboxMessage | None:
    """The newest message the bot has yet to say in ``conversation`` (None: nothing waits)."""
    still_open = OutboxMessage.objects.exclude(state__in=[*DONE, OutboxMessage.State.DEAD])
    found = [
        still_open.filter(target=TEAMS_REPLY, payload__conversation=conversation)
        .order_by("-pk")
        .first()
    ]
    if (
        incident is not None
        and incident.chat_channels.filter(provider="teams", channel_id=conversation).exists()
    ):
        found.append(
            still_open.filter(incident=incident, target__in=in_channel_targets("teams"))
            .exclude(payload__has_key="channel")
            .order_by("-pk")
            .first()
        )
    waiting = [m for m in found if m is not None]
    return max(waiting, key=lambda m: m.pk) if waiting else None


def teams_answer(
    *, activity_id: str, where: Thread, text: str, incident: Incident | None
) -> Enqueued:
    """Write the bot's answer to one activity (in the caller's transaction), once per activity."""
    return outbox_enqueue(
        target=TEAMS_REPLY,
        key=f"teams:{activity_id}:answer"[:200],
        incident=incident,
        payload={"conversation": where.conversation, "thread": where.thread, "text": text},
        after=_said_before(where.conversation, incident),
    )


@transaction.atomic
def teams_activity_handle(
    *,
    activity_id: str,
    where: Thread,
    incident: Incident | None = None,
    answer: str = "",
    action: str = "",
    params: dict[str, Any] | None = None,
    actor: AbstractBaseUser | None = None,
) -> bool:
    """Once per activity: run ``action`` as ``actor`` (when given), then answer in the thread
    with the action's result, its refusal, or ``answer``. False when it was done before."""
    event = f"{activity_id}@{where.conversation}"[:200]
    _, first = InboundDelivery.objects.get_or_create(source=SOURCE, event_id=event)
    if not first:
        return False
    text = answer
    if action:
        try:
            with transaction.atomic():  # a refusal undoes the action, not the marker or answer
                text = run_action(action, actor, params or {})
        except ApplicationError as exc:
            text = f"⚠️ {exc.message}"
    if text:
        teams_answer(activity_id=event, where=where, text=text, incident=incident)
    return True
