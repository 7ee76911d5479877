"""The Slack adapter, with the real slack_sdk over HTTP against the Slack stand-in."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from nexusops.common.errors import RetryableError
from nexusops.integrations.errors import (
    NotConfigured,
    RateLimited,
    VendorRejected,
    VendorUnavailable,
)
from nexusops.integrations.slack import messages
from nexusops.integrations.slack.client import SlackClient, response_url_post
from nexusops.integrations.slack.messages import escape_mrkdwn, incident_channel_name
from nexusops.standins import demo
from nexusops.standins.slack import BOT_USER_ID
from tests.support.standin_fixtures import SLACK_TOKEN
from tests.support.subproc import free_port


def _calls(slack, method: str) -> list[dict]:
    return [r["body"] for r in slack.received(f"/api/{method}")]


def test_incident_channel_is_created_set_up_and_the_summary_pinned(slack):
    client = SlackClient.default()
    name = incident_channel_name("INC-20261126-001")

    channel = client.channel_create(name)
    client.set_topic(channel.id, "P1 | Payments API 5xx | IC: Dana")
    client.set_purpose(channel.id, "Incident INC-20261126-001")
    invited = client.invite(channel.id, ["U02BBB", "U01AAA"])
    blocks = [messages.header("INC-20261126-001"), messages.section("*Status:* investigating")]
    ts = client.post_message(channel.id, "INC-20261126-001 declared", blocks)
    client.pin(channel.id, ts)

    assert channel.name == "incident-20261126-001" and channel.created
    assert _calls(slack, "conversations.create") == [
        {"name": "incident-20261126-001", "is_private": "0"}
    ]
    assert _calls(slack, "conversations.setTopic") == [
        {"channel": channel.id, "topic": "P1 | Payments API 5xx | IC: Dana"}
    ]
    assert _calls(slack, "conversations.setPurpose")[0]["purpose"] == "Incident INC-20261126-001"
    assert _calls(slack, "conversations.invite") == [
        {"channel": channel.id, "users": "U02BBB,U01AAA"}
    ]
    assert invited.invited == ("U02BBB", "U01AAA") and not invited.failed
    (posted,) = _calls(slack, "chat.postMessage")
    assert posted["channel"] == channel.id and posted["blocks"] == blocks
    assert _calls(slack, "pins.add") == [{"channel": channel.id, "timestamp": ts}]
    every = slack.received()
    assert all(r["headers"]["Authorization"] == f"Bearer {SLACK_TOKEN}" for r in every)


def test_name_taken_reuses_the_live_channel_of_that_name(slack):
    client = SlackClient.default()
    first = client.channel_create("incident-20261126-002")

    again = client.channel_create("incident-20261126-002")

    assert again == first.__class__(id=first.id, name=first.name, created=False)
    assert [r["path"] for r in slack.received()][-2:] == [
        "/api/conversations.create",
        "/api/conversations.list",
    ]
    assert len(slack.state()["channels"]) == 1


def test_name_taken_by_an_archived_channel_gets_a_suffix(slack):
    client = SlackClient.default()
    old = client.channel_create("incident-20261126-003")
    client.archive(old.id)

    new = client.channel_create("incident-20261126-003")

    assert new.created and new.name == "incident-20261126-003-2" and new.id != old.id
    assert [b["name"] for b in _calls(slack, "conversations.create")] == [
        "incident-20261126-003",
        "incident-20261126-003",
        "incident-20261126-003-2",
    ]


def test_update_message_and_idempotent_repeats(slack):
    client = SlackClient.default()
    channel = client.channel_create("incident-20261126-004")
    ts = client.post_message(channel.id, "declared")

    client.update_message(channel.id, ts, "resolved", [messages.section("*resolved*")])
    client.pin(channel.id, ts)
    client.pin(channel.id, ts)  # already_pinned: a retried task must not fail
    client.invite(channel.id, ["U01AAA"])
    client.invite(channel.id, ["U01AAA"])  # already_in_channel
    client.archive(channel.id)
    client.archive(channel.id)  # already_archived

    (update,) = _calls(slack, "chat.update")
    assert update["ts"] == ts and update["text"] == "resolved"
    assert slack.state()["messages"][channel.id][ts]["text"] == "resolved"
    assert slack.state()["pins"][channel.id] == [ts]
    assert slack.state()["channels"][channel.id]["is_archived"] is True


def test_a_title_cannot_ping_or_inject_links_once_escaped(slack):
    client = SlackClient.default()
    channel = client.channel_create("incident-20261126-005")
    title = "DB down <!channel> @here <http://evil.example|click> & <@U999>"

    client.post_message(channel.id, escape_mrkdwn(title))

    text = _calls(slack, "chat.postMessage")[0]["text"]
    assert "<" not in text and ">" not in text
    assert "&lt;!channel&gt;" in text
    assert "&lt;http://evil.example|click&gt;" in text
    assert "&amp;" in text
    assert "@here" not in text and "@\u200bhere" in text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<!here> now", "&lt;!here&gt; now"),
        ("@here and @Channel", "@\u200bhere and @\u200bChannel"),
        ("<http://x|y>", "&lt;http://x|y&gt;"),
        ("a & b", "a &amp; b"),
        ("&lt;", "&amp;lt;"),
        ("email@here.com", "email@here.com"),
    ],
)
def test_escape_mrkdwn(raw, expected):
    assert escape_mrkdwn(raw) == expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("INC-20261126-001", "incident-20261126-001"),
        ("inc-20261126-042", "incident-20261126-042"),
        ("INC 2026/11.26 #7", "incident-2026-11-26-7"),
    ],
)
def test_incident_channel_name(number, expected):
    assert incident_channel_name(number) == expected


def test_incident_channel_name_stays_within_slack_rules():
    name = incident_channel_name("INC-" + "Ä9" * 100)
    assert len(name) <= 80
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-_")
    with pytest.raises(ValueError):
        incident_channel_name("INC-")


def test_a_single_429_is_retried_transparently(slack):
    slack.inject(429, times=1, retry_after=0)

    assert SlackClient.default().auth_test()["ok"] is True

    assert len(slack.received("/api/auth.test")) == 2


def test_429_after_retries_becomes_rate_limited_with_retry_after(slack):
    slack.inject(429, times=2, retry_after=0)

    with pytest.raises(RateLimited) as caught:
        SlackClient.default().auth_test()

    assert caught.value.retry_after == 0
    assert len(slack.received("/api/auth.test")) == 2  # first try + one retry


def test_rate_limited_carries_slacks_retry_after_for_the_task(slack):
    slack.inject(429, times=1, retry_after=30)

    with pytest.raises(RateLimited) as caught:
        SlackClient.default(rate_limit_retries=0).post_message("C1", "hi")

    assert caught.value.retry_after == 30.0
    assert isinstance(caught.value, RetryableError)


def test_500_becomes_vendor_unavailable(slack):
    slack.inject(500, times=1)

    with pytest.raises(VendorUnavailable) as caught:
        SlackClient.default().auth_test()

    assert caught.value.status == 500 and isinstance(caught.value, RetryableError)


def test_a_timeout_becomes_vendor_unavailable(slack):
    slack.inject(times=1, latency_ms=600)

    with pytest.raises(VendorUnavailable):
        SlackClient.default(timeout=0.2).auth_test()


def test_slack_errors_are_rejections_not_retries(slack, settings):
    client = SlackClient.default()
    with pytest.raises(VendorRejected) as caught:
        client.set_topic("C404", "topic")
    assert caught.value.code == "channel_not_found"
    assert not isinstance(caught.value, RetryableError)

    settings.SLACK_BOT_TOKEN = "not-a-slack-token"
    with pytest.raises(VendorRejected) as caught:
        SlackClient.default().auth_test()
    assert caught.value.code == "invalid_auth"


def test_not_configured_when_settings_are_unset(settings):
    for name in ("SLACK_API_URL", "SLACK_BOT_TOKEN"):
        if hasattr(settings, name):
            delattr(settings, name)

    with pytest.raises(NotConfigured):
        SlackClient.default()
    assert SlackClient.default_or_none() is None

    settings.SLACK_API_URL = "http://127.0.0.1:9/api/"
    settings.SLACK_BOT_TOKEN = ""
    assert SlackClient.default_or_none() is None


# --- the stand-in is as strict as Slack -------------------------------------------------------
def _raw(slack, method: str, **args) -> tuple[int, dict, dict]:
    """One Web API call over plain HTTP, to see exactly what the stand-in answers."""
    request = urllib.request.Request(
        f"{slack.base_url}/api/{method}",
        data=urllib.parse.urlencode(args).encode(),
        headers={"Authorization": f"Bearer {SLACK_TOKEN}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read() or b"{}")


def _members(slack, channel_id: str) -> list[str]:
    return slack.state()["channels"][channel_id]["members"]


def test_standin_invite_is_all_or_nothing_like_slack(slack):
    channel = SlackClient.default().channel_create("incident-20261127-010")
    _raw(slack, "conversations.invite", channel=channel.id, users="U01AAA")

    _, _, answer = _raw(
        slack, "conversations.invite", channel=channel.id, users="U02BBB,U01AAA,U0GHOST"
    )

    assert answer["ok"] is False and answer["error"] == "already_in_channel"
    assert answer["errors"] == [
        {"user": "U01AAA", "ok": False, "error": "already_in_channel"},
        {"user": "U0GHOST", "ok": False, "error": "user_not_found"},
    ]
    assert "U02BBB" not in _members(slack, channel.id)  # nobody was added
    _, _, answer = _raw(slack, "conversations.invite", channel=channel.id, users=BOT_USER_ID)
    assert answer["error"] == "cant_invite_self"


def test_standin_knows_its_people_by_id_and_email(slack):
    _, _, found = _raw(slack, "users.lookupByEmail", email="IC@nexus.example")
    _, _, missing = _raw(slack, "users.lookupByEmail", email="nobody@nexus.example")
    _, _, unknown = _raw(slack, "users.info", user="U0GHOST")

    assert found["ok"] and found["user"]["id"] == demo.slack_user_id("ic")
    assert missing == {"ok": False, "error": "users_not_found"}
    assert unknown == {"ok": False, "error": "user_not_found"}
    workspace = slack.state()["users"]
    for user_id, username, _name, email in demo.SLACK_USERS:
        assert workspace[user_id]["profile"]["email"] == email == f"{username}@nexus.example"


def test_standin_refuses_to_post_or_pin_where_the_bot_is_not_a_member(slack):
    client = SlackClient.default()
    channel = client.channel_create("incident-20261127-011")
    ts = client.post_message(channel.id, "declared")
    _raw(slack, "conversations.leave", channel=channel.id)

    _, _, post = _raw(slack, "chat.postMessage", channel=channel.id, text="hello")
    with pytest.raises(VendorRejected) as caught:
        client.pin(channel.id, ts)

    assert post == {"ok": False, "error": "not_in_channel"}
    assert caught.value.code == "not_in_channel"


def test_post_message_joins_a_public_channel_it_is_not_in(slack):
    client = SlackClient.default()
    channel = client.channel_create("announcements")
    _raw(slack, "conversations.leave", channel=channel.id)

    ts = client.post_message(channel.id, "INC-20261127-012 declared")

    assert [r["path"] for r in slack.received()][-3:] == [
        "/api/chat.postMessage",
        "/api/conversations.join",
        "/api/chat.postMessage",
    ]
    assert ts in slack.state()["messages"][channel.id]


def test_standin_rate_limits_each_method_by_its_tier_with_retry_after(slack):
    slack.command("rate-limits", {"window": 60})  # Slack's own minute
    client = SlackClient.default(rate_limit_retries=0)
    channel = client.channel_create("incident-20261127-013")

    for _ in range(20):  # conversations.setTopic is tier 2: 20 a minute
        client.set_topic(channel.id, "topic")
    with pytest.raises(RateLimited) as caught:
        client.set_topic(channel.id, "topic")
    status, headers, body = _raw(slack, "conversations.setTopic", channel=channel.id, topic="x")

    assert 1 <= caught.value.retry_after <= 60
    assert status == 429 and body["error"] == "ratelimited"
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert client.channel_members(channel.id)  # another method has its own budget


def test_a_rate_limited_call_waits_retry_after_and_succeeds(slack):
    # One call per 3 s: the second, made at once, waits for the window to pass.
    slack.command("rate-limits", {"window": 3, "limits": {"conversations.members": 1}})
    client = SlackClient.default()  # retries one 429 itself, after Retry-After
    channel = client.channel_create("incident-20261127-014")
    client.channel_members(channel.id)

    assert client.channel_members(channel.id) == {BOT_USER_ID}

    assert len(slack.received("/api/conversations.members")) == 3  # ok, 429, ok after waiting


# --- the client invites for real --------------------------------------------------------------
def test_invite_adds_the_missing_even_when_some_are_already_members(slack):
    client = SlackClient.default()
    channel = client.channel_create("incident-20261127-020")
    client.invite(channel.id, ["U01AAA"])

    result = client.invite(channel.id, ["U01AAA", "U02BBB"])

    assert result.invited == ("U02BBB",) and result.already == ("U01AAA",)
    assert {"U01AAA", "U02BBB"} <= set(_members(slack, channel.id))


def test_one_unknown_id_does_not_keep_the_others_out(slack):
    client = SlackClient.default()
    channel = client.channel_create("incident-20261127-021")

    result = client.invite(channel.id, ["U0GHOST", "U01AAA", BOT_USER_ID, "U02BBB"])

    assert set(result.invited) == {"U01AAA", "U02BBB"}
    assert result.already == (BOT_USER_ID,)  # the bot made the channel
    assert result.failed == {"U0GHOST": "user_not_found"}
    assert {"U01AAA", "U02BBB"} <= set(_members(slack, channel.id))
    assert "U0GHOST" not in _members(slack, channel.id)


def test_invites_go_in_batches(slack, settings):
    people = [{"id": f"U9{n:05d}", "name": f"p{n}", "email": ""} for n in range(150)]
    slack.command("users", {"users": people})
    client = SlackClient.default()
    channel = client.channel_create("incident-20261127-022")

    result = client.invite(channel.id, [p["id"] for p in people] + ["U0GHOST"])

    assert len(result.invited) == 150 and result.failed == {"U0GHOST": "user_not_found"}
    sizes = [len(b["users"].split(",")) for b in _calls(slack, "conversations.invite")]
    assert sizes == [100, 51, 50]  # the batch with the bad id, again without it


def test_invite_to_a_channel_that_does_not_exist_raises(slack):
    with pytest.raises(VendorRejected) as caught:
        SlackClient.default().invite("C404", ["U01AAA"])
    assert caught.value.code == "channel_not_found"


def test_lookup_by_email(slack):
    client = SlackClient.default()
    assert client.user_lookup_by_email("responder@nexus.example") == demo.slack_user_id("responder")
    assert client.user_lookup_by_email("nobody@nexus.example") is None


# --- replies to an interaction's response_url ------------------------------------------------
RESPONSE_PATH = "/response/T0NEXUS/1234/abcd"


def test_response_url_reply_is_posted_as_json_by_the_adapter(slack):
    body = {"response_type": "ephemeral", "replace_original": False, "text": "Acknowledged."}

    response_url_post(f"{slack.base_url}{RESPONSE_PATH}", body)

    (received,) = slack.received(RESPONSE_PATH)
    assert received["method"] == "POST" and received["body"] == body
    assert received["headers"]["Content-Type"].startswith("application/json")


def test_response_url_5xx_is_retryable_and_4xx_is_not(slack):
    url = f"{slack.base_url}{RESPONSE_PATH}"
    slack.inject(503, times=1)
    with pytest.raises(VendorUnavailable) as caught:
        response_url_post(url, {"text": "x"})
    assert isinstance(caught.value, RetryableError)

    slack.inject(404, times=1)
    with pytest.raises(VendorRejected) as caught:
        response_url_post(url, {"text": "x"})
    assert caught.value.status == 404 and not isinstance(caught.value, RetryableError)
    assert [r["status"] for r in slack.received(RESPONSE_PATH)] == [503, 404]


def test_response_url_unreachable_is_retryable():
    port = free_port()
    with pytest.raises(VendorUnavailable) as caught:
        response_url_post(f"http://127.0.0.1:{port}{RESPONSE_PATH}", {"text": "x"}, timeout=2)
    assert isinstance(caught.value, RetryableError)
