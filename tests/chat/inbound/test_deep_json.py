"""Issue 14 item 6: signed payloads nested thousands deep answer 400, never 500.

The signatures are genuine, so the body reaches the parser; the alert endpoints already answer
400 for such a body, and the Slack and PagerDuty endpoints must do the same.
"""

from __future__ import annotations

import json

import pytest

from nexusops.engine.models import InboundDelivery

from .conftest import form, pd_headers, slack_headers

pytestmark = pytest.mark.django_db


def _nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("depth", [100, 5_000, 100_000])
def test_slack_event_nested_deep_is_400(post, depth):
    body = ('{"type":"event_callback","event_id":"Ev1","event":' + _nested(depth) + "}").encode()
    response = post("/slack/events/", body, slack_headers(body), "application/json")
    assert response.status_code == 400, response.content[:200]


@pytest.mark.parametrize("depth", [100, 5_000, 100_000])
def test_slack_interaction_nested_deep_is_400(post, depth):
    payload = '{"type":"block_actions","user":{"id":"U1"},"x":' + _nested(depth) + "}"
    body = form(payload=payload)
    response = post(
        "/slack/interactivity/", body, slack_headers(body), "application/x-www-form-urlencoded"
    )
    assert response.status_code == 400, response.content[:200]


@pytest.mark.parametrize("depth", [100, 5_000, 100_000])
def test_pagerduty_webhook_nested_deep_is_400(post, depth):
    event = {"id": "01EVT", "event_type": "incident.triggered", "data": {"id": "Q1"}}
    body = json.dumps({"event": event})[:-2] + ',"deep":' + _nested(depth) + "}}"
    body = body.encode()
    response = post("/webhooks/pagerduty/", body, pd_headers(body), "application/json")
    assert response.status_code == 400, response.content[:200]
    assert not InboundDelivery.objects.exists()
