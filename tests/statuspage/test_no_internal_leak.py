"""An internal note never reaches the status page, the public incident, the feed or an email."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from incidents.services import incident_note_add
from nexusops.common import clock
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import outbox_deliver
from statuspage.models import Subscriber
from statuspage.services import public_update_publish
from tests.factories import incident
from tests.support.outbox import expand_fanouts

pytestmark = pytest.mark.django_db
SECRET = "SECRET-MARKER-7f3a9c"


def test_internal_notes_stay_internal(client, components, ic, statuspage):
    Subscriber.objects.create(email="watcher@example.com", confirmed_at=clock.now())
    inc = incident(services=("api-gateway",))
    incident_note_add(
        incident=inc, actor=ic, message=f"Root cause: {SECRET} leaked creds", internal=True
    )
    public_update_publish(
        incident=inc,
        actor=ic,
        stage="investigating",
        message="We are looking into API errors.",
        component_statuses={"api-gateway": "partial_outage"},
    )
    incident_note_add(incident=inc, actor=ic, message=f"Still {SECRET}", internal=True)
    public_update_publish(incident=inc, actor=ic, stage="identified", message="Found the cause.")

    pages = [
        reverse("status-page"),
        reverse("status-incident", args=[inc.number]),
        reverse("status-feed"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        assert "We are looking into API errors." in text, url
        assert SECRET not in text, url

    expand_fanouts()
    for message in OutboxMessage.objects.filter(
        target__in=["email.public_update", "statuspage.incident_sync"]
    ).order_by("pk"):
        assert outbox_deliver(message_id=message.pk) == "sent", message.last_error
    assert len(mail.outbox) == 2
    for email in mail.outbox:
        assert SECRET not in email.subject and SECRET not in email.body
    received = statuspage.received()
    assert received and all(SECRET not in str(r.get("body")) for r in received)
