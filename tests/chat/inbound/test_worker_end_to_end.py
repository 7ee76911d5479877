"""One path with nothing stood in for but Slack: a real worker consumes the task from the
broker, the services change the database, the outbox sets up the Slack channel, and the
reply reaches the response_url on the Slack stand-in."""

from __future__ import annotations

import pytest
from django.test import Client

from incidents.models import Channel, Incident, Status
from nexusops.common import roles
from tests.conftest import _await_ready
from tests.factories import ProfileFactory, ServiceFactory, UserFactory, severities
from tests.support.worker import WorkerProcess, wait_for

from .conftest import RESPONSE_PATH, SLACK_SECRET, form, slack_headers


@pytest.fixture
def slack_worker(slack, settings, transactional_db):
    settings.SLACK_SIGNING_SECRET = SLACK_SECRET
    worker = WorkerProcess(extra_env=slack.env).start()
    try:
        _await_ready(worker)
        yield worker
    finally:
        worker.stop()


def _command(text: str, *, channel: str, response_url: str):
    body = form(
        command="/incident",
        text=text,
        user_id="U0ALICE",
        channel_id=channel,
        response_url=response_url,
    )
    return Client().post(
        "/slack/commands/",
        data=body,
        content_type="application/x-www-form-urlencoded",
        **slack_headers(body),
    )


@pytest.mark.django_db(transaction=True)
def test_declare_then_ack_through_a_real_worker(slack, slack_worker):
    severities()
    ServiceFactory(slug="api-gateway")
    alice = UserFactory(username="alice", role=roles.INCIDENT_COMMANDER)
    ProfileFactory(user=alice, slack_user_id="U0ALICE")
    response_url = f"{slack.base_url}{RESPONSE_PATH}"

    answer = _command(
        "declare P2 Checkout slow --services api-gateway",
        channel="C0GENERAL",
        response_url=response_url,
    )
    assert answer.json()["text"].startswith("Declaring a P2 incident")

    incident = wait_for(
        lambda: Incident.objects.filter(title="Checkout slow").first(),
        timeout=30,
        message="the worker to declare the incident",
    )
    assert incident.source == Channel.SLACK
    wait_for(lambda: slack.received(RESPONSE_PATH), timeout=30, message="the reply")
    # the outbox (same worker, notifications queue) created the incident's channel
    channel_id = wait_for(
        lambda: (
            Incident.objects.filter(pk=incident.pk)
            .values_list("slack_channel_id", flat=True)
            .first()
        ),
        timeout=30,
        message="the Slack channel set-up",
    )

    answer = _command("ack", channel=channel_id, response_url=response_url)
    assert answer.json()["text"] == f"Acknowledging {incident.number}…"
    wait_for(
        lambda: Incident.objects.get(pk=incident.pk).status == Status.ACKNOWLEDGED,
        timeout=30,
        message="the worker to acknowledge",
    )
    replies = wait_for(
        lambda: len(slack.received(RESPONSE_PATH)) == 2 and slack.received(RESPONSE_PATH),
        timeout=30,
        message="the second reply",
    )
    assert incident.number in replies[-1]["body"]["text"]
    assert replies[-1]["body"]["response_type"] == "ephemeral"
