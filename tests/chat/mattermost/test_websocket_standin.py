"""The Mattermost stand-in's WebSocket is as strict as Mattermost's: a raw ``websocket-client``
connection sees the protocol itself (authentication, ``hello``, ``seq``, refusals)."""

from __future__ import annotations

import json

import pytest
import websocket

from nexusops.integrations.errors import VendorRejected
from nexusops.integrations.mattermost.client import MattermostClient
from nexusops.integrations.mattermost.events import MattermostEvents, post_of, websocket_url
from nexusops.standins.control import StandinControl
from nexusops.standins.mattermost.words import BOT_USER_ID, TEAM_ID, TOKEN, user_token


@pytest.fixture
def mm(_mattermost_server) -> StandinControl:
    control = StandinControl(_mattermost_server.base_url)
    control.reset()
    return control


def _open(mm: StandinControl, **options) -> websocket.WebSocket:
    return websocket.create_connection(websocket_url(mm.base_url), timeout=5, **options)


def _ask(ws: websocket.WebSocket, request: dict) -> dict:
    ws.send(json.dumps(request))
    return json.loads(ws.recv())


def test_authentication_then_hello_then_numbered_events(mm):
    ws = _open(mm)
    refused = _ask(ws, {"seq": 1, "action": "user_typing", "data": {}})
    assert refused["status"] == "FAIL" and refused["seq_reply"] == 1
    assert refused["error"]["id"] == "api.web_socket_router.not_authenticated.app_error"
    assert _ask(ws, {"seq": 0, "action": "x"})["error"]["id"].endswith("bad_seq.app_error")
    assert _ask(ws, {"seq": 2})["error"]["id"].endswith("no_action.app_error")

    ws.send(json.dumps({"seq": 3, "action": "authentication_challenge", "data": {"token": TOKEN}}))
    hello, ok = json.loads(ws.recv()), json.loads(ws.recv())
    assert hello["event"] == "hello" and hello["seq"] == 0
    assert hello["broadcast"]["user_id"] == BOT_USER_ID and hello["data"]["connection_id"]
    assert ok == {"status": "OK", "seq_reply": 3}

    bot = MattermostClient(mm.base_url, TOKEN, TEAM_ID)
    channel = bot.channel_create("ws-seq", "WS seq")
    first, second = (bot.post_create(channel.id, text) for text in ("one", "two"))
    bot.post_pin(first)
    bot.post_pin(second)
    events = [json.loads(ws.recv()), json.loads(ws.recv())]
    assert [e["event"] for e in events] == ["post_edited", "post_edited"]
    assert [e["seq"] for e in events] == [1, 2]
    assert events[0]["broadcast"]["channel_id"] == channel.id
    assert post_of(events[0])["id"] == first and post_of(events[0])["is_pinned"] is True
    assert [p["id"] for p in bot.pinned_posts(channel.id)] == [second, first]
    ws.close()


@pytest.mark.parametrize("data", [{"token": "x"}, {}, {"token": 42}, None])
def test_a_bad_or_missing_token_closes_the_connection(mm, data):
    ws = _open(mm)
    ws.send(json.dumps({"seq": 1, "action": "authentication_challenge", "data": data}))
    opcode, _ = ws.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE  # closed without a reply, as Mattermost does
    assert not [s for s in mm.state()["websockets"] if s["user_id"]]


def test_a_bad_header_token_is_a_401(mm):
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        _open(mm, header=["Authorization: Bearer not-a-token"])
    assert refused.value.status_code == 401
    with pytest.raises(VendorRejected, match="refused the token"):
        MattermostEvents(mm.base_url, "not-a-token", timeout=3).connect()


def test_an_unauthenticated_connection_is_closed_after_the_auth_window(_mattermost_server, mm):
    _mattermost_server.app.auth_timeout = 0.3
    try:
        ws = _open(mm)
        opcode, data = ws.recv_data(control_frame=True)
        assert opcode == websocket.ABNF.OPCODE_CLOSE and b"did not authenticate" in data
    finally:
        _mattermost_server.app.auth_timeout = 5.0


def test_pinned_posts_need_membership(mm):
    bot = MattermostClient(mm.base_url, TOKEN, TEAM_ID)
    channel = bot.channel_create("members-only", "Members only")
    outsider = MattermostClient(mm.base_url, user_token("robin"), TEAM_ID)
    with pytest.raises(VendorRejected) as refused:
        outsider.pinned_posts(channel.id)
    assert refused.value.status == 403
