"""The bot's commands (Teams' ``/incident``): JWT-signed activities from the Teams stand-in,
delivered over real HTTP to the live console, run Slack's subcommands with the same checks;
the bot answers in the thread (or the personal chat) through the outbox."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from chat.inbound.senders import TEAMS_REPLY
from chat.inbound.teams_actions import NOT_LINKED
from chat.models import IncidentChatChannel
from incidents.models import Channel, Incident, Status, TimelineEvent
from nexusops.common import clock, roles
from nexusops.engine.models import InboundDelivery, OutboxMessage
from nexusops.integrations.teams import auth
from nexusops.integrations.teams.client import TeamsClient
from nexusops.standins import teams as standin
from tests.factories import UserFactory, incident, severities
from tests.support.outbox import deliver_due

from .test_inbound import _token

URL = "/teams/messages/"


@pytest.fixture
def people(db):
    """Iris may act on incidents; Sam (a stakeholder) may only read; the tenant's Ravi
    (responder@nexus.example) has no NexusOps account."""
    iris = UserFactory(username="iris", email="ic@nexus.example", role=roles.INCIDENT_COMMANDER)
    sam = UserFactory(username="sam", email="stakeholder@nexus.example", role=roles.STAKEHOLDER)
    return iris, sam


@pytest.fixture
def bot(teams, live_server, secrets, inline_tasks):
    teams.command("bot", {"endpoint": f"{live_server.url}{URL}"})
    return teams


@pytest.fixture
def incident_channel(bot, people):
    """An incident with its Teams channel."""
    found = incident(title="Checkout errors")
    channel = TeamsClient.default().channel_create(f"incident-{found.number[4:].lower()}")
    IncidentChatChannel.objects.create(
        incident=found, provider="teams", channel_id=channel.id, name=channel.name
    )
    return found, channel.id


def _say(teams, who: str, text: str, *, channel: str = "", personal: bool = False) -> dict:
    body = {"user": standin.aad_id(who), "text": text}
    body.update({"personal": True} if personal else {"channel": channel})
    answer = teams.command("say", body)
    assert answer["status"] == 200, answer
    return answer["activity"]


def _answers(teams, *, thread: str = "", personal_with: str = "") -> list[str]:
    """The bot's answers in a post's thread, or in its personal chat with someone."""
    posts = sorted(teams.state()["posts"].values(), key=lambda p: int(p["id"]))
    if personal_with:
        chat = f"a:{standin.aad_id(personal_with)}"
        return [p["text"] for p in posts if p["channel"] == chat and not p.get("from_user")]
    return [p["text"] for p in posts if p["replyToId"] == thread]


@pytest.mark.django_db(transaction=True)
def test_commands_in_an_incident_channel_act_as_the_person(bot, incident_channel, people):
    found, channel = incident_channel
    iris, _ = people
    said = _say(bot, "ic", "ack", channel=channel)
    found.refresh_from_db()
    assert found.status == Status.ACKNOWLEDGED
    event = found.events.get(kind="status_changed")
    assert (event.actor, event.channel) == (iris, Channel.TEAMS)
    [answer] = _answers(bot, thread=said["id"])
    assert "acknowledged by you" in answer

    said = _say(bot, "ic", f"severity {found.number} P0", channel=channel)
    found.refresh_from_db()
    assert found.severity.code == "P0"
    assert "severity is P0" in _answers(bot, thread=said["id"])[0]

    said = _say(bot, "ic", "ic @iris", channel=channel)
    found.refresh_from_db()
    assert found.commander == iris
    assert "incident commander is" in _answers(bot, thread=said["id"])[0]

    said = _say(bot, "ic", "status", channel=channel)
    [status] = _answers(bot, thread=said["id"])
    assert found.number in status and "Acknowledged" in status
    # Every answer went through the outbox, and was sent.
    answers = OutboxMessage.objects.filter(target=TEAMS_REPLY)
    assert answers.count() == 4 and set(answers.values_list("state", flat=True)) == {"sent"}


@pytest.mark.django_db(transaction=True)
def test_help_status_and_declare_in_a_personal_chat(bot, people):
    severities()
    _say(bot, "ic", "help", personal=True)
    [listing] = _answers(bot, personal_with="ic")
    assert "`@NexusOps ack [INC-…]`" in listing and "`@NexusOps declare" in listing

    _say(bot, "ic", "status", personal=True)
    not_here = _answers(bot, personal_with="ic")[1]
    assert "run `@NexusOps status` in the incident's channel" in not_here

    _say(bot, "ic", "declare P2 Checkout slow", personal=True)
    declared = Incident.objects.get(title="Checkout slow")
    assert declared.source == Channel.TEAMS and declared.severity.code == "P2"
    assert f"Declared *{declared.number}*" in _answers(bot, personal_with="ic")[2]


@pytest.mark.django_db(transaction=True)
def test_the_same_permission_checks_refuse_a_stakeholder(bot, incident_channel):
    found, channel = incident_channel
    before = TimelineEvent.objects.count()
    said = _say(bot, "stakeholder", "ack", channel=channel)
    found.refresh_from_db()
    assert found.status == Status.TRIGGERED and TimelineEvent.objects.count() == before
    assert _answers(bot, thread=said["id"]) == ["⚠️ Your role cannot acknowledge incidents."]


@pytest.mark.django_db(transaction=True)
def test_an_unlinked_person_is_told_why_and_nothing_changes(bot, incident_channel):
    found, channel = incident_channel
    before = TimelineEvent.objects.count()
    for text in ("ack", f"note {found.number} rolled back", "!timeline rolled back"):
        said = _say(bot, "responder", text, channel=channel)
        assert _answers(bot, thread=said["id"]) == [NOT_LINKED]
    found.refresh_from_db()
    assert found.status == Status.TRIGGERED and TimelineEvent.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_a_redelivered_command_acts_and_answers_once(bot, incident_channel, client, _teams_server):
    found, channel = incident_channel
    said = _say(bot, "ic", "ack", channel=channel)
    token = _token(_teams_server)
    again = client.post(
        URL, data=json.dumps(said), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip
    assert again.status_code == 200
    assert found.events.filter(kind="status_changed").count() == 1
    assert len(_answers(bot, thread=said["id"])) == 1
    assert OutboxMessage.objects.filter(target=TEAMS_REPLY).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_forged_command_is_refused_and_changes_nothing(
    bot, incident_channel, client, _teams_server
):
    found, channel = incident_channel
    activity = {
        "type": "message",
        "id": "forged-command-1",
        "channelId": "msteams",
        "serviceUrl": f"{bot.base_url}/",
        "from": {"id": "29:x", "aadObjectId": standin.aad_id("ic")},
        "conversation": {"id": channel, "conversationType": "channel"},
        "text": "<at>NexusOps</at> ack",
    }
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for token in (_token(_teams_server, key=other), _token(_teams_server, aud="another-bot")):
        answer = client.post(
            URL, data=json.dumps(activity), content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )  # fmt: skip
        assert answer.status_code == 401
    found.refresh_from_db()
    assert found.status == Status.TRIGGERED
    assert not InboundDelivery.objects.filter(source="teams").exists()
    assert not OutboxMessage.objects.filter(target=TEAMS_REPLY).exists()


@pytest.mark.django_db(transaction=True)
def test_answers_wait_out_teams_429_and_keep_their_order(bot, incident_channel):
    _, channel = incident_channel
    bot.command("rate-limits", {"window": 3})
    # Teams allows the bot 7 operations a conversation per window: the 8th answer meets 429.
    said = [_say(bot, "ic", "help", channel=channel) for _ in range(9)]
    rows = list(OutboxMessage.objects.filter(target=TEAMS_REPLY).order_by("pk"))
    assert [r.state for r in rows] == ["sent"] * 7 + ["retrying", "waiting"]
    limited, after = rows[7], rows[8]
    assert "RateLimited" in limited.last_error
    wait = (limited.next_attempt_at - clock.now()).total_seconds()
    assert 0.5 < wait <= 3.5  # Teams' Retry-After, not our own backoff
    assert after.depends_on_id == limited.pk  # the next answer waits its turn

    time.sleep(wait + 0.2)
    deliver_due()
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"sent"}
    limited.refresh_from_db()
    after.refresh_from_db()
    first, second = (bot.state()["posts"][r.result["id"]] for r in (limited, after))
    assert int(first["id"]) < int(second["id"])
    assert [len(_answers(bot, thread=s["id"])) for s in said] == [1] * 9


def _deliver_twice_at_once(url: str, activity: dict, tokens: list[str]) -> list[int]:
    barrier = threading.Barrier(len(tokens))
    statuses: list[int] = []

    def deliver(token: str) -> None:
        barrier.wait(timeout=10)
        answer = requests.post(
            url, json=activity, timeout=30, headers={"Authorization": f"Bearer {token}"}
        )
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=deliver, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_activity_delivered_twice_at_once_acts_and_answers_once(
    teams, live_server, secrets, people, _teams_server
):
    """Teams redelivers an activity it got no answer to in time: the two deliveries race."""
    auth.forget_keys()
    for n in range(8):
        found = incident(title=f"race {n}")
        channel = TeamsClient.default().channel_create(f"incident-race-{n}").id
        IncidentChatChannel.objects.create(
            incident=found, provider="teams", channel_id=channel, name=f"incident-race-{n}"
        )
        activity = {
            "type": "message",
            "id": f"17000000{n:05d}",
            "channelId": "msteams",
            "serviceUrl": f"{teams.base_url}/",
            "from": {"id": "29:iris", "aadObjectId": standin.aad_id("ic")},
            "conversation": {"id": channel, "conversationType": "channel"},
            "text": "<at>NexusOps</at> ack",
        }
        tokens = [_token(_teams_server), _token(_teams_server)]
        assert _deliver_twice_at_once(f"{live_server.url}{URL}", activity, tokens) == [200, 200]
        found.refresh_from_db()
        assert found.status == Status.ACKNOWLEDGED
        assert found.events.filter(kind="status_changed").count() == 1
        assert OutboxMessage.objects.filter(target=TEAMS_REPLY, incident=found).count() == 1
