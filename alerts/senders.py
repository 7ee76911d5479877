"""``slack.update``: edit an alerts-channel post into its running summary (storm bound)."""

from __future__ import annotations

from chat.senders import slack_enabled
from nexusops.common.errors import RetryableError
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import register_sender
from nexusops.integrations.slack.client import SlackClient


class AnchorNotSent(RetryableError):
    """The post being summarised has not reached Slack yet; try again shortly."""


def slack_update(message: OutboxMessage) -> dict:
    anchor = OutboxMessage.objects.filter(key=message.payload["anchor_key"]).first()
    ts = (anchor.result or {}).get("ts") if anchor is not None else None
    if not ts:
        raise AnchorNotSent(f"{message.payload['anchor_key']} is not posted yet", retry_after=1)
    channel = anchor.result.get("channel") or message.payload["channel"]
    SlackClient.default().update_message(channel, ts, message.payload["text"])
    return {"channel": channel, "ts": ts}


def register() -> None:
    register_sender(
        "slack.update", send=slack_update, enabled=slack_enabled, label="Slack summary edit"
    )
