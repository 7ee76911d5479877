"""The Teams bot endpoint: activities the Teams stand-in signs and delivers over real HTTP
act as the person who pressed or wrote; forged ones are refused and change nothing."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from incidents.models import Channel, Status, TimelineEvent
from nexusops.engine.models import InboundDelivery
from nexusops.standins import teams as standin
from tests.factories import incident

URL = "/teams/messages/"
ISSUER = "https://api.botframework.com"


def _replies(teams, thread: str) -> list[str]:
    return [p["text"] for p in teams.state()["posts"].values() if p["replyToId"] == thread]


@pytest.mark.django_db(transaction=True)
def test_acknowledge_button_runs_as_the_person_and_answers_in_the_thread(
    teams, live_server, inline_tasks, iris, channel_with_card
):
    found, channel, card = channel_with_card
    teams.command("bot", {"endpoint": f"{live_server.url}{URL}"})
    answer = teams.command(
        "press",
        {
            "activity_id": card,
            "user": standin.aad_id("ic"),
            "data": {"action": "acknowledge", "incident": found.number},
        },
    )
    assert answer["status"] == 200
    found.refresh_from_db()
    assert found.status == Status.ACKNOWLEDGED
    event = found.events.get(kind="status_changed")
    assert event.actor == iris and event.channel == Channel.TEAMS
    [reply] = _replies(teams, card)
    assert "acknowledged by you" in reply


@pytest.mark.django_db(transaction=True)
def test_timeline_message_becomes_an_internal_note(
    teams, live_server, inline_tasks, iris, channel_with_card
):
    found, channel, _ = channel_with_card
    teams.command("bot", {"endpoint": f"{live_server.url}{URL}"})
    answer = teams.command(
        "say",
        {"channel": channel.id, "user": standin.aad_id("ic"), "text": "!timeline rolled back v42"},
    )
    assert answer["status"] == 200
    note = found.events.get(kind="note")
    assert note.message == "rolled back v42" and note.actor == iris
    assert note.channel == Channel.TEAMS
    assert note.visibility == TimelineEvent.Visibility.INTERNAL


@pytest.mark.django_db(transaction=True)
def test_a_person_without_an_account_changes_nothing(
    teams, live_server, inline_tasks, channel_with_card
):
    found, _, card = channel_with_card
    teams.command("bot", {"endpoint": f"{live_server.url}{URL}"})
    before = TimelineEvent.objects.count()
    teams.command(
        "press",
        {
            "activity_id": card,
            "user": standin.aad_id("responder"),  # in the tenant, not in this console
            "data": {"action": "acknowledge", "incident": found.number},
        },
    )
    found.refresh_from_db()
    assert found.status == Status.TRIGGERED and TimelineEvent.objects.count() == before
    assert "No NexusOps account" in _replies(teams, card)[0]


@pytest.mark.django_db(transaction=True)
def test_rotated_keys_are_fetched_again(teams, live_server, inline_tasks, iris, channel_with_card):
    found, _, card = channel_with_card
    teams.command("bot", {"endpoint": f"{live_server.url}{URL}"})
    press = {
        "activity_id": card,
        "user": standin.aad_id("ic"),
        "data": {"action": "resolve", "incident": found.number},
    }
    assert teams.command("press", press)["status"] == 200  # keys fetched and cached
    teams.command("rotate-keys")
    from nexusops.integrations.teams import auth

    auth.REFRESH_COOLDOWN, before = 0.0, auth.REFRESH_COOLDOWN
    try:
        assert teams.command("press", press)["status"] == 200
    finally:
        auth.REFRESH_COOLDOWN = before


# --- forged activities --------------------------------------------------------------------
def _activity(teams, **changes) -> dict:
    activity = {
        "type": "message",
        "id": "forged-1",
        "channelId": "msteams",
        "serviceUrl": f"{teams.base_url}/",
        "from": {"id": "29:x", "aadObjectId": standin.aad_id("ic")},
        "conversation": {"id": "19:abc@thread.tacv2;messageid=1"},
        "value": {"action": "acknowledge", "incident": "INC-20260101-001"},
    }
    activity.update(changes)
    return activity


def _token(_teams_server, *, key=None, kid=None, **claims) -> str:
    signing = _teams_server.app.identity.keys[0]
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": standin.APP_ID,
        "serviceurl": f"{_teams_server.base_url}/",
        "nbf": now - 5,
        "exp": now + 300,
        **claims,
    }
    return jwt.encode(
        payload,
        key or signing.private,
        algorithm="RS256",
        headers={"kid": kid or signing.kid},
    )


@pytest.fixture
def forged(
    client, teams, _teams_server, secrets, inline_tasks, iris, django_capture_on_commit_callbacks
):
    found = incident(title="Checkout errors")

    def send(*, token: str | None, **changes):
        activity = _activity(teams, value={"action": "acknowledge", "incident": found.number})
        activity.update(changes)
        headers = {} if token is None else {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                URL, data=json.dumps(activity), content_type="application/json", **headers
            )

    send.incident = found
    return send


def _unchanged(forged) -> None:
    forged.incident.refresh_from_db()
    assert forged.incident.status == Status.TRIGGERED
    assert not InboundDelivery.objects.filter(source="teams").exists()


@pytest.mark.django_db
def test_the_genuine_token_is_accepted(forged, _teams_server):
    assert forged(token=_token(_teams_server)).status_code == 200
    forged.incident.refresh_from_db()
    assert forged.incident.status == Status.ACKNOWLEDGED


@pytest.mark.django_db
@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "another-bot"},
        {"iss": "https://sts.windows.net/evil/"},
        {"exp": int(time.time()) - 3600, "nbf": int(time.time()) - 7200},
        {"nbf": int(time.time()) + 3600},
        {"serviceurl": "https://attacker.example/"},
    ],
    ids=["wrong-audience", "wrong-issuer", "expired", "not-yet-valid", "other-service-url"],
)
def test_forged_claims_are_refused(forged, _teams_server, claims):
    assert forged(token=_token(_teams_server, **claims)).status_code == 401
    _unchanged(forged)


@pytest.mark.django_db
def test_a_token_signed_with_another_key_is_refused(forged, _teams_server):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert forged(token=_token(_teams_server, key=other)).status_code == 401
    assert forged(token=_token(_teams_server, key=other, kid="unknown-kid")).status_code == 401
    _unchanged(forged)


@pytest.mark.django_db
def test_missing_or_malformed_tokens_are_refused(forged, _teams_server):
    assert forged(token=None).status_code == 401
    assert forged(token="not-a-jwt").status_code == 401
    hs256 = jwt.encode({"iss": ISSUER, "aud": standin.APP_ID}, "secret" * 6, algorithm="HS256")
    assert forged(token=hs256).status_code == 401
    _unchanged(forged)


@pytest.mark.django_db
def test_a_key_not_endorsed_for_the_channel_is_refused(forged, _teams_server):
    assert forged(token=_token(_teams_server), channelId="skype").status_code == 401
    _unchanged(forged)
