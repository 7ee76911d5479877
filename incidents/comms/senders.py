"""Senders: deliver one outbox row through an adapter (DESIGN.md rules 3 and 5).

Each is safe to run again after a failure part-way: Slack's ``name_taken``, ``already_pinned``
and ``already_in_channel`` mean "done", posts carry their outbox key as metadata so a retry
finds the earlier post, and PagerDuty deduplicates on the incident number.
"""

from __future__ import annotations

from django.conf import settings

from nexusops.common.tasks import RetryableError
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import register_sender
from nexusops.integrations.pagerduty.client import PagerDutyClient
from nexusops.integrations.slack.client import SlackClient
from nexusops.integrations.slack.messages import incident_channel_name

from ..models import Incident
from . import render


def slack_enabled() -> bool:
    return bool(settings.SLACK_API_URL and settings.SLACK_BOT_TOKEN)


def pagerduty_events_enabled() -> bool:
    return bool(settings.PAGERDUTY_EVENTS_URL and settings.PAGERDUTY_ROUTING_KEY)


def pagerduty_rest_enabled() -> bool:
    return bool(
        settings.PAGERDUTY_API_URL
        and settings.PAGERDUTY_API_TOKEN
        and settings.PAGERDUTY_FROM_EMAIL
    )


def _incident(message: OutboxMessage) -> Incident:
    return (
        Incident.objects.select_related("severity", "commander__profile")
        .prefetch_related("services", "responders__profile")
        .get(pk=message.incident_id)
    )


def _slack_user_ids(incident: Incident) -> list[str]:
    people = [incident.commander, *incident.responders.all()]
    ids = []
    for person in people:
        profile = getattr(person, "profile", None) if person else None
        if profile and profile.slack_user_id:
            ids.append(profile.slack_user_id)
    return list(dict.fromkeys(ids))


class ChannelNotReady(RetryableError):
    """The incident's Slack channel is still being set up; try again shortly."""


def _channel(incident: Incident) -> str:
    if not incident.slack_channel_id:
        raise ChannelNotReady(f"{incident.number} has no Slack channel yet", retry_after=2)
    return incident.slack_channel_id


# --- Slack ------------------------------------------------------------------------------------
def slack_channel_setup(message: OutboxMessage) -> dict:
    incident = _incident(message)
    client = SlackClient.default()
    channel = client.channel_create(incident_channel_name(incident.number))
    # The summary first: it is what responders joining the channel need to see.
    text, blocks = render.slack_summary(incident)
    ts = client.message_find(channel.id, message.key) if message.attempts > 1 else None
    if ts is None:
        ts = client.post_message(channel.id, text, blocks, idempotency_key=message.key)
    client.pin(channel.id, ts)
    client.set_topic(channel.id, render.slack_topic(incident))
    client.set_purpose(channel.id, render.slack_purpose(incident))
    users = _slack_user_ids(incident)
    if users:
        client.invite(channel.id, users)
    return {
        "channel_id": channel.id,
        "channel_name": channel.name,
        "summary_ts": ts,
        "invited": users,
    }


def _remember_channel(message: OutboxMessage, result: dict) -> None:
    # A plain UPDATE: where the channel lives is not an edit of the incident (no version bump).
    Incident.objects.filter(pk=message.incident_id).update(
        slack_channel_id=result["channel_id"],
        slack_channel_name=result["channel_name"],
        slack_summary_ts=result["summary_ts"],
    )
    from ..services.checklist import checklist_tick

    checklist_tick(Incident.objects.get(pk=message.incident_id), "create_channel")


def slack_summary_update(message: OutboxMessage) -> dict:
    incident = _incident(message)
    channel = _channel(incident)
    client = SlackClient.default()
    text, blocks = render.slack_summary(incident)
    client.update_message(channel, incident.slack_summary_ts, text, blocks)
    client.set_topic(channel, render.slack_topic(incident))
    return {"ts": incident.slack_summary_ts}


def slack_post(message: OutboxMessage) -> dict:
    """Post ``payload["text"]`` to ``payload["channel"]``, or to the incident's channel."""
    channel = message.payload.get("channel") or _channel(_incident(message))
    ts = SlackClient.default().post_message(
        channel, message.payload["text"], idempotency_key=message.key
    )
    return {"channel": channel, "ts": ts}


def slack_post_find(message: OutboxMessage) -> dict | None:
    channel = message.payload.get("channel") or _channel(_incident(message))
    ts = SlackClient.default().message_find(channel, message.key)
    return {"channel": channel, "ts": ts, "reconciled": True} if ts else None


def slack_invite(message: OutboxMessage) -> dict:
    incident = _incident(message)
    users = message.payload.get("users") or _slack_user_ids(incident)
    if users:
        SlackClient.default().invite(_channel(incident), users)
    return {"invited": users}


def slack_archive(message: OutboxMessage) -> dict:
    incident = _incident(message)
    if incident.status != "closed":
        return {"skipped": f"{incident.number} is {incident.status}, not archived"}
    SlackClient.default().archive(_channel(incident))
    return {"archived": incident.slack_channel_id}


# --- PagerDuty --------------------------------------------------------------------------------
def pagerduty_trigger(message: OutboxMessage) -> dict:
    payload = render.pagerduty_trigger(_incident(message))
    key = PagerDutyClient.default().trigger(**payload)
    return {"dedup_key": key}


def pagerduty_acknowledge(message: OutboxMessage) -> dict:
    return {"dedup_key": PagerDutyClient.default().acknowledge(message.payload["dedup_key"])}


def pagerduty_resolve(message: OutboxMessage) -> dict:
    return {"dedup_key": PagerDutyClient.default().resolve(message.payload["dedup_key"])}


def pagerduty_note(message: OutboxMessage) -> dict:
    note = PagerDutyClient.default().note_add(message.payload["dedup_key"], message.payload["text"])
    return {"note_id": note.get("id", "")}


def register() -> None:
    register_sender(
        "slack.channel_setup",
        send=slack_channel_setup,
        enabled=slack_enabled,
        on_sent=_remember_channel,
        label="Slack channel set-up",
    )
    register_sender(
        "slack.summary_update",
        send=slack_summary_update,
        enabled=slack_enabled,
        label="Slack pinned summary",
    )
    register_sender(
        "slack.post",
        send=slack_post,
        reconcile=slack_post_find,
        enabled=slack_enabled,
        label="Slack message",
    )
    register_sender(
        "slack.invite", send=slack_invite, enabled=slack_enabled, label="Slack invitation"
    )
    register_sender(
        "slack.archive", send=slack_archive, enabled=slack_enabled, label="Slack channel archive"
    )
    register_sender(
        "pagerduty.trigger",
        send=pagerduty_trigger,
        enabled=pagerduty_events_enabled,
        label="PagerDuty page",
    )
    register_sender(
        "pagerduty.acknowledge",
        send=pagerduty_acknowledge,
        enabled=pagerduty_events_enabled,
        label="PagerDuty acknowledge",
    )
    register_sender(
        "pagerduty.resolve",
        send=pagerduty_resolve,
        enabled=pagerduty_events_enabled,
        label="PagerDuty resolve",
    )
    register_sender(
        "pagerduty.note",
        send=pagerduty_note,
        enabled=pagerduty_rest_enabled,
        label="PagerDuty note",
    )
