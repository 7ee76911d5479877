"""Mattermost as one chat provider (:class:`~nexusops.integrations.chat.ChatProvider`).

The summary is a post whose buttons are interactive message actions: each sends its
``context`` (the action, the incident number and an HMAC of both under
``MATTERMOST_ACTION_SECRET``) to ``/mattermost/actions/``, which refuses a context it did not
sign. Mattermost renders Markdown, so user text is escaped and ``@all``/``@channel``/``@here``
cannot ping anyone.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from typing import Any, ClassVar

from django.conf import settings

from nexusops.integrations.chat.provider import ChatChannel, ChatInvites, ChatLine, ChatSummary

from .client import MattermostClient

MATTERMOST_OFF = (
    "Mattermost is not configured (MATTERMOST_URL, MATTERMOST_TOKEN, MATTERMOST_TEAM_ID)"
)
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<])")
_BROADCAST = re.compile(r"@(all|channel|here)\b", re.IGNORECASE)
_NOT_IN_NAME = re.compile(r"[^a-z0-9_-]+")
LINE_PREFIX = {
    "update": ":loudspeaker: Stakeholder update",
    "note": ":memo: Note",
    "sla_breached": ":alarm_clock:",
    "status_changed": ":arrows_counterclockwise:",
    "updated": ":pencil2:",
    "assigned": ":bust_in_silhouette:",
}


def escape_markdown(text: str) -> str:
    escaped = _MARKDOWN.sub(r"\\\1", text)
    return _BROADCAST.sub(lambda m: f"@\u200b{m.group(1)}", escaped)


def action_signature(action: str, number: str, secret: str | None = None) -> str:
    """The HMAC a button's context carries; the actions endpoint recomputes it."""
    key = (secret if secret is not None else settings.MATTERMOST_ACTION_SECRET).encode()
    return hmac.new(key, f"{action}:{number}".encode(), hashlib.sha256).hexdigest()


def summary_message(summary: ChatSummary) -> str:
    lines = [
        f"#### {summary.number} · {summary.severity} · {escape_markdown(summary.title)}",
        f"**Status:** {summary.status_label} · **Severity:** {summary.severity} "
        f"({escape_markdown(summary.severity_definition)}) · **Incident commander:** "
        f"{escape_markdown(summary.commander)} · **Services:** {escape_markdown(summary.services)}",
    ]
    if summary.summary:
        lines.append(escape_markdown(summary.summary[:4000]))
    flags = f" · :warning: {' · '.join(summary.flags)}" if summary.flags else ""
    lines.append(f"[Open in NexusOps]({summary.url}){flags}")
    return "\n".join(lines)


def summary_props(summary: ChatSummary) -> dict[str, Any]:
    """Interactive message buttons (the link button is the Markdown link above)."""
    url = settings.SITE_URL.rstrip("/") + "/mattermost/actions/"
    actions = [
        {
            "id": button.action,
            "name": button.label,
            "style": "primary" if button.style == "primary" else "default",
            "integration": {
                "url": url,
                "context": {
                    "action": button.action,
                    "incident": button.value,
                    "signature": action_signature(button.action, button.value),
                },
            },
        }
        for button in summary.buttons
        if button.action != "open"
    ]
    return {"attachments": [{"text": "", "actions": actions}]} if actions else {}


class MattermostProvider:
    """Incident channels in one Mattermost team."""

    name: ClassVar[str] = "mattermost"
    label: ClassVar[str] = "Mattermost"
    off_reason: ClassVar[str] = MATTERMOST_OFF

    def __init__(self, client: MattermostClient) -> None:
        self.client = client

    @classmethod
    def default(cls, **options: Any) -> MattermostProvider:
        return cls(MattermostClient.default(**options))

    @classmethod
    def enabled(cls) -> bool:
        return bool(
            settings.MATTERMOST_URL and settings.MATTERMOST_TOKEN and settings.MATTERMOST_TEAM_ID
        )

    def channel_name(self, number: str) -> str:
        slug = _NOT_IN_NAME.sub("-", number.strip().lower()).strip("-")
        return slug.replace("inc-", "incident-", 1)[:64]

    def channel_create(self, name: str) -> ChatChannel:
        channel = self.client.channel_create(name, name.replace("incident-", "Incident ", 1))
        return ChatChannel(
            channel.id, channel.name, self.channel_url(channel.id, channel.name), channel.created
        )

    def channel_url(self, channel_id: str, name: str) -> str:
        return self.client.channel_url(name)

    def header_set(self, channel_id: str, summary: ChatSummary) -> None:
        header = (
            f"{summary.severity} · {summary.status_label} · IC {escape_markdown(summary.commander)}"
            f" · {escape_markdown(summary.title)}"
        )
        self.client.channel_patch(channel_id, header=header[:1024])

    def purpose_set(self, channel_id: str, summary: ChatSummary) -> None:
        purpose = f"{summary.number}: {summary.title}. Console: {summary.url}"
        self.client.channel_patch(channel_id, purpose=purpose[:250])

    def invite(self, channel_id: str, user_ids: Iterable[str]) -> ChatInvites:
        result = self.client.channel_add(channel_id, user_ids)
        return ChatInvites(result.invited, result.already, dict(result.failed))

    def user_for_email(self, email: str) -> str | None:
        return self.client.user_by_email(email)

    def archive(self, channel_id: str) -> None:
        self.client.channel_archive(channel_id)

    def summary_post(self, channel_id: str, summary: ChatSummary, *, idempotency_key: str) -> str:
        return self.client.post_create(
            channel_id,
            summary_message(summary),
            props=summary_props(summary),
            idempotency_key=idempotency_key,
        )

    def summary_update(self, channel_id: str, message_id: str, summary: ChatSummary) -> None:
        self.client.post_patch(message_id, summary_message(summary), summary_props(summary))

    def pin(self, channel_id: str, message_id: str) -> None:
        self.client.post_pin(message_id)

    def post(self, channel_id: str, text: str, *, idempotency_key: str) -> str:
        return self.client.post_create(channel_id, text, idempotency_key=idempotency_key)

    def message_find(self, channel_id: str, idempotency_key: str) -> str | None:
        return self.client.post_find(channel_id, idempotency_key)

    @staticmethod
    def line_text(line: ChatLine) -> str:
        who = escape_markdown(line.actor) if line.actor else "NexusOps"
        return f"{LINE_PREFIX.get(line.kind, '•')} **{who}**: {escape_markdown(line.message)}"

    @staticmethod
    def announcement_text(summary: ChatSummary) -> str:
        return (
            f":rotating_light: **{summary.number}** declared, {summary.severity}: "
            f"{escape_markdown(summary.title)} · [console]({summary.url})"
        )
