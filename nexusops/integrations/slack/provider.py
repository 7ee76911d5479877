"""Slack as one chat provider (:class:`~nexusops.integrations.chat.ChatProvider`).

It speaks through :class:`~.client.SlackClient` (the only place ``slack_sdk`` is imported) and
formats the neutral summary and lines as Block Kit and ``mrkdwn``, escaping user text. The
channel set-up and its people (Slack ids on profiles, found by e-mail) are driven by the
``chat`` app.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from django.conf import settings

from nexusops.integrations.chat.provider import ChatChannel, ChatInvites, ChatLine, ChatSummary

from .client import SlackClient
from .messages import context, escape_mrkdwn, fields, header, incident_channel_name, section

SLACK_OFF = "Slack is not configured (SLACK_API_URL, SLACK_BOT_TOKEN)"
STATUS_EMOJI = {
    "triggered": ":rotating_light:",
    "acknowledged": ":eyes:",
    "investigating": ":mag:",
    "mitigated": ":adhesive_bandage:",
    "resolved": ":white_check_mark:",
    "monitoring": ":chart_with_upwards_trend:",
    "closed": ":lock:",
}
# The button's action_id, read back by the interactivity endpoint.
ACTION_IDS = {"acknowledge": "incident_ack", "resolve": "incident_resolve", "open": "incident_open"}
LINE_PREFIX = {
    "update": ":loudspeaker: Stakeholder update",
    "note": ":memo: Note",
    "sla_breached": ":alarm_clock:",
    "status_changed": ":arrows_counterclockwise:",
    "updated": ":pencil2:",
    "assigned": ":bust_in_silhouette:",
}


# --- words (no I/O) ---------------------------------------------------------------------------
def summary_text(summary: ChatSummary) -> str:
    """The notification (fallback) text of the summary message."""
    return (
        f"{summary.number} [{summary.severity}] {summary.status_label}: "
        f"{escape_mrkdwn(summary.title)}"
    )


def summary_blocks(summary: ChatSummary) -> list[dict[str, Any]]:
    blocks = [
        header(f"{summary.number} · {summary.severity} · {summary.title}"),
        fields(
            [
                ("Status", summary.status_label),
                ("Severity", f"{summary.severity} ({summary.severity_definition})"),
                ("Incident commander", summary.commander),
                ("Services", summary.services),
            ]
        ),
    ]
    if summary.summary:
        blocks.append(section(escape_mrkdwn(summary.summary[:2900])))
    flags = f" · :warning: {' · '.join(summary.flags)}" if summary.flags else ""
    blocks.append(
        context(f"{STATUS_EMOJI.get(summary.status, '')} <{summary.url}|Open in NexusOps>" + flags)
    )
    blocks.append(summary_actions(summary))
    return blocks


def summary_actions(summary: ChatSummary) -> dict[str, Any]:
    """Acknowledge / Resolve / Open in console, handled at /slack/interactivity/."""
    elements = []
    for button in summary.buttons:
        element: dict[str, Any] = {
            "type": "button",
            "text": {"type": "plain_text", "text": button.label},
            "action_id": ACTION_IDS[button.action],
            "value": button.value,
        }
        if button.style:
            element["style"] = button.style
        if button.url:
            element["url"] = button.url
        elements.append(element)
    return {"type": "actions", "block_id": f"incident-{summary.number}", "elements": elements}


def topic_text(summary: ChatSummary) -> str:
    text = f"{summary.severity} · {summary.status_label} · IC {summary.commander} · {summary.title}"
    return escape_mrkdwn(text)[:250]


def purpose_text(summary: ChatSummary) -> str:
    return escape_mrkdwn(f"{summary.number}: {summary.title}. Console: {summary.url}")[:250]


class SlackProvider:
    """Incident channels in one Slack workspace."""

    name: ClassVar[str] = "slack"
    label: ClassVar[str] = "Slack"
    off_reason: ClassVar[str] = SLACK_OFF

    def __init__(self, client: SlackClient) -> None:
        self.client = client

    @classmethod
    def default(cls, **options: Any) -> SlackProvider:
        return cls(SlackClient.default(**options))

    @classmethod
    def enabled(cls) -> bool:
        return bool(settings.SLACK_API_URL and settings.SLACK_BOT_TOKEN)

    # --- the channel ---------------------------------------------------------------------------
    def channel_name(self, number: str) -> str:
        return incident_channel_name(number)

    def channel_create(self, name: str) -> ChatChannel:
        channel = self.client.channel_create(name)
        return ChatChannel(
            id=channel.id,
            name=channel.name,
            url=self.channel_url(channel.id, channel.name),
            created=channel.created,
        )

    def channel_url(self, channel_id: str, name: str) -> str:
        # Slack's redirect opens the channel in whichever workspace the reader is signed in to.
        return f"https://slack.com/app_redirect?channel={channel_id}"

    def header_set(self, channel_id: str, summary: ChatSummary) -> None:
        self.client.set_topic(channel_id, topic_text(summary))

    def purpose_set(self, channel_id: str, summary: ChatSummary) -> None:
        self.client.set_purpose(channel_id, purpose_text(summary))

    def invite(self, channel_id: str, user_ids: Iterable[str]) -> ChatInvites:
        outcome = self.client.invite(channel_id, list(user_ids))
        return ChatInvites(
            invited=outcome.invited, already=outcome.already, failed=dict(outcome.failed)
        )

    def user_for_email(self, email: str) -> str | None:
        return self.client.user_lookup_by_email(email)

    def archive(self, channel_id: str) -> None:
        self.client.archive(channel_id)

    # --- messages ------------------------------------------------------------------------------
    def summary_post(self, channel_id: str, summary: ChatSummary, *, idempotency_key: str) -> str:
        return self.client.post_message(
            channel_id,
            summary_text(summary),
            summary_blocks(summary),
            idempotency_key=idempotency_key,
        )

    def summary_update(self, channel_id: str, message_id: str, summary: ChatSummary) -> None:
        self.client.update_message(
            channel_id, message_id, summary_text(summary), summary_blocks(summary)
        )

    def pin(self, channel_id: str, message_id: str) -> None:
        self.client.pin(channel_id, message_id)

    def post(self, channel_id: str, text: str, *, idempotency_key: str) -> str:
        return self.client.post_message(channel_id, text, idempotency_key=idempotency_key)

    def message_find(self, channel_id: str, idempotency_key: str) -> str | None:
        return self.client.message_find(channel_id, idempotency_key)

    # --- words ---------------------------------------------------------------------------------
    @staticmethod
    def line_text(line: ChatLine) -> str:
        who = escape_mrkdwn(line.actor) if line.actor else "NexusOps"
        prefix = LINE_PREFIX.get(line.kind, "•")
        return f"{prefix} *{who}*: {escape_mrkdwn(line.message)}"

    @staticmethod
    def announcement_text(summary: ChatSummary) -> str:
        return (
            f":rotating_light: *{summary.number}* declared, {summary.severity}: "
            f"{escape_mrkdwn(summary.title)} · services: {escape_mrkdwn(summary.services)} · "
            f"<{summary.url}|console>"
        )
