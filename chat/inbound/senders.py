"""Outbox senders for replies to inbound chat events (DESIGN.md rule 3)."""

from __future__ import annotations

from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import register_sender
from nexusops.integrations.slack.client import SlackClient
from nexusops.integrations.teams.client import TeamsClient
from nexusops.integrations.teams.provider import TeamsProvider

from ..senders import slack_enabled

SLACK_EPHEMERAL = "slack.ephemeral"
TEAMS_REPLY = "teams.reply"


def slack_ephemeral(message: OutboxMessage) -> dict:
    # Slack keeps no copy of an ephemeral message, so there is nothing to reconcile: after a
    # crash mid-call the person may see the reply twice, which is harmless.
    payload = message.payload
    SlackClient.default().post_ephemeral(payload["channel"], payload["user"], payload["text"])
    return {"channel": payload["channel"], "user": payload["user"]}


def teams_reply(message: OutboxMessage) -> dict:
    """The bot's answer to a person, in the thread they wrote in (or their personal chat).

    Teams' 429 becomes ``RateLimited`` with its ``Retry-After``, which the outbox waits out.
    The Bot Connector takes no idempotency key and the bot cannot read a thread's replies
    back, so after a crash mid-call the answer may be said twice (``may_repeat``).
    """
    payload = message.payload
    conversation, thread = payload["conversation"], payload.get("thread", "")
    activity = TeamsClient.default().post(conversation, text=payload["text"], reply_to=thread)
    return {"conversation": conversation, "thread": thread, "id": activity}


def register() -> None:
    from . import mattermost_reply

    mattermost_reply.register()
    register_sender(
        SLACK_EPHEMERAL, send=slack_ephemeral, enabled=slack_enabled, label="Slack private reply"
    )
    register_sender(
        TEAMS_REPLY,
        send=teams_reply,
        enabled=TeamsProvider.enabled,
        off_reason=TeamsProvider.off_reason,
        label="Microsoft Teams bot answer",
        may_repeat=True,
        chat="teams",
    )
