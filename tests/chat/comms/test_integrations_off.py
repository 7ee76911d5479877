"""The command page says which integrations are switched off, from the senders themselves."""

import pytest
from django.urls import reverse
from django.utils.html import strip_tags

from incidents.deliveries.integrations import integrations_off
from nexusops.common import roles
from tests.factories import UserFactory, incident

pytestmark = pytest.mark.django_db


def _page(client, user, inc) -> str:
    client.force_login(user)
    response = client.get(reverse("incident-detail", args=[inc.number]))
    assert response.status_code == 200
    return " ".join(strip_tags(response.content.decode()).split())


def test_the_command_page_lists_slack_as_off_with_its_reason(client, settings, slack):
    ic = UserFactory(username="iris", role=roles.INCIDENT_COMMANDER)
    inc = incident(actor=ic)
    settings.SLACK_API_URL = ""  # Slack switched off; PagerDuty was never configured
    text = _page(client, ic, inc)
    assert "Integrations off" in text
    assert "Slack is not configured (SLACK_API_URL, SLACK_BOT_TOKEN)." in text
    assert "Not sent: " in text and "Slack message" in text
    assert "PagerDuty events are not configured" in text
    assert "Per-person paging is not configured" in text


def test_a_configured_integration_is_not_listed(settings, slack, pagerduty):
    reasons = " ".join(i.reason for i in integrations_off())
    assert "Slack" not in reasons and "PagerDuty events" not in reasons
    settings.SLACK_BOT_TOKEN = ""
    [slack_off] = [i for i in integrations_off() if i.reason.startswith("Slack")]
    assert {"Slack channel set-up", "Slack message", "Slack summary edit"} <= set(slack_off.affects)


def test_a_stakeholder_does_not_see_the_panel(client, settings):
    viewer = UserFactory(username="sam", role=roles.STAKEHOLDER)
    inc = incident()
    assert "Integrations off" not in _page(client, viewer, inc)


def test_a_chat_nobody_chose_is_not_listed_as_off(settings, slack):
    settings.NEXUSOPS_CHAT = "slack"
    for name in ("TEAMS_TENANT_ID", "MATTERMOST_URL"):
        setattr(settings, name, "")
    reasons = " ".join(i.reason for i in integrations_off())
    assert "Teams" not in reasons and "Mattermost" not in reasons
    # Chosen but not configured: then it is off, and says why.
    settings.NEXUSOPS_CHAT = "slack,teams,mattermost"
    affected = {label for i in integrations_off() for label in i.affects}
    assert {"Microsoft Teams bot answer", "Mattermost command answer"} <= affected
