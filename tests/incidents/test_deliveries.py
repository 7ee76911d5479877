"""The command page's Deliveries panel: the incident's outbox, polled like the live endpoint."""

from __future__ import annotations

import pytest
from django.urls import reverse

from nexusops.common import clock, roles
from nexusops.engine.models import OutboxMessage
from tests.factories import UserFactory, incident

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ic(db):
    return UserFactory(username="iris", role=roles.INCIDENT_COMMANDER)


def _poll(client, inc, version: str):  # noqa: ANN001
    return client.get(reverse("status-deliveries", args=[inc.number]), {"v": version}, **HTMX)


def _version(html: str) -> str:
    import html as html_lib
    import json
    import re

    vals = re.search(r"hx-vals='([^']*)'", html)
    assert vals, "the panel polls"
    return json.loads(html_lib.unescape(vals.group(1)))["v"]


def test_deliveries_panel_polls_every_2s_and_follows_a_message_to_sent(client, ic):
    """The panel used to refresh every 15 s with the whole table each time; it polls like the
    live endpoint: 204 while nothing moved, the panel once a row changed, 286 when settled."""
    inc = incident(services=("api-gateway",))
    now = clock.now()
    message = OutboxMessage.objects.create(
        key=f"test-sending-{inc.pk}",
        target="slack.post",
        incident=inc,
        state=OutboxMessage.State.SENDING,
        attempts=1,
        next_attempt_at=now,
        created_at=now,
    )
    client.force_login(ic)
    page = client.get(reverse("incident-detail", args=[inc.number])).content.decode()
    assert 'hx-trigger="every 2s"' in page.split('id="status-deliveries"')[1].split(">")[0]
    version = _version(page.split('id="status-deliveries"')[1])
    assert _poll(client, inc, version).status_code == 204

    OutboxMessage.objects.filter(pk=message.pk).update(
        state=OutboxMessage.State.SENT, sent_at=clock.now()
    )
    moved = _poll(client, inc, version)
    html = moved.content.decode()
    assert moved.status_code == 200
    assert f'id="delivery-{message.pk}" class="state-sent"' in html
    assert "Sending" not in html
    assert _poll(client, inc, _version(html)).status_code == 204

    # Closed and nothing on its way: the last answer carries the panel without a poll trigger.
    type(inc).objects.filter(pk=inc.pk).update(status="closed")
    done = _poll(client, inc, _version(html))
    assert done.status_code == 286
    assert "every 2s" not in done.content.decode()
    assert f'id="delivery-{message.pk}"' in done.content.decode()
