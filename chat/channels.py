"""Where each incident's channel is, per chat provider.

Slack's channel has always lived on the incident (``slack_channel_id``, ``…_name``,
``slack_summary_ts``: the inbound Slack endpoints find the incident by it), so Slack keeps
those columns and also gets a :class:`~chat.models.IncidentChatChannel` row like every other
provider; the command page reads the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from incidents.events import CommandPagePanels
from incidents.models import Incident
from nexusops.integrations.chat import ChatChannel
from nexusops.integrations.chat.registry import chat_provider_class

from .models import IncidentChatChannel


@dataclass(frozen=True)
class ChannelRef:
    id: str
    summary_id: str


def channel_of(incident: Incident, provider: str) -> ChannelRef | None:
    """The incident's channel at ``provider``, or None before its set-up."""
    if provider == "slack":
        if not incident.slack_channel_id:
            return None
        return ChannelRef(incident.slack_channel_id, incident.slack_summary_ts)
    row = IncidentChatChannel.objects.filter(incident=incident, provider=provider).first()
    return ChannelRef(row.channel_id, row.summary_id) if row else None


def channel_remember(
    *, incident_id: int, provider: str, channel: ChatChannel, summary_id: str
) -> None:
    """Record a set-up's channel: plain UPDATEs, as where a channel lives is no edit of the
    incident (no version bump)."""
    if provider == "slack":
        Incident.objects.filter(pk=incident_id).update(
            slack_channel_id=channel.id,
            slack_channel_name=channel.name,
            slack_summary_ts=summary_id,
        )
    IncidentChatChannel.objects.update_or_create(
        incident_id=incident_id,
        provider=provider,
        defaults={
            "channel_id": channel.id,
            "name": channel.name,
            "url": channel.url,
            "summary_id": summary_id,
        },
    )


def chat_channel_links(question: CommandPagePanels) -> dict | None:
    """The command page's links to the incident's channels, one per provider (handlers.py).

    Slack's channel is on the incident row the page has already read, so a Slack-only
    console (the default) asks the database nothing more here."""
    if not question.internal:
        return None
    from .senders import chat_providers

    incident = question.incident
    links = []
    others = [p for p in chat_providers() if p != "slack"]
    if "slack" in chat_providers() and incident.slack_channel_id:
        url = f"https://slack.com/app_redirect?channel={incident.slack_channel_id}"
        links.append({"label": "Slack", "name": incident.slack_channel_name, "url": url})
    if others:
        rows = IncidentChatChannel.objects.filter(incident=incident, provider__in=others)
        links += [
            {"label": _label(row.provider), "name": row.name, "url": row.url}
            for row in rows.order_by("provider")
        ]
    return {"chat_channels": links} if links else None


def _label(provider: str) -> str:
    try:
        return chat_provider_class(provider).label
    except KeyError:
        return provider
