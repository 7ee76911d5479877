"""Outbox senders for replies to inbound Slack events (DESIGN.md rule 3)."""

from __future__ import annotations

from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import register_sender
from nexusops.integrations.slack.client import SlackClient

from ..senders import slack_enabled

SLACK_EPHEMERAL = "slack.ephemeral"


def slack_ephemeral(message: OutboxMessage) -> dict:
    # Slack keeps no copy of an ephemeral message, so there is nothing to reconcile: after a
    # crash mid-call the person may see the reply twice, which is harmless.
    payload = message.payload
    SlackClient.default().post_ephemeral(payload["channel"], payload["user"], payload["text"])
    return {"channel": payload["channel"], "user": payload["user"]}


def register() -> None:
    from . import mattermost_reply

    mattermost_reply.register()
    register_sender(
        SLACK_EPHEMERAL, send=slack_ephemeral, enabled=slack_enabled, label="Slack private reply"
    )
