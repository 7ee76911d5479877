"""The Teams adapter over real HTTP against the Teams stand-in, and the stand-in's strictness."""

from __future__ import annotations

import pytest
import requests

from nexusops.integrations.errors import RateLimited, VendorRejected
from nexusops.integrations.teams.cards import summary_card, text_card, with_key
from nexusops.integrations.teams.client import TeamsClient
from nexusops.standins import teams as standin


@pytest.fixture
def client(teams) -> TeamsClient:
    return TeamsClient.default()


def _channels(teams) -> list[dict]:
    return list(teams.state()["channels"].values())


def test_channel_is_created_in_the_team_and_a_retry_reuses_it(teams, client):
    first = client.channel_create("incident-20260101-001", description="P0 on api-gateway")
    again = client.channel_create("incident-20260101-001")
    assert first.created and not again.created and again.id == first.id
    [channel] = _channels(teams)
    assert channel["displayName"] == "incident-20260101-001"
    assert channel["description"] == "P0 on api-gateway"
    assert channel["team"] == standin.TEAM_ID


def test_an_archived_channel_keeps_its_name_so_the_next_is_suffixed(teams, client):
    first = client.channel_create("incident-x")
    client.channel_archive(first.id)
    client.channel_archive(first.id)  # a retried archive is done, not an error
    second = client.channel_create("incident-x")
    assert second.name == "incident-x-2" and second.created


def test_duplicate_name_is_graphs_error(teams, client):
    client.channel_create("dup")
    token = client._token(standin.TENANT_ID, "https://graph.microsoft.com/.default")
    answer = requests.post(
        f"{teams.base_url}/v1.0/teams/{standin.TEAM_ID}/channels",
        json={"displayName": "DUP"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "NameAlreadyExists"
    assert answer.json()["error"]["message"].startswith("Channel name already existed")


def test_cards_are_posted_and_the_summary_updated_in_place(teams, client):
    channel = client.channel_create("incident-card")
    card = summary_card(
        title="INC-1 P0", facts=[("Status", "Declared")], actions=[("Acknowledge", "ack")]
    )
    activity = client.post(channel.id, card=card)
    reply = client.post(channel.id, text="an update", reply_to=activity)
    updated = summary_card(title="INC-1 P0", facts=[("Status", "Acknowledged")])
    client.update(channel.id, activity, card=updated)
    posts = teams.state()["posts"]
    assert posts[activity]["version"] == 2
    assert posts[activity]["cards"][0]["body"][1]["facts"][0]["value"] == "Acknowledged"
    assert posts[reply]["replyToId"] == activity and posts[reply]["text"] == "an update"
    with pytest.raises(VendorRejected) as missing:
        client.update(channel.id, "1699999999999", card=updated)
    assert missing.value.status == 404


def test_invites_add_people_to_the_team_and_report_unknown_ones(teams, client):
    iris = standin.aad_id("ic")
    result = client.members_add([iris, "ravi@nowhere.example", "responder@nexus.example"])
    assert result.invited == (iris, "responder@nexus.example")
    assert result.failed == {"ravi@nowhere.example": "NotFound"}
    again = client.members_add([iris])
    assert again.already == (iris,)
    assert client.user_email(iris) == "ic@nexus.example"
    assert client.user_email("00000000-0000-0000-0000-000000000000") == ""


def test_a_missing_permission_is_graphs_403(teams, client):
    teams.command("permissions", {"roles": ["User.Read.All"]})
    with pytest.raises(VendorRejected) as denied:
        client.channel_create("no-permission")
    assert denied.value.status == 403 and denied.value.code == "Forbidden"
    assert _channels(teams) == []


def test_app_only_channel_messages_through_graph_are_forbidden(teams, client):
    channel = client.channel_create("graph-post")
    with pytest.raises(VendorRejected) as denied:
        client._graph(
            "POST", f"{client._channel_path(channel.id)}/messages", json={"body": {"content": "x"}}
        )
    assert denied.value.status == 403


def test_a_wrong_secret_gets_no_token(teams, settings):
    settings.TEAMS_APP_PASSWORD = "wrong"
    with pytest.raises(VendorRejected) as refused:
        TeamsClient.default().channel_create("x")
    assert refused.value.code == "invalid_client"


def test_rate_limits_are_429_with_retry_after(teams, client):
    client.channel_create("first")  # holds a token now: the next call goes to Graph
    teams.inject(429, retry_after=7)
    with pytest.raises(RateLimited) as limited:
        client.channel_create("limited")
    assert limited.value.retry_after == 7.0


def test_a_bot_not_installed_cannot_post(teams, client):
    channel = client.channel_create("uninstalled")
    teams.command("uninstall")
    with pytest.raises(VendorRejected) as denied:
        client.post(channel.id, text="hello")
    assert denied.value.code == "BotNotInConversationRoster"


def test_a_retried_post_finds_its_first_attempt_by_key(teams, client):
    channel = client.channel_create("keyed")
    first = client.post(channel.id, card=with_key(text_card("Acknowledged by Iris"), "INC-1:7"))
    client.post(channel.id, card=with_key(text_card("later"), "INC-1:8"))
    assert client.message_find(channel.id, "INC-1:7") == first
    assert client.message_find(channel.id, "INC-1:9") is None
    teams.command(
        "permissions", {"roles": sorted(standin.DEFAULT_ROLES - {"ChannelMessage.Read.All"})}
    )
    with pytest.raises(VendorRejected) as denied:
        client.message_find(channel.id, "INC-1:7")
    assert denied.value.status == 403


def test_people_are_found_by_email(teams, client):
    assert client.user_id("ic@nexus.example") == standin.aad_id("ic")
    assert client.user_id("nobody@nexus.example") is None


def test_without_read_permission_the_provider_cannot_find_a_post_and_says_none(teams, client):
    from nexusops.integrations.teams.provider import TeamsProvider

    channel = client.channel_create("unreadable")
    roles = sorted(standin.DEFAULT_ROLES - {"ChannelMessage.Read.All"})
    teams.command("permissions", {"roles": roles})
    assert TeamsProvider(client).message_find(channel.id, "INC-1:7") is None
