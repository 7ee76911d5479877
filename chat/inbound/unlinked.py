"""What a Slack event from someone with no linked NexusOps account may do: nothing, by default.

A ``!timeline`` message or a pin reaction writes an internal note as its author. Written for a
Slack user with no console account, it would be a note with no accountable person, so it is
refused with a private reply instead, unless ``SLACK_ALLOW_UNLINKED_NOTES`` says otherwise.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from incidents.models import Incident
from nexusops.engine.outbox import Enqueued, outbox_enqueue

from .senders import SLACK_EPHEMERAL

logger = logging.getLogger(__name__)

LINK_YOUR_ACCOUNT = (
    "Not recorded on the incident timeline: your Slack user is not linked to a NexusOps "
    "account. Link your account (ask a manager to add your Slack id to your NexusOps "
    "profile), then try again."
)


def unlinked_notes_allowed() -> bool:
    return bool(getattr(settings, "SLACK_ALLOW_UNLINKED_NOTES", False))


@transaction.atomic
def unlinked_note_refuse(
    *, incident: Incident, channel_id: str, slack_user_id: str, event_id: str
) -> Enqueued:
    """Tell the Slack user, privately, that nothing was recorded; the key makes Slack's
    retries of one event send one reply."""
    result = outbox_enqueue(
        target=SLACK_EPHEMERAL,
        key=f"slack-events:{event_id}:link-your-account"[:200],
        incident=incident,
        payload={"channel": channel_id, "user": slack_user_id, "text": LINK_YOUR_ACCOUNT},
    )
    if not result.queued:
        logger.info("unlinked Slack note refused, no reply sent: %s", result.off_reason)
    return result
