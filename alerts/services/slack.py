"""Slack lines for alerts, bounded under a storm: at most one post per second per channel.

A line that comes within a second of the last post is folded into a running summary: the
last post is edited (``slack.update``, at most once per second) to say how many more
arrived and show the latest. Both go through the outbox like every vendor call.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from chat.senders import slack_enabled
from nexusops.common import clock
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import outbox_enqueue

from ..models import SlackChannelState

MIN_GAP = dt.timedelta(seconds=1)
FOLD_SHOWN = 10


def alerts_channel() -> str:
    return getattr(settings, "SLACK_ALERTS_CHANNEL", "") or ""


def summary_text(state: SlackChannelState) -> str:
    if not state.folded_total:
        return state.anchor_text
    lines = "\n".join(f"• {line}" for line in state.folded[-FOLD_SHOWN:])
    return (
        f"{state.anchor_text}\n…and {state.folded_total} more since "
        f"(running summary, latest {min(FOLD_SHOWN, len(state.folded))}):\n{lines}"
    )


def slack_alert_post(*, text: str, now: dt.datetime | None = None) -> str:
    """Post ``text`` to the alerts channel, or fold it into the running summary.

    Call inside the processing transaction (it holds the processing lock). Returns
    ``"posted"``, ``"folded"`` or ``"off"`` (no channel or Slack not configured).
    """
    channel = alerts_channel()
    if not channel or not slack_enabled():
        return "off"
    now = now or clock.now()
    state, _ = SlackChannelState.objects.select_for_update().get_or_create(channel=channel)
    if state.last_post_at is None or now - state.last_post_at >= MIN_GAP:
        state.posts += 1
        state.anchor_key = f"alerts:slack:{channel}:{state.posts}"
        state.anchor_text = text
        state.folded, state.folded_total = [], 0
        state.last_post_at = now
        state.save()
        outbox_enqueue(
            target="slack.post", key=state.anchor_key, payload={"channel": channel, "text": text}
        )
        return "posted"
    state.folded = [*state.folded, text][-FOLD_SHOWN:]
    state.folded_total += 1
    state.save(update_fields=["folded", "folded_total"])
    payload = {"channel": channel, "anchor_key": state.anchor_key, "text": summary_text(state)}
    key = f"{state.anchor_key}:summary:{int(now.timestamp())}"
    message = outbox_enqueue(
        target="slack.update", key=key, payload=payload, delay=dt.timedelta(seconds=1)
    ).message
    if message is not None and message.payload != payload:
        # Still waiting out its second: carry the latest summary.
        OutboxMessage.objects.filter(
            pk=message.pk, state__in=[OutboxMessage.State.PENDING, OutboxMessage.State.RETRYING]
        ).update(payload=payload)
    return "folded"
