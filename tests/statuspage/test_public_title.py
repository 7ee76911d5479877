"""Issue 14, item 2: the public pages show the title published with an update, never the
incident's internal title, and an internal edit of that title changes nothing public."""

from __future__ import annotations

import importlib

import pytest
from django.core import mail
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse

from incidents.services import incident_update
from nexusops.common import clock
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import outbox_deliver
from statuspage.models import PublicUpdate, Subscriber
from statuspage.services import public_update_publish
from tests.factories import incident
from tests.support.outbox import expand_fanouts

pytestmark = pytest.mark.django_db
INTERNAL = "Checkout 502s after pgbouncer change by dave"
EDITED = "Root cause: expired TLS cert on the LB"


def public_texts(client, number: str) -> dict[str, str]:
    out = {}
    for url in (
        reverse("status-page"),
        reverse("status-incident", args=[number]),
        reverse("status-feed"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        out[url] = response.content.decode()
    return out


def test_public_pages_show_the_published_title_only(client, components, ic, statuspage):
    Subscriber.objects.create(email="watcher@example.com", confirmed_at=clock.now())
    inc = incident(title=INTERNAL, services=("api-gateway",))
    update = public_update_publish(
        incident=inc,
        actor=ic,
        stage="investigating",
        message="We are looking into errors.",
        component_statuses={"api-gateway": "degraded_performance"},
    )
    assert update.title == "Degraded performance: API"  # from the components, not the incident

    for url, text in public_texts(client, inc.number).items():
        assert "Degraded performance: API" in text, url
        assert INTERNAL not in text, url

    # An internal edit of the title goes nowhere public.
    incident_update(incident=inc, actor=ic, title=EDITED)
    for url, text in public_texts(client, inc.number).items():
        assert EDITED not in text and INTERNAL not in text, url
        assert "Degraded performance: API" in text, url

    # The next update keeps the public title unless the commander changes it.
    later = public_update_publish(incident=inc, actor=ic, stage="identified", message="Found it.")
    assert later.title == "Degraded performance: API"

    expand_fanouts()  # as a worker does: one e-mail row per subscriber
    for message in OutboxMessage.objects.filter(
        target__in=["email.public_update", "statuspage.incident_sync"]
    ).order_by("pk"):
        assert outbox_deliver(message_id=message.pk) == "sent", message.last_error
    assert mail.outbox
    for email in mail.outbox:
        assert "Degraded performance: API" in email.subject
        assert INTERNAL not in email.subject + email.body and EDITED not in email.body
    for request in statuspage.received():
        assert INTERNAL not in str(request.get("body")) and EDITED not in str(request.get("body"))


def test_commander_may_copy_the_internal_title_in(client, components, ic):
    inc = incident(title=INTERNAL, services=("api-gateway",))
    public_update_publish(
        incident=inc, actor=ic, stage="investigating", message="Looking.", title="Checkout errors"
    )
    text = client.get(reverse("status-incident", args=[inc.number])).content.decode()
    assert "Checkout errors" in text and INTERNAL not in text


def test_publish_form_offers_and_sends_a_public_title(client, components, ic):
    inc = incident(title=INTERNAL, services=("api-gateway",))
    client.force_login(ic)
    form = client.get(reverse("status-publish", args=[inc.number])).content.decode()
    assert 'name="title"' in form
    api = components["api-gateway"]
    client.post(
        reverse("status-publish", args=[inc.number]),
        {
            "stage": "investigating",
            "title": "Slow API responses",
            "message": "Looking.",
            f"component-{api.pk}": "degraded_performance",
        },
    )
    assert PublicUpdate.objects.get(incident=inc).title == "Slow API responses"


def test_data_migration_derives_titles_from_components(components, ic):
    inc = incident(title=INTERNAL, services=("api-gateway", "auth-service"))
    public_update_publish(
        incident=inc,
        actor=ic,
        stage="investigating",
        message="a",
        component_statuses={
            "api-gateway": "partial_outage",
            "auth-service": "degraded_performance",
        },
    )
    public_update_publish(incident=inc, actor=ic, stage="resolved", message="b")
    other = incident(title="Internal only", services=("content-service",))
    public_update_publish(incident=other, actor=ic, stage="investigating", message="c")
    PublicUpdate.objects.update(title="")  # as they were before the field existed

    migration = importlib.import_module("incidents.migrations.0011_public_update_title")
    # The models as that migration saw them (they lived in incidents then; the tables are the
    # same ones).
    state = MigrationLoader(connection).project_state(
        ("incidents", "0011_public_update_title"), at_end=True
    )
    migration.derive_titles(state.apps, None)

    titles = dict(PublicUpdate.objects.values_list("message", "title"))
    assert titles["a"] == "Partial outage: API, Login"
    assert titles["b"] == "Partial outage: API, Login"  # resolved: components back to normal
    assert titles["c"] == "Service disruption"
