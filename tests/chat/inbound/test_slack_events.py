"""Events API: url_verification, ``!timeline`` notes, pushpin reactions, retries deduped."""

from __future__ import annotations

import json

import pytest

from incidents.models import Channel, TimelineEvent
from nexusops.engine.models import InboundDelivery

from .conftest import CHANNEL, slack_headers

pytestmark = pytest.mark.django_db
URL = "/slack/events/"


@pytest.fixture
def deliver(post):
    def run(event: dict, *, event_id: str = "Ev0001", retry: int | None = None):
        body = json.dumps(
            {"type": "event_callback", "event_id": event_id, "team_id": "T0NEXUS", "event": event}
        ).encode()
        headers = slack_headers(body)
        if retry is not None:
            headers["HTTP_X_SLACK_RETRY_NUM"] = str(retry)
        return post(URL, body, headers, "application/json")

    return run


def message(text: str, **extra) -> dict:
    return {
        "type": "message",
        "channel": CHANNEL,
        "user": "U0ALICE",
        "text": text,
        "ts": "1700000000.000100",
        **extra,
    }


def notes(incident):
    return list(incident.events.filter(kind="note"))


def test_url_verification(post):
    body = json.dumps(
        {
            "type": "url_verification",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        }
    ).encode()
    response = post(URL, body, slack_headers(body), "application/json")
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_timeline_message_becomes_internal_note(deliver, alice, live_incident):
    assert (
        deliver(message("!timeline Restarted pgbouncer &amp; it &lt;helped&gt;")).status_code == 200
    )
    (note,) = notes(live_incident)
    assert note.message == "Restarted pgbouncer & it <helped>"
    assert note.actor == alice and note.channel == Channel.SLACK
    assert note.visibility == TimelineEvent.Visibility.INTERNAL


def test_unlinked_author_is_named_by_slack_id_when_allowed(deliver, live_incident, settings):
    settings.SLACK_ALLOW_UNLINKED_NOTES = True
    deliver(message("!timeline Seen 502s from the LB", user="U0STRANGER"))
    (note,) = notes(live_incident)
    assert note.actor is None
    assert note.message == "Slack user U0STRANGER: Seen 502s from the LB"


def test_retries_of_one_event_change_nothing(deliver, alice, live_incident):
    for retry in (None, 1, 2):
        assert deliver(message("!timeline once"), retry=retry).status_code == 200
    assert len(notes(live_incident)) == 1
    assert InboundDelivery.objects.filter(source="slack-events", event_id="Ev0001").count() == 1


@pytest.mark.parametrize(
    "event",
    [
        message("just chatting"),
        message("!timeline from a bot", bot_id="B0NEXUS"),
        message("!timeline edited", subtype="message_changed"),
        message("!timeline "),
        message("!timeline elsewhere", channel="C0RANDOM"),
        {
            "type": "reaction_added",
            "user": "U0ALICE",
            "reaction": "thumbsup",
            "item": {"type": "message", "channel": CHANNEL, "ts": "1.2"},
        },
        {"type": "app_mention", "user": "U0ALICE", "text": "hi", "channel": CHANNEL},
    ],
)
def test_other_events_are_ignored(deliver, alice, live_incident, event):
    before = TimelineEvent.objects.count()
    assert deliver(event).status_code == 200
    assert TimelineEvent.objects.count() == before
    assert not InboundDelivery.objects.exists()


@pytest.mark.parametrize("reaction", ["pushpin", "memo"])
def test_pin_reaction_records_the_message(deliver, alice, live_incident, reaction):
    deliver(
        {
            "type": "reaction_added",
            "user": "U0ALICE",
            "reaction": reaction,
            "item": {"type": "message", "channel": CHANNEL, "ts": "1700000000.000200"},
            "event_ts": "1700000001.000000",
        }
    )
    (note,) = notes(live_incident)
    assert note.message == f"Pinned a Slack message 1700000000.000200 (:{reaction}:)"
    assert note.actor == alice


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"type": "url_verification"}',
        b'{"type": "event_callback", "event": {"type": "message"}}',
    ],
)
def test_malformed_event_is_400(post, body):
    response = post(URL, body, slack_headers(body), "application/json")
    assert response.status_code == 400
    assert not InboundDelivery.objects.exists()
