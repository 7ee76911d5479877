"""Shared helpers for the inbound tests: real signatures, linked users, inline tasks.

Tasks run inline (Celery's eager mode) inside captured on-commit callbacks, the way they run
after a real commit. Outbound Slack posting stays off (no bot token), so the only HTTP call
is the reply to ``response_url``, aimed at the Slack stand-in, which records it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import pytest

from incidents.models import Incident
from nexusops.celery import app as celery_app
from nexusops.common import roles
from nexusops.integrations.slack.messages import slack_signature
from nexusops.standins.control import StandinControl
from tests.factories import ProfileFactory, UserFactory, incident

SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
PD_SECRET = "whsec-current"
PD_OLD_SECRET = "whsec-previous"
CHANNEL = "C0INCIDENT1"
RESPONSE_PATH = "/response/T0NEXUS/1234/abcd"


def slack_headers(body: bytes, *, secret: str = SLACK_SECRET, ts: int | None = None) -> dict:
    stamp = str(int(time.time()) if ts is None else ts)
    return {
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": stamp,
        "HTTP_X_SLACK_SIGNATURE": slack_signature(secret, stamp, body),
    }


def pd_headers(body: bytes, *secrets: str) -> dict:
    entries = [
        "v1=" + hmac.new(s.encode(), body, hashlib.sha256).hexdigest()
        for s in secrets or (PD_SECRET,)
    ]
    return {"HTTP_X_PAGERDUTY_SIGNATURE": ",".join(entries)}


def form(**fields) -> bytes:
    return urlencode(fields).encode()


def pd_body(
    event_type: str,
    *,
    event_id: str = "01EVT0001",
    incident_key: str = "",
    pd_id: str = "Q0PD0001",
    agent: dict | None = None,
    **data,
) -> bytes:
    return json.dumps(
        {
            "event": {
                "id": event_id,
                "event_type": event_type,
                "resource_type": "incident",
                "occurred_at": "2026-11-26T09:14:00.000Z",
                "agent": agent
                or {"id": "PAGENT1", "summary": "Alice Agent", "type": "user_reference"},
                "data": {"id": pd_id, "type": "incident", "incident_key": incident_key, **data},
            }
        }
    ).encode()


@pytest.fixture
def secrets(settings):
    settings.SLACK_SIGNING_SECRET = SLACK_SECRET
    settings.PAGERDUTY_WEBHOOK_SECRET = f"{PD_SECRET},{PD_OLD_SECRET}"
    # Outbound vendors off: a change here enqueues nothing, so only our reply goes out.
    settings.SLACK_BOT_TOKEN = ""
    settings.PAGERDUTY_ROUTING_KEY = ""
    settings.PAGERDUTY_API_TOKEN = ""


@pytest.fixture
def slack_hooks(settings, _slack_server) -> StandinControl:
    """The Slack stand-in as the ``response_url`` host (SLACK_API_URL points at it)."""
    control = StandinControl(_slack_server.base_url)
    control.reset()
    settings.SLACK_API_URL = f"{_slack_server.base_url}/api/"
    control.response_url = f"{_slack_server.base_url}{RESPONSE_PATH}"
    return control


@pytest.fixture
def inline_tasks():
    before = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = before


@pytest.fixture
def post(client, django_capture_on_commit_callbacks, inline_tasks, secrets):
    """POST a raw body; after-commit callbacks (the task hand-off) run, tasks inline."""

    def send(url: str, body: bytes, headers: dict, content_type: str):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data=body, content_type=content_type, **headers)

    return send


@pytest.fixture
def alice(db):
    user = UserFactory(username="alice", first_name="Alice", role=roles.INCIDENT_COMMANDER)
    ProfileFactory(user=user, slack_user_id="U0ALICE", pagerduty_user_id="PAGENT1")
    return user


@pytest.fixture
def bob(db):
    user = UserFactory(username="bob", role=roles.INCIDENT_COMMANDER)
    ProfileFactory(user=user, slack_user_id="U0BOB")
    return user


@pytest.fixture
def stakeholder(db):
    user = UserFactory(username="sam", role=roles.STAKEHOLDER)
    ProfileFactory(user=user, slack_user_id="U0SAM")
    return user


@pytest.fixture
def live_incident(db) -> Incident:
    """A triggered incident whose Slack channel is ``CHANNEL``."""
    found = incident(title="Checkout errors")
    Incident.objects.filter(pk=found.pk).update(slack_channel_id=CHANNEL)
    found.refresh_from_db()
    return found
