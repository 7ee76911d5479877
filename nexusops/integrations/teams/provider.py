"""Microsoft Teams as a chat provider (see :mod:`nexusops.integrations.chat`).

How each incident need maps onto Teams:

* channel per incident: a standard channel in ``TEAMS_TEAM_ID`` (Graph);
* pinned summary: Teams lets no bot pin a channel post, so the summary is an Adaptive Card
  that is the channel's first post and is replaced in place (Bot Connector ``PUT``); ``pin``
  has nothing to do;
* topic / header: the channel's description (one field: ``purpose_set`` leaves it to
  ``header_set``, which runs at set-up and on every summary update);
* mirrored updates: one card per line, carrying its outbox key so ``message_find`` (Graph)
  finds a retried post;
* invites: people are added to the team (a standard channel's members are the team's);
  user ids are Entra ID object ids, found by e-mail;
* buttons: ``Action.Submit`` with ``{"action", "incident"}``, answered by the bot endpoint
  (``incidents/inbound/teams.py``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import quote

from nexusops.integrations.chat.provider import (
    USER_NOT_FOUND,
    ChatChannel,
    ChatInvites,
    ChatLine,
    ChatSummary,
)
from nexusops.integrations.errors import VendorRejected

from .cards import SCHEMA, VERSION, text_card, with_key
from .client import TeamsClient, TeamsConfig

logger = logging.getLogger(__name__)
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~])")


def escape_markdown(text: str) -> str:
    """User text inside Teams Markdown: no accidental emphasis, links or HTML."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN.sub(r"\\\1", text)


class TeamsProvider:
    name: ClassVar[str] = "teams"
    label: ClassVar[str] = "Microsoft Teams"
    off_reason: ClassVar[str] = (
        "Microsoft Teams is not configured (TEAMS_TENANT_ID, TEAMS_APP_ID, "
        "TEAMS_APP_PASSWORD, TEAMS_TEAM_ID)"
    )

    def __init__(self, client: TeamsClient) -> None:
        self.client = client

    @classmethod
    def default(cls, **options: Any) -> TeamsProvider:
        return cls(TeamsClient.default(**options))

    @classmethod
    def enabled(cls) -> bool:
        config = TeamsConfig.from_settings()
        return bool(config.tenant_id and config.app_id and config.app_password and config.team_id)

    # --- the channel ----------------------------------------------------------------------
    def channel_name(self, number: str) -> str:
        return "incident-" + number.lower().removeprefix("inc-")

    def channel_create(self, name: str) -> ChatChannel:
        made = self.client.channel_create(name)
        url = made.web_url or self.channel_url(made.id, made.name)
        return ChatChannel(id=made.id, name=made.name, url=url, created=made.created)

    def channel_url(self, channel_id: str, name: str) -> str:
        config = self.client.config
        return (
            f"https://teams.microsoft.com/l/channel/{quote(channel_id, safe='')}/"
            f"{quote(name, safe='')}?groupId={config.team_id}&tenantId={config.tenant_id}"
        )

    def header_set(self, channel_id: str, summary: ChatSummary) -> None:
        header = (
            f"{summary.severity} · {summary.status_label} · IC: {summary.commander or 'unassigned'}"
            f" · {summary.title}"
        )
        self.client.channel_describe(channel_id, f"{header} — {summary.url}"[:1024])

    def purpose_set(self, channel_id: str, summary: ChatSummary) -> None:
        """Nothing: a Teams channel has one description, which ``header_set`` keeps."""

    def invite(self, channel_id: str, user_ids: Iterable[str]) -> ChatInvites:
        result = self.client.members_add(list(user_ids))
        failed = {user: USER_NOT_FOUND for user in result.failed}
        return ChatInvites(invited=result.invited, already=result.already, failed=failed)

    def user_for_email(self, email: str) -> str | None:
        return self.client.user_id(email)

    def archive(self, channel_id: str) -> None:
        self.client.channel_archive(channel_id)

    # --- messages -------------------------------------------------------------------------
    def summary_post(self, channel_id: str, summary: ChatSummary, *, idempotency_key: str) -> str:
        return self.client.post(channel_id, card=with_key(summary_card(summary), idempotency_key))

    def summary_update(self, channel_id: str, message_id: str, summary: ChatSummary) -> None:
        self.client.update(channel_id, message_id, card=summary_card(summary))

    def pin(self, channel_id: str, message_id: str) -> None:
        """Nothing: bots cannot pin in Teams; the summary stays the channel's first post."""

    def post(self, channel_id: str, text: str, *, idempotency_key: str) -> str:
        return self.client.post(channel_id, card=with_key(text_card(text), idempotency_key))

    def message_find(self, channel_id: str, idempotency_key: str) -> str | None:
        """The earlier post with this key; None when Graph may not read channel messages
        (``ChannelMessage.Read.All`` not granted): such a retry may then post twice."""
        try:
            return self.client.message_find(channel_id, idempotency_key)
        except VendorRejected as exc:
            if exc.status != 403:
                raise
            logger.warning("teams: cannot look for post %s: %s", idempotency_key, exc)
            return None

    # --- words ----------------------------------------------------------------------------
    @staticmethod
    def line_text(line: ChatLine) -> str:
        return f"**{escape_markdown(line.actor)}**: {escape_markdown(line.message)}"

    @staticmethod
    def announcement_text(summary: ChatSummary) -> str:
        return (
            f"**{summary.number}** declared ({summary.severity}): "
            f"{escape_markdown(summary.title)} — [open in NexusOps]({summary.url})"
        )


def summary_card(summary: ChatSummary) -> dict[str, Any]:
    """The incident's summary as an Adaptive Card, buttons included."""
    facts = [
        ("Severity", f"{summary.severity} — {summary.severity_definition}"),
        ("Status", summary.status_label),
        ("Commander", summary.commander or "unassigned"),
        ("Services", summary.services or "—"),
    ]
    if summary.flags:
        facts.append(("Flags", ", ".join(summary.flags)))
    actions: list[dict[str, Any]] = []
    for button in summary.buttons:
        if button.action == "open":
            actions.append({"type": "Action.OpenUrl", "title": button.label, "url": button.url})
            continue
        action: dict[str, Any] = {
            "type": "Action.Submit",
            "title": button.label,
            "data": {"action": button.action, "incident": button.value},
        }
        if button.style == "primary":
            action["style"] = "positive"
        actions.append(action)
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": f"{summary.number}: {summary.title}",
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        },
        {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in facts]},
    ]
    if summary.summary:
        body.append({"type": "TextBlock", "text": escape_markdown(summary.summary), "wrap": True})
    return {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body,
            "actions": actions}  # fmt: skip
