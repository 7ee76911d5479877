"""The Stand-ins page against the stand-ins as ``make run`` starts them, after real traffic.

``python -m nexusops.standins`` runs in a child process on a free port base; the real client
of each vendor talks to it, then a signed-in user opens ``/standins/``.
"""

from __future__ import annotations

import pytest

from nexusops.integrations.argocd.client import ArgoCDClient
from nexusops.integrations.kubernetes.client import KubernetesClient
from nexusops.integrations.pagerduty.client import PagerDutyClient
from nexusops.integrations.slack.client import SlackClient
from nexusops.integrations.statuspage.client import StatuspageClient
from nexusops.standins import demo
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.nexusops.standins_urls")]


def test_the_page_shows_what_each_vendor_received(client, demo_settings):
    channel = SlackClient.default().channel_create("incident-20261127-001")
    SlackClient.default().post_message(channel.id, "INC-20261127-001 declared")
    PagerDutyClient.default().trigger(
        "INC-20261127-001", "Checkout failing", "critical", "nexusops"
    )
    StatuspageClient.default().components_list()
    KubernetesClient.from_settings().list_pods()
    ArgoCDClient.from_settings().get_app("nexus-platform")
    client.force_login(UserFactory(username="viewer"))

    response = client.get("/standins/")

    assert response.status_code == 200
    page = response.content.decode()
    sections = {
        label: page.split(f"<h2>{label} ", 1)[1].split("</section>", 1)[0]
        for label in ("Slack", "PagerDuty", "Statuspage", "Kubernetes", "ArgoCD")
    }
    assert "POST /api/conversations.create" in sections["Slack"]
    assert "incident-20261127-001" in sections["Slack"]
    assert "POST /api/chat.postMessage" in sections["Slack"]
    assert "POST /v2/enqueue" in sections["PagerDuty"]
    assert "INC-20261127-001" in sections["PagerDuty"]
    assert f"/pages/{demo.STATUSPAGE_PAGE_ID}/components" in sections["Statuspage"]
    assert "GET /api/v1/namespaces/nexus-production/pods" in sections["Kubernetes"]
    assert "GET /api/v1/applications/nexus-platform" in sections["ArgoCD"]
    assert "not reachable" not in page and "did not answer" not in page


def test_the_page_shows_teams_cards_with_their_buttons(client, demo_settings):
    from nexusops.integrations.teams.cards import summary_card
    from nexusops.integrations.teams.client import TeamsClient

    teams = TeamsClient.default()
    channel = teams.channel_create("incident-20261127-002")
    card = summary_card(
        title="INC-20261127-002: Checkout failing",
        facts=[("Status", "Triggered")],
        actions=[("Acknowledge", "acknowledge")],
        incident="INC-20261127-002",
    )
    teams.post(channel.id, card=card)
    client.force_login(UserFactory(username="viewer"))

    page = client.get("/standins/").content.decode()

    cards = page.split("<h2>Microsoft Teams cards</h2>", 1)[1].split("</section>", 1)[0]
    assert "INC-20261127-002: Checkout failing" in cards
    assert 'name="action" value="acknowledge"' in cards
    assert 'name="incident" value="INC-20261127-002"' in cards
    received = page.split("<h2>Microsoft Teams ", 2)[2].split("</section>", 1)[0]
    assert "POST /v1.0/teams/" in received and "/v3/conversations/" in received
