"""A Slack user nobody linked is linked by the e-mail on their Slack profile, once."""

from __future__ import annotations

import pytest

from chat.inbound.people import user_for_slack
from incidents.models import Profile, TimelineEvent
from nexusops.common import roles
from tests.factories import ProfileFactory, UserFactory

from .conftest import CHANNEL, RESPONSE_PATH, form, slack_headers

pytestmark = pytest.mark.django_db


@pytest.fixture
def dana():
    user = UserFactory(username="dana", email="Dana@X.io", role=roles.INCIDENT_COMMANDER)
    ProfileFactory(user=user)
    return user


@pytest.fixture
def workspace(slack):
    slack.command(
        "users",
        {
            "users": [
                {"id": "U05DANA", "name": "dana", "email": "dana@x.io"},
                {"id": "U05TWIN", "name": "twin", "email": "twin@x.io"},
            ]
        },
    )
    return slack


def test_an_unlinked_slack_user_is_linked_by_email_once(workspace, dana):
    assert user_for_slack("U05DANA") == dana
    assert Profile.objects.get(user=dana).slack_user_id == "U05DANA"
    assert user_for_slack("U05DANA") == dana

    assert len(workspace.received("/api/users.info")) == 1


def test_nothing_is_linked_on_an_unknown_or_ambiguous_email(workspace, dana):
    UserFactory(username="twin1", email="twin@x.io")
    UserFactory(username="twin2", email="TWIN@x.io")

    assert user_for_slack("U05TWIN") is None
    assert user_for_slack("U0GHOST1") is None
    assert not Profile.objects.filter(slack_user_id__in=["U05TWIN", "U0GHOST1"]).exists()


def test_a_working_slack_id_is_not_replaced(workspace, dana):
    Profile.objects.filter(user=dana).update(slack_user_id="U0IRIS")

    assert user_for_slack("U05DANA") is None
    assert Profile.objects.get(user=dana).slack_user_id == "U0IRIS"


def test_a_slash_command_from_an_unlinked_user_links_them_and_runs_as_them(
    post, workspace, dana, settings, live_incident
):
    settings.SLACK_BOT_TOKEN = "xoxb-test-token"  # Slack on, for the lookup
    body = form(
        command="/incident",
        text="note Seen 502s from the LB",
        user_id="U05DANA",
        user_name="dana",
        channel_id=CHANNEL,
        trigger_id="1.2.3",
        response_url=f"{workspace.base_url}{RESPONSE_PATH}",
    )

    response = post(
        "/slack/commands/", body, slack_headers(body), "application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert "No NexusOps account is linked" not in response.json().get("text", "")
    assert Profile.objects.get(user=dana).slack_user_id == "U05DANA"
    note = TimelineEvent.objects.get(incident=live_incident, kind="note")
    assert note.actor == dana and "Seen 502s from the LB" in note.message
