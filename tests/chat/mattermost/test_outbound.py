"""Mattermost driven through the outbox over real HTTP: declare, pin, header, invite,
mirror, archive, in order, and the stand-in as strict as Mattermost."""

from __future__ import annotations

import pytest

from chat.models import IncidentChatChannel
from incidents.models import Incident, Status, TimelineEvent
from incidents.services import incident_note_add, incident_transition
from nexusops.common import clock, roles
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import outbox_enqueue
from nexusops.integrations.errors import RateLimited, VendorRejected
from nexusops.integrations.mattermost.client import MattermostClient
from nexusops.integrations.mattermost.provider import action_signature
from nexusops.standins.mattermost.words import TEAM_ID, TOKEN
from tests.factories import UserFactory, incident
from tests.support.outbox import deliver_due

from .conftest import ACTION_SECRET, calls

pytestmark = pytest.mark.django_db


@pytest.fixture
def iris():
    # The stand-in's team knows iris@nexus.example: she is found by e-mail and invited.
    return UserFactory(
        username="iris",
        first_name="Iris",
        email="iris@nexus.example",
        role=roles.INCIDENT_COMMANDER,
    )


def test_declare_makes_a_channel_with_a_pinned_signed_summary_and_invites(mattermost, iris):
    inc = incident(title="Checkout @all failing", actor=iris, commander=iris)
    assert set(OutboxMessage.objects.values_list("target", "key")) >= {
        ("mattermost.channel_setup", f"{inc.number}:mattermost-channel")
    }
    assert not OutboxMessage.objects.filter(target__startswith="slack.").exists()
    deliver_due()

    [create] = calls(mattermost, "POST", "/channels")
    assert create["body"]["name"] == inc.number.lower().replace("inc-", "incident-")
    assert create["body"]["team_id"] == TEAM_ID
    [post] = calls(mattermost, "POST", "/posts")
    assert "@\u200ball" in post["body"]["message"]  # no broadcast from a title
    [actions] = [a["actions"] for a in post["body"]["props"]["attachments"]]
    [ack] = actions
    context = ack["integration"]["context"]
    assert context == {
        "action": "acknowledge",
        "incident": inc.number,
        "signature": action_signature("acknowledge", inc.number, ACTION_SECRET),
    }
    assert ack["integration"]["url"].endswith("/mattermost/actions/")
    state = mattermost.state()
    [channel] = state["channels"].values()
    [pinned] = [p for p in state["posts"].values() if p["is_pinned"]]
    assert pinned["message"] == post["body"]["message"]  # the summary is what is pinned
    assert channel["header"].startswith("P1 · Triggered · IC Iris")
    assert "iris" in [state["users"][u]["username"] for u in state["members"][channel["id"]]]
    row = IncidentChatChannel.objects.get(incident=inc, provider="mattermost")
    assert row.channel_id == channel["id"] and row.url.endswith(
        f"/nexus/channels/{channel['name']}"
    )
    assert TimelineEvent.objects.filter(incident=inc, kind="mattermost_invited").exists()


def test_updates_are_mirrored_in_order_and_the_summary_edited_then_archived(mattermost, iris):
    inc = incident(actor=iris, commander=iris)
    incident_transition(incident=inc, action="acknowledge", actor=iris)
    incident_note_add(incident=inc, message="Rolled back *gateway*", actor=iris, internal=True)
    deliver_due()
    state = mattermost.state()
    [channel_id] = state["channels"]
    posts = sorted(
        (p for p in state["posts"].values() if p["channel_id"] == channel_id),
        key=lambda p: p["create_at"],
    )
    assert [p["message"].split(" ")[0] for p in posts[1:]] == [
        ":arrows_counterclockwise:",
        ":memo:",
    ]
    assert "Rolled back \\*gateway\\*" in posts[-1]["message"]
    assert "Acknowledged" in posts[0]["message"]  # the pinned summary, edited in place
    assert calls(mattermost, "PUT", f"/posts/{posts[0]['id']}/patch")

    # Closed (as the archive race test closes one: the lifecycle's guards are not the point).
    Incident.objects.filter(pk=inc.pk).update(status=Status.CLOSED, closed_at=clock.now())
    inc.refresh_from_db()
    outbox_enqueue(
        target="mattermost.archive",
        key=f"{inc.number}:close:mattermost-archive",
        incident=inc,
        payload={"closed_at": inc.closed_at.isoformat()},
    )
    deliver_due()
    assert calls(mattermost, "DELETE", f"/channels/{channel_id}")
    assert mattermost.state()["channels"][channel_id]["delete_at"]


def test_the_stand_in_is_strict_and_the_client_says_so(mattermost, settings):
    client = MattermostClient(settings.MATTERMOST_URL, TOKEN, TEAM_ID)
    first = client.channel_create("incident-20261127-001", "Incident 20261127-001")
    again = client.channel_create("incident-20261127-001", "Incident 20261127-001")
    assert first.created and not again.created and again.id == first.id
    duplicate = [r for r in mattermost.received() if r.get("status") == 400]
    assert duplicate, "the second create met Mattermost's duplicate-name error"

    with pytest.raises(VendorRejected) as unauthorised:
        MattermostClient(settings.MATTERMOST_URL, "wrong", TEAM_ID).channel_members(first.id)
    assert unauthorised.value.status == 401
    assert client.user_by_email("nobody@nexus.example") is None
    outcome = client.channel_add(first.id, ["mmuserunknown0000000000000"])
    assert outcome.failed == {"mmuserunknown0000000000000": "user_not_found"}

    mattermost.inject(429, retry_after=3)
    with pytest.raises(RateLimited) as limited:
        client.post_create(first.id, "hello")
    assert limited.value.retry_after == 3.0


def test_an_outage_at_declaration_delays_the_channel_and_loses_nothing(mattermost, iris):
    mattermost.inject(503, times=1)
    inc = incident(actor=iris, commander=iris)
    incident_note_add(incident=inc, message="first note", actor=iris, internal=True)
    deliver_due(max_rounds=1)
    setup = OutboxMessage.objects.get(target="mattermost.channel_setup")
    assert setup.state == "retrying" and "503" in setup.last_error
    assert not mattermost.state()["channels"]
    note = OutboxMessage.objects.get(target="mattermost.post")
    assert note.state == "waiting" and note.attempts == 0  # waits for the channel, free

    OutboxMessage.objects.filter(pk=setup.pk).update(next_attempt_at=clock.now())
    deliver_due()
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"sent"}
    [channel_id] = mattermost.state()["channels"]
    messages = [p["message"] for p in mattermost.state()["posts"].values()]
    assert any("first note" in m for m in messages)
    assert IncidentChatChannel.objects.filter(incident=inc, channel_id=channel_id).exists()
