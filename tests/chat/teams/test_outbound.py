"""Microsoft Teams driven through the outbox over real HTTP, with Slack's scenario list:
declare, acknowledge by button, ``!timeline``, the summary card (Teams' pinned summary)
updated in place, resolve, archive; Slack and Teams side by side; a Teams outage."""

from __future__ import annotations

import time

import pytest

from chat.models import IncidentChatChannel
from incidents.models import Channel, Incident, Status, TimelineEvent
from incidents.services import incident_note_add, incident_transition
from nexusops.common import clock, roles
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import outbox_enqueue
from nexusops.standins import teams as standin
from tests.factories import UserFactory, incident
from tests.support.outbox import deliver_due

from .conftest import card_text, posts

BOT_URL = "/teams/messages/"


@pytest.fixture
def iris(db):
    # The tenant knows ic@nexus.example (Iris): she is found by e-mail and added to the team.
    return UserFactory(
        username="iris", first_name="Iris", email="ic@nexus.example", role=roles.INCIDENT_COMMANDER
    )


def _declared(iris) -> Incident:
    return incident(title="Checkout *failing*", actor=iris, commander=iris)


@pytest.mark.django_db
def test_declare_makes_a_channel_with_a_summary_card_and_adds_the_commander(teams_chat, iris):
    inc = _declared(iris)
    assert set(OutboxMessage.objects.values_list("target", flat=True)) == {"teams.channel_setup"}
    assert deliver_due() == ["sent"]

    [channel] = teams_chat.state()["channels"].values()
    assert channel["displayName"] == inc.number.lower().replace("inc-", "incident-")
    assert channel["team"] == standin.TEAM_ID
    assert channel["description"].startswith("P1 · Triggered · IC: Iris")
    [summary] = posts(teams_chat)
    assert f"{inc.number}: Checkout *failing*" in card_text(summary)
    [card] = summary["cards"]
    submits = [a for a in card["actions"] if a["type"] == "Action.Submit"]
    assert submits[0]["data"] == {"action": "acknowledge", "incident": inc.number}
    assert standin.aad_id("ic") in teams_chat.state()["teams"][standin.TEAM_ID]["members"]
    row = IncidentChatChannel.objects.get(incident=inc, provider="teams")
    assert (row.channel_id, row.summary_id) == (channel["id"], summary["id"])
    invited = inc.events.get(kind="teams_invited")
    assert invited.message == f"Invited Iris to #{channel['displayName']} in Microsoft Teams."


@pytest.mark.django_db
def test_updates_are_mirrored_and_the_summary_card_is_updated_in_place(teams_chat, iris):
    inc = _declared(iris)
    deliver_due()
    incident_transition(incident=inc, action="acknowledge", actor=iris)
    incident_note_add(incident=inc, message="Rolled back <b>v42</b>", internal=True, actor=iris)
    assert set(deliver_due()) == {"sent"}

    summary, *lines = posts(teams_chat)
    assert summary["version"] == 2 and "Status: Acknowledged" in card_text(summary)
    assert any("Rolled back &lt;b&gt;v42&lt;/b&gt;" in card_text(p) for p in lines)
    assert teams_chat.state()["channels"][summary["channel"]]["description"].startswith(
        "P1 · Acknowledged"
    )


@pytest.mark.django_db
def test_a_closed_incidents_channel_is_archived_once(teams_chat, iris):
    inc = _declared(iris)
    deliver_due()
    Incident.objects.filter(pk=inc.pk).update(status=Status.CLOSED, closed_at=clock.now())
    for attempt in (1, 2):
        outbox_enqueue(target="teams.archive", key=f"{inc.number}:archive-{attempt}", incident=inc)
    assert deliver_due() == ["sent", "sent"]  # the second finds it archived: done
    [channel] = teams_chat.state()["channels"].values()
    assert channel["isArchived"] is True


@pytest.mark.django_db(transaction=True)
def test_acknowledge_timeline_and_resolve_from_teams(teams_chat, live_server, inline_tasks, iris):
    teams_chat.command("bot", {"endpoint": f"{live_server.url}{BOT_URL}"})
    inc = _declared(iris)  # committed: the set-up is delivered at once (tasks inline)
    [summary] = posts(teams_chat)

    def press(action: str) -> int:
        data = {"action": action, "incident": inc.number}
        body = {"activity_id": summary["id"], "user": standin.aad_id("ic"), "data": data}
        return teams_chat.command("press", body)["status"]

    assert press("acknowledge") == 200
    inc.refresh_from_db()
    assert inc.status == Status.ACKNOWLEDGED
    assert inc.events.get(kind="status_changed").channel == Channel.TEAMS
    summary = posts(teams_chat)[0]
    assert "Status: Acknowledged" in card_text(summary) and summary["version"] == 2

    said = teams_chat.command(
        "say",
        {"channel": summary["channel"], "user": standin.aad_id("ic"), "text": "!timeline DNS"},
    )
    assert said["status"] == 200
    note = inc.events.get(kind="note")
    assert (note.message, note.actor, note.channel) == ("DNS", iris, Channel.TEAMS)

    incident_transition(incident=inc, action="investigate", actor=iris)
    incident_transition(incident=inc, action="mitigate", actor=iris)
    # The bot's answer is an outbox row that waits out Teams' 429; run inline (eagerly) a
    # retry cannot wait, so let the conversation's rate window pass first.
    time.sleep(1.1)
    assert press("resolve") == 200
    inc.refresh_from_db()
    assert inc.status == Status.RESOLVED
    # Teams allows a bot ~7 operations a second in a conversation; what met its 429 waits
    # for Retry-After and goes out then, and what the bot says after it in the channel (the
    # summary's update, the answer in the thread) waits its turn.
    time.sleep(1.1)
    OutboxMessage.objects.filter(state="retrying").update(next_attempt_at=clock.now())
    deliver_due()
    assert not OutboxMessage.objects.exclude(state="sent").exists()
    assert "Status: Resolved" in card_text(posts(teams_chat)[0])
    # What came from Teams is not echoed back into Teams; the bot answered in the threads.
    replies = [p for p in posts(teams_chat) if p["replyToId"] == summary["id"]]
    assert len(replies) == 2 and "acknowledged by you" in replies[0]["text"]
    assert "resolved by you" in replies[1]["text"]


@pytest.mark.django_db
def test_slack_and_teams_each_get_a_channel(slack_and_teams, iris):
    slack, teams = slack_and_teams
    inc = _declared(iris)
    targets = set(OutboxMessage.objects.values_list("target", flat=True))
    assert targets == {"slack.channel_setup", "teams.channel_setup"}
    assert deliver_due() == ["sent", "sent"]
    assert set(inc.chat_channels.values_list("provider", flat=True)) == {"slack", "teams"}
    incident_transition(incident=inc, action="acknowledge", actor=iris)
    deliver_due()
    assert "Status: Acknowledged" in card_text(posts(teams)[0])
    assert any(r["path"] == "/api/chat.update" for r in slack.received())


@pytest.mark.django_db
def test_a_teams_outage_delays_its_messages_in_order_and_holds_no_one_else(slack_and_teams, iris):
    slack, teams = slack_and_teams
    teams.inject(503, times=3)
    inc = _declared(iris)
    incident_note_add(incident=inc, message="first", internal=True, actor=iris)
    deliver_due()
    teams_rows = OutboxMessage.objects.filter(target__startswith="teams.").order_by("pk")
    assert teams_rows[0].state == "retrying" and teams.state()["channels"] == {}
    assert not OutboxMessage.objects.filter(target__startswith="slack.").exclude(state="sent")
    assert TimelineEvent.objects.filter(incident=inc, kind="note").count() == 1

    for _ in range(4):  # each attempt meets one injected 503 until they are used up
        OutboxMessage.objects.filter(state="retrying").update(next_attempt_at=clock.now())
        deliver_due()
    assert set(teams_rows.values_list("state", flat=True)) == {"sent"}
    summary, line = posts(teams)
    assert int(summary["id"]) < int(line["id"]) and "first" in card_text(line)
