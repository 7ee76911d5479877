"""Public updates mirrored to Atlassian Statuspage, over HTTP against the stand-in."""

from __future__ import annotations

import pytest

from incidents.models import Incident
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import outbox_deliver
from nexusops.integrations.statuspage.client import StatuspageClient
from statuspage.services import public_update_publish
from tests.factories import incident
from tests.support.standin_fixtures import STATUSPAGE_PAGE

pytestmark = pytest.mark.django_db
PAGE = f"/v1/pages/{STATUSPAGE_PAGE}"


def _map_components(components) -> dict[str, str]:  # noqa: ANN001
    """Point our components at the stand-in's (API, Web dashboard, Notifications)."""
    ids = {c["name"]: c["id"] for c in StatuspageClient.default().components_list()}
    for slug, name in (("api-gateway", "API"), ("auth-service", "Web dashboard")):
        components[slug].statuspage_id = ids[name]
        components[slug].save()
    return ids


def _deliver(update) -> None:  # noqa: ANN001
    message = OutboxMessage.objects.get(key=f"{update.incident.number}:pu{update.pk}:statuspage")
    assert outbox_deliver(message_id=message.pk) == "sent", message.last_error


def test_first_update_creates_the_statuspage_incident_then_updates_it(components, ic, statuspage):
    ids = _map_components(components)
    inc = incident("API errors", services=("api-gateway", "auth-service", "content-service"))
    first = public_update_publish(
        incident=inc,
        actor=ic,
        stage="investigating",
        message="Errors on the API.",
        component_statuses={
            "api-gateway": "major_outage",
            "auth-service": "degraded_performance",
            "content-service": "partial_outage",  # not mirrored: no statuspage_id
        },
    )
    second = public_update_publish(incident=inc, actor=ic, stage="resolved", message="Fixed.")

    # Delivered out of order, the second waits for the first (it creates the incident).
    later = OutboxMessage.objects.get(key=f"{inc.number}:pu{second.pk}:statuspage")
    assert outbox_deliver(message_id=later.pk) == "retrying"
    assert statuspage.received(f"{PAGE}/incidents") == []
    _deliver(first)
    OutboxMessage.objects.filter(pk=later.pk).update(next_attempt_at=first.published_at)
    _deliver(second)

    (create,) = statuspage.received(f"{PAGE}/incidents")
    assert create["method"] == "POST"
    assert create["body"]["incident"] == {
        "name": "Major outage: API, Login, Uploads",  # the public title, from the components
        "status": "investigating",
        "body": "Errors on the API.",
        "component_ids": [ids["API"], ids["Web dashboard"]],
        "components": {ids["API"]: "major_outage", ids["Web dashboard"]: "degraded_performance"},
        "deliver_notifications": True,
        "metadata": {"nexusops": {"incident_number": inc.number}},
    }
    inc.refresh_from_db()
    created_id = inc.statuspage_incident_id
    assert (
        created_id
        and created_id == statuspage.state()[STATUSPAGE_PAGE]["incidents"][created_id]["id"]
    )

    (update,) = statuspage.received(f"{PAGE}/incidents/{created_id}")
    assert update["method"] == "PATCH"
    assert update["body"]["incident"]["status"] == "resolved"
    assert update["body"]["incident"]["body"] == "Fixed."
    assert update["body"]["incident"]["components"] == {
        ids["API"]: "operational",
        ids["Web dashboard"]: "operational",
    }
    page = statuspage.state()[STATUSPAGE_PAGE]
    assert page["incidents"][created_id]["status"] == "resolved"
    assert page["components"][ids["API"]]["status"] == "operational"
    assert Incident.objects.get(pk=inc.pk).statuspage_incident_id == created_id


def test_without_statuspage_settings_nothing_is_queued_for_it(components, ic, settings):
    settings.STATUSPAGE_API_URL = ""
    inc = incident()
    public_update_publish(incident=inc, actor=ic, stage="investigating", message="Looking.")
    assert not OutboxMessage.objects.filter(target="statuspage.incident_sync").exists()
