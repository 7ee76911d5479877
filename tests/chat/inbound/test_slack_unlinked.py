"""Issue 14, item 8: a `!timeline` message or pin reaction from a Slack user with no linked
NexusOps account writes nothing; the person gets a private "link your account" reply, sent
through the outbox with chat.postEphemeral to the Slack stand-in."""

from __future__ import annotations

import json

import pytest

from incidents.models import Incident, TimelineEvent
from nexusops.engine.models import InboundDelivery, OutboxMessage
from nexusops.engine.outbox import outbox_deliver
from nexusops.integrations.slack.client import SlackClient
from tests.support.standin_fixtures import SLACK_TOKEN

from .conftest import slack_headers

pytestmark = pytest.mark.django_db
URL = "/slack/events/"


@pytest.fixture
def channel_incident(live_incident, slack, settings):
    """The incident's channel exists in the Slack stand-in, and outbound Slack is on."""
    settings.SLACK_BOT_TOKEN = SLACK_TOKEN  # the inbound fixtures switch it off
    # A real Slack member of the incident channel, with no NexusOps account linked.
    slack.command("users", {"users": [{"id": "U0STRANGER", "name": "stranger"}]})
    client = SlackClient.default()
    channel = client.channel_create("incident-unlinked").id
    client.invite(channel, ["U0STRANGER"])
    Incident.objects.filter(pk=live_incident.pk).update(slack_channel_id=channel)
    live_incident.refresh_from_db()
    return live_incident


def deliver(post, event: dict, event_id: str = "Ev0100", retry: int | None = None):
    body = json.dumps(
        {"type": "event_callback", "event_id": event_id, "team_id": "T0NEXUS", "event": event}
    ).encode()
    headers = slack_headers(body)
    if retry is not None:
        headers["HTTP_X_SLACK_RETRY_NUM"] = str(retry)
    return post(URL, body, headers, "application/json")


def timeline_message(channel: str, user: str) -> dict:
    return {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": "!timeline Restarted the primary",
        "ts": "1700000000.000100",
    }


def pin(channel: str, user: str) -> dict:
    return {
        "type": "reaction_added",
        "user": user,
        "reaction": "pushpin",
        "item": {"type": "message", "channel": channel, "ts": "1700000000.000200"},
    }


@pytest.mark.parametrize("make", [timeline_message, pin], ids=["timeline", "pin"])
def test_unlinked_slack_user_is_refused_with_a_private_reply(post, slack, channel_incident, make):
    channel = channel_incident.slack_channel_id
    events_before = TimelineEvent.objects.filter(incident=channel_incident).count()
    for retry in (None, 1):  # Slack retries: one reply, still nothing written
        assert deliver(post, make(channel, "U0STRANGER"), retry=retry).status_code == 200

    assert TimelineEvent.objects.filter(incident=channel_incident).count() == events_before
    assert not InboundDelivery.objects.filter(source="slack-events").exists()
    (reply,) = OutboxMessage.objects.filter(target="slack.ephemeral")
    # Delivered after commit (tasks run inline here); a second delivery changes nothing.
    assert reply.state == OutboxMessage.State.SENT, reply.last_error
    assert outbox_deliver(message_id=reply.pk) != "sent"

    (sent,) = slack.received("/api/chat.postEphemeral")
    assert sent["body"]["channel"] == channel and sent["body"]["user"] == "U0STRANGER"
    assert "link your account" in sent["body"]["text"].lower()
    assert slack.state()["ephemeral"][0]["user"] == "U0STRANGER"


def test_a_setting_may_allow_unlinked_notes(post, slack, channel_incident, settings):
    settings.SLACK_ALLOW_UNLINKED_NOTES = True
    deliver(post, timeline_message(channel_incident.slack_channel_id, "U0STRANGER"))
    (note,) = channel_incident.events.filter(kind="note")
    assert note.actor is None and note.message.startswith("Slack user U0STRANGER:")
    assert not OutboxMessage.objects.filter(target="slack.ephemeral").exists()


def test_linked_user_still_writes_the_note(post, slack, channel_incident, alice):
    deliver(post, timeline_message(channel_incident.slack_channel_id, "U0ALICE"))
    (note,) = channel_incident.events.filter(kind="note")
    assert note.actor == alice
    assert not OutboxMessage.objects.filter(target="slack.ephemeral").exists()
