"""Buttons on the pinned summary: incident_ack / incident_resolve run the services as the
person who clicked; incident_open is only a link."""

from __future__ import annotations

import json

import pytest

from incidents.models import Channel, Status, TimelineEvent
from nexusops.engine.models import InboundDelivery

from .conftest import RESPONSE_PATH, form, slack_headers

pytestmark = pytest.mark.django_db
URL = "/slack/interactivity/"


@pytest.fixture
def click(post, slack_hooks):
    def run(action_id: str, value: str, *, user: str = "U0ALICE", **extra):
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": "someone"},
            "trigger_id": "1234.5678",
            "response_url": slack_hooks.response_url,
            "actions": [{"action_id": action_id, "value": value, "type": "button"}],
            **extra,
        }
        body = form(payload=json.dumps(payload))
        return post(URL, body, slack_headers(body), "application/x-www-form-urlencoded")

    return run


def test_ack_button(click, alice, live_incident, slack_hooks):
    response = click("incident_ack", live_incident.number)
    assert response.status_code == 200
    live_incident.refresh_from_db()
    assert live_incident.status == Status.ACKNOWLEDGED
    event = live_incident.events.get(kind="status_changed")
    assert event.actor == alice and event.channel == Channel.SLACK
    (reply,) = slack_hooks.received(RESPONSE_PATH)
    assert reply["body"]["response_type"] == "ephemeral"
    assert reply["body"]["replace_original"] is False


def test_resolve_button_when_not_allowed_replies_and_changes_nothing(
    click, alice, live_incident, slack_hooks
):
    before = TimelineEvent.objects.count()
    click("incident_resolve", live_incident.number)
    assert TimelineEvent.objects.count() == before
    (reply,) = slack_hooks.received(RESPONSE_PATH)
    assert "Cannot resolve" in reply["body"]["text"]


def test_open_button_does_nothing(click, alice, live_incident, slack_hooks):
    before = TimelineEvent.objects.count()
    assert click("incident_open", live_incident.number).status_code == 200
    assert TimelineEvent.objects.count() == before
    assert not InboundDelivery.objects.exists()
    assert slack_hooks.received() == []


def test_unlinked_user_is_told_and_nothing_changes(click, live_incident, slack_hooks):
    before = TimelineEvent.objects.count()
    click("incident_ack", live_incident.number, user="U0NOBODY")
    assert TimelineEvent.objects.count() == before
    (reply,) = slack_hooks.received(RESPONSE_PATH)
    assert "No NexusOps account is linked" in reply["body"]["text"]


def test_stakeholder_cannot_ack(click, stakeholder, live_incident, slack_hooks):
    click("incident_ack", live_incident.number, user="U0SAM")
    live_incident.refresh_from_db()
    assert live_incident.status == Status.TRIGGERED
    (reply,) = slack_hooks.received(RESPONSE_PATH)
    assert reply["body"]["text"] == ":warning: Your role cannot acknowledge incidents."


def test_unknown_incident(click, alice, slack_hooks):
    click("incident_ack", "INC-20000101-001")
    (reply,) = slack_hooks.received(RESPONSE_PATH)
    assert "no longer exists" in reply["body"]["text"]


def test_response_url_off_slack_is_400(click, alice, live_incident, slack_hooks):
    response = click("incident_ack", live_incident.number, response_url="http://10.0.0.1/")
    assert response.status_code == 400
    live_incident.refresh_from_db()
    assert live_incident.status == Status.TRIGGERED


@pytest.mark.parametrize(
    "body", [b"", b"payload=", b"payload=%7Bnot-json", b"payload=%5B%5D", b"other=1"]
)
def test_malformed_payload_is_400(post, alice, body):
    response = post(URL, body, slack_headers(body), "application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert not TimelineEvent.objects.exists()
