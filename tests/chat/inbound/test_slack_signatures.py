"""Every Slack endpoint refuses unsigned, forged, tampered and stale requests, changing nothing."""

from __future__ import annotations

import json
import time

import pytest

from incidents.models import TimelineEvent
from nexusops.engine.models import InboundDelivery

from .conftest import CHANNEL, SLACK_SECRET, form, slack_headers

pytestmark = pytest.mark.django_db


def _bodies(response_url: str) -> dict[str, tuple[bytes, str]]:
    urlenc = "application/x-www-form-urlencoded"
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ALICE"},
        "response_url": response_url,
        "actions": [{"action_id": "incident_ack", "value": "X"}],
    }
    event = {
        "type": "event_callback",
        "event_id": "Ev0SIG",
        "event": {
            "type": "message",
            "channel": CHANNEL,
            "user": "U0ALICE",
            "text": "!timeline forged",
        },
    }
    return {
        "/slack/commands/": (
            form(
                command="/incident",
                text="ack",
                user_id="U0ALICE",
                channel_id=CHANNEL,
                response_url=response_url,
            ),
            urlenc,
        ),
        "/slack/interactivity/": (form(payload=json.dumps(payload)), urlenc),
        "/slack/events/": (json.dumps(event).encode(), "application/json"),
    }


URLS = ["/slack/commands/", "/slack/interactivity/", "/slack/events/"]


def _case(case: str, body: bytes) -> tuple[bytes, dict]:
    if case == "missing":
        return body, {}
    if case == "forged":
        return body, slack_headers(body, secret="not-the-secret")
    if case == "tampered":
        return body.replace(b"U0ALICE", b"U0BOBBY"), slack_headers(body)
    if case == "stale":
        return body, slack_headers(body, ts=int(time.time()) - 301)
    if case == "future":
        # Well past the 5-minute window even if the clock ticks before it is checked.
        return body, slack_headers(body, ts=int(time.time()) + 310)
    if case == "garbage-timestamp":
        headers = slack_headers(body)
        headers["HTTP_X_SLACK_REQUEST_TIMESTAMP"] = "yesterday"
        return body, headers
    raise AssertionError(case)


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(
    "case", ["missing", "forged", "tampered", "stale", "future", "garbage-timestamp"]
)
def test_bad_signature_is_401_and_changes_nothing(
    post, slack_hooks, alice, live_incident, url, case
):
    body, content_type = _bodies(slack_hooks.response_url)[url]
    sent, headers = _case(case, body)
    before = TimelineEvent.objects.count()
    response = post(url, sent, headers, content_type)
    assert response.status_code == 401, response.content
    assert "error" in response.json()
    assert TimelineEvent.objects.count() == before
    assert not InboundDelivery.objects.exists()
    assert slack_hooks.received() == []


@pytest.mark.parametrize("url", URLS)
def test_signing_secret_unset_is_503(post, settings, slack_hooks, alice, live_incident, url):
    settings.SLACK_SIGNING_SECRET = ""
    body, content_type = _bodies(slack_hooks.response_url)[url]
    response = post(url, body, slack_headers(body, secret=SLACK_SECRET), content_type)
    assert response.status_code == 503
    assert "SLACK_SIGNING_SECRET" in response.json()["error"]
    assert TimelineEvent.objects.count() == 1  # only the declaration


@pytest.mark.parametrize("url", URLS)
def test_get_is_not_allowed(client, url):
    assert client.get(url).status_code == 405
