"""Mattermost inbound over HTTP: the slash command declares, a signed button acknowledges,
``!timeline`` through the outgoing webhook notes, and forged requests change nothing. The
sender is found through the Mattermost stand-in (real HTTP) by e-mail."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from chat.models import IncidentChatChannel
from incidents.models import Incident, Status, TimelineEvent
from nexusops.common import roles
from nexusops.engine.models import InboundDelivery, OutboxMessage
from nexusops.integrations.mattermost.provider import action_signature
from tests.factories import UserFactory, incident, severities

from ..inbound.conftest import inline_tasks  # noqa: F401 - a fixture used below
from .conftest import ACTION_SECRET

pytestmark = pytest.mark.django_db
IRIS_MM = "mmuseriris00000000000000ic"
SLASH, OUTGOING = "mm-test-slash", "mm-test-outgoing"


@pytest.fixture
def mm(mattermost, settings, client, django_capture_on_commit_callbacks, inline_tasks):  # noqa: F811
    settings.MATTERMOST_SLASH_TOKEN = SLASH
    settings.MATTERMOST_OUTGOING_TOKEN = OUTGOING

    def send(path: str, fields: dict, *, as_json: bool = False):
        body = json.dumps(fields) if as_json else urlencode(fields)
        kind = "application/json" if as_json else "application/x-www-form-urlencoded"
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path, data=body, content_type=kind)

    return send


@pytest.fixture
def iris():
    return UserFactory(username="iris", email="iris@nexus.example", role=roles.INCIDENT_COMMANDER)


def test_the_slash_command_declares_as_the_linked_user(mm, iris):
    severities()
    answer = mm(
        "/mattermost/commands/",
        {"token": SLASH, "user_id": IRIS_MM, "channel_id": "x", "text": "declare P2 Queue stuck"},
    )
    assert answer.status_code == 200 and "Declaring a P2" in answer.json()["text"]
    declared = Incident.objects.get(title="Queue stuck")
    assert declared.severity.code == "P2"
    assert TimelineEvent.objects.filter(incident=declared, kind="declared", actor=iris).exists()


def test_a_signed_button_acknowledges_and_a_forged_one_is_refused(mm, iris):
    inc = incident(actor=iris)
    press = {
        "user_id": IRIS_MM,
        "channel_id": "c",
        "context": {"action": "acknowledge", "incident": inc.number, "signature": "0" * 64},
    }
    forged = mm("/mattermost/actions/", press, as_json=True)
    assert forged.status_code == 401
    inc.refresh_from_db()
    assert inc.status == Status.TRIGGERED and not InboundDelivery.objects.exists()

    press["context"]["signature"] = action_signature("acknowledge", inc.number, ACTION_SECRET)
    assert mm("/mattermost/actions/", press, as_json=True).status_code == 200
    inc.refresh_from_db()
    assert inc.status == Status.ACKNOWLEDGED
    assert TimelineEvent.objects.filter(
        incident=inc, kind="status_changed", actor=iris, channel="mattermost"
    ).exists()
    # said in Mattermost already: not mirrored back into it
    assert not OutboxMessage.objects.filter(target="mattermost.post").exists()


def test_timeline_through_the_outgoing_webhook_and_a_wrong_token(mm, iris):
    inc = incident(actor=iris)
    IncidentChatChannel.objects.create(
        incident=inc, provider="mattermost", channel_id="mmchan0000000000000000001", name="x"
    )
    fields = {
        "user_id": IRIS_MM,
        "channel_id": "mmchan0000000000000000001",
        "post_id": "p1",
        "text": "!timeline restarted the consumer",
    }
    assert mm("/mattermost/outgoing/", {**fields, "token": "guess"}).status_code == 401
    assert mm("/mattermost/commands/", {**fields, "token": OUTGOING}).status_code == 401
    assert not TimelineEvent.objects.filter(message__contains="restarted").exists()
    assert mm("/mattermost/outgoing/", {**fields, "token": OUTGOING}).status_code == 200
    [note] = TimelineEvent.objects.filter(incident=inc, message="restarted the consumer")
    assert note.actor == iris and note.visibility == TimelineEvent.Visibility.INTERNAL
