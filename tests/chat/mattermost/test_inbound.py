"""Mattermost inbound over HTTP: the slash command declares, a signed button acknowledges,
``!timeline`` through the outgoing webhook notes, and forged requests change nothing. The
sender is found through the Mattermost stand-in (real HTTP) by e-mail."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from chat.models import IncidentChatChannel
from incidents.models import Incident, Status, TimelineEvent
from nexusops.common import clock, roles
from nexusops.engine.models import InboundDelivery, OutboxMessage
from nexusops.engine.outbox import outbox_deliver
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


def _hook(mattermost, channel_id: str = "x") -> str:
    """The response_url Mattermost makes for one run of the command."""
    made = mattermost.command("command_hook", {"user_id": IRIS_MM, "channel_id": channel_id})
    return made["response_url"]


def _slash(mattermost, text: str, **fields) -> dict:
    return {
        "token": SLASH,
        "user_id": IRIS_MM,
        "channel_id": "x",
        "command": "/incident",
        "text": text,
        "response_url": _hook(mattermost),
        **fields,
    }


def _replies() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(target="mattermost.command_reply").order_by("pk"))


def test_the_slash_command_declares_as_the_linked_user(mm, mattermost, iris):
    severities()
    answer = mm("/mattermost/commands/", _slash(mattermost, "declare P2 Queue stuck"))
    assert answer.status_code == 200 and "Declaring a P2" in answer.json()["text"]
    declared = Incident.objects.get(title="Queue stuck")
    assert declared.severity.code == "P2"
    assert TimelineEvent.objects.filter(incident=declared, kind="declared", actor=iris).exists()

    # The result, after the work, through the response_url (an outbox row), for the channel.
    [reply] = _replies()
    assert reply.state == OutboxMessage.State.SENT
    [said] = mattermost.state()["command_responses"]
    assert said["response_type"] == "in_channel"
    assert said["text"] == f"Declared **{declared.number}** (P2, Triggered): Queue stuck"
    assert said["hook_id"] == reply.payload["response_url"].rsplit("/", 1)[1]


def test_a_person_with_no_account_is_told_how_mattermost_people_are_linked(mm, mattermost):
    severities()  # no NexusOps account has iris's e-mail
    answer = mm("/mattermost/commands/", _slash(mattermost, "declare P2 Queue stuck")).json()
    assert answer["response_type"] == "ephemeral"
    assert "e-mail address of your Mattermost user" in answer["text"]
    assert "Slack" not in answer["text"]
    assert not Incident.objects.filter(title="Queue stuck").exists() and not _replies()


def test_a_refusal_is_answered_privately_and_a_replay_does_nothing(mm, mattermost, iris):
    inc = incident(actor=iris)
    fields = _slash(mattermost, f"resolve {inc.number}")  # a triggered incident: refused
    assert mm("/mattermost/commands/", fields).status_code == 200
    assert mm("/mattermost/commands/", fields).json()["text"] == "This request was already handled."
    [said] = mattermost.state()["command_responses"]
    assert said["response_type"] == "ephemeral" and said["text"].startswith(":warning:")
    assert len(_replies()) == 1
    inc.refresh_from_db()
    assert inc.status == Status.TRIGGERED


def test_the_answer_waits_out_an_outage_and_an_unknown_hook_is_refused(mm, mattermost, iris):
    inc = incident(actor=iris)
    # iris has used the command before: her Mattermost id is remembered (ChatIdentity), so
    # the next request asks Mattermost nothing before the answer is due.
    status = mm("/mattermost/commands/", _slash(mattermost, f"status {inc.number}"))
    assert inc.number in status.json()["text"]
    mattermost.inject(status=503, times=1)  # Mattermost is down when the answer is due
    mm("/mattermost/commands/", _slash(mattermost, f"note {inc.number} Disk at 91%"))
    assert TimelineEvent.objects.filter(incident=inc, message="Disk at 91%").exists()
    [reply] = _replies()
    assert (
        reply.state == OutboxMessage.State.RETRYING and not mattermost.state()["command_responses"]
    )
    OutboxMessage.objects.filter(pk=reply.pk).update(next_attempt_at=clock.now())
    assert outbox_deliver(message_id=reply.pk) == "sent"
    [said] = mattermost.state()["command_responses"]
    assert said["text"] == f"Internal note added to **{inc.number}** (P1, Triggered)."

    unknown = _slash(mattermost, f"note {inc.number} More", response_url=_hook(mattermost) + "0")
    assert mm("/mattermost/commands/", unknown).status_code == 200
    assert _replies()[-1].state == OutboxMessage.State.DEAD  # no such hook: 404, not retried
    assert len(mattermost.state()["command_responses"]) == 1


def test_a_response_url_elsewhere_is_refused_before_anything_is_done(mm, mattermost, iris):
    severities()
    for url in ("https://attacker.example/hooks/commands/abc", mattermost.base_url + "/api/v4/x"):
        answer = mm("/mattermost/commands/", _slash(mattermost, "declare P2 X", response_url=url))
        assert "not this Mattermost server's" in answer.json()["text"]
    assert not Incident.objects.exists() and not InboundDelivery.objects.exists()


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
