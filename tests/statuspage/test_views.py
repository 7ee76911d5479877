"""The command page's status panels: the publish form (htmx and plain POST), and the Deliveries
panel showing what publishing queued."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from incidents.models import TimelineEvent
from nexusops.common import clock
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import outbox_deliver
from statuspage.models import PublicUpdate, Subscriber
from tests.factories import incident
from tests.support.outbox import expand_fanouts

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def _form(components, **extra) -> dict:  # noqa: ANN001
    data = {
        "stage": "investigating",
        "message": "We are investigating API errors.",
        f"component-{components['api-gateway'].pk}": "major_outage",
    }
    data.update(extra)
    return data


def test_get_renders_the_form_with_stage_templates(client, components, ic):
    inc = incident(services=("api-gateway",))
    client.force_login(ic)
    page = client.get(reverse("status-publish", args=[inc.number]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="stage"' in html and f'name="component-{components["api-gateway"].pk}"' in html
    assert "We are investigating reports of errors and slow responses affecting API." in html
    assert 'data-template="This incident has been resolved.' in html
    partial = client.get(reverse("status-publish", args=[inc.number]), **HTMX)
    assert partial.status_code == 200 and b"<html" not in partial.content


def test_plain_post_publishes_and_goes_back_to_the_command_page(client, components, ic):
    inc = incident(services=("api-gateway",))
    client.force_login(ic)
    response = client.post(reverse("status-publish", args=[inc.number]), _form(components))
    assert response.status_code == 302
    assert response["Location"] == reverse("incident-detail", args=[inc.number])
    update = PublicUpdate.objects.get()
    assert update.message == "We are investigating API errors."
    components["api-gateway"].refresh_from_db()
    assert components["api-gateway"].status == "major_outage"


def test_htmx_post_returns_the_refreshed_form_with_a_notice(client, components, ic):
    inc = incident(services=("api-gateway",))
    client.force_login(ic)
    response = client.post(reverse("status-publish", args=[inc.number]), _form(components), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Published “Investigating” on the status page." in html
    assert 'id="status-publish"' in html
    # The next stage is suggested, with its template.
    assert '<option value="identified" data-template' in html
    assert 'value="identified" data-template="We have identified' in html
    # The command page refreshes at once (the incident's version moved), not 2 s later.
    assert response["HX-Trigger"] == "incident-changed"
    page = client.get(reverse("incident-detail", args=[inc.number])).content.decode()
    assert 'hx-trigger="every 2s, incident-changed from:body"' in page


def test_htmx_post_with_bad_input_shows_the_error_and_keeps_the_text(client, components, ic):
    inc = incident(services=("api-gateway",))
    client.force_login(ic)
    response = client.post(
        reverse("status-publish", args=[inc.number]), _form(components, message="  "), **HTMX
    )
    assert response.status_code == 400
    assert "The update is empty." in response.content.decode()
    assert not PublicUpdate.objects.exists()


@pytest.mark.parametrize("user", ["responder", "stakeholder"])
def test_others_cannot_publish(client, components, user, request):
    inc = incident(services=("api-gateway",))
    client.force_login(request.getfixturevalue(user))
    assert client.get(reverse("status-publish", args=[inc.number])).status_code == 403
    response = client.post(reverse("status-publish", args=[inc.number]), _form(components))
    assert response.status_code == 403
    assert not PublicUpdate.objects.exists()
    assert not TimelineEvent.objects.filter(kind="public_update").exists()
    assert not OutboxMessage.objects.filter(target__startswith="email.").exists()


def test_deliveries_list_and_retry_a_dead_one(client, components, ic, responder):
    Subscriber.objects.create(email="watcher@example.com", confirmed_at=clock.now())
    inc = incident(services=("api-gateway",))
    client.force_login(ic)
    client.post(reverse("status-publish", args=[inc.number]), _form(components))
    expand_fanouts()
    message = OutboxMessage.objects.get(target="email.public_update")
    OutboxMessage.objects.filter(pk=message.pk).update(
        state="dead", attempts=10, last_error="SMTPServerDisconnected: gone"
    )

    client.force_login(responder)
    listing = client.get(reverse("status-deliveries", args=[inc.number]), **HTMX)
    html = listing.content.decode()
    assert listing.status_code == 200
    assert "Status update email" in html and "SMTPServerDisconnected: gone" in html
    retry = reverse("status-delivery-retry", args=[message.pk])
    assert retry not in html  # a responder may look, not retry
    assert client.post(retry).status_code == 403

    client.force_login(ic)
    html = client.get(reverse("status-deliveries", args=[inc.number]), **HTMX).content.decode()
    assert retry in html
    response = client.post(retry, **HTMX)
    assert response.status_code == 200 and "Retrying the delivery." in response.content.decode()
    message.refresh_from_db()
    assert message.state == "pending"
    assert outbox_deliver(message_id=message.pk) == "sent"
    assert client.post(retry).status_code == 302  # not dead any more: a message, back to the page


def test_partials_render_from_the_command_page_context(components, ic):
    """``{% include "status/_publish_form.html" with incident=incident %}`` loads itself."""
    inc = incident(services=("api-gateway",))
    request = RequestFactory().get("/")
    request.user = ic
    from django.contrib.auth.context_processors import PermWrapper

    html = render_to_string(
        "status/_publish_form.html", {"incident": inc, "perms": PermWrapper(ic)}, request
    )
    assert f'hx-get="{reverse("status-publish", args=[inc.number])}"' in html
    assert "Publish a status page update" in html  # the link without JavaScript
    html = render_to_string(
        "incidents/_deliveries.html", {"incident": inc, "perms": PermWrapper(ic)}, request
    )
    assert f'hx-get="{reverse("status-deliveries", args=[inc.number])}"' in html


def test_partials_keep_their_rules_under_the_command_pages_own_perms(components, ic, responder):
    """The command page's context has its own ``perms`` dict (``drive_incident``...), which
    hides Django's: the partials' ``perms.incidents.*`` tests were then always empty."""
    from nexusops.common import roles
    from tests.factories import UserFactory

    inc = incident(services=("api-gateway",))
    publish = f'hx-get="{reverse("status-publish", args=[inc.number])}"'
    deliveries = f'hx-get="{reverse("status-deliveries", args=[inc.number])}"'
    stakeholder = UserFactory(username="sally", role=roles.STAKEHOLDER)
    seen = {}
    for user in (ic, responder, stakeholder):
        request = RequestFactory().get("/")
        request.user = user
        page = {"incident": inc, "perms": {"drive_incident": user.has_perm(
            "incidents.drive_incident"), "add_note": True}}  # fmt: skip
        seen[user.username] = (
            publish in render_to_string("status/_publish_form.html", page, request),
            deliveries in render_to_string("incidents/_deliveries.html", page, request),
        )
    assert seen == {"iris": (True, True), "ravi": (False, True), "sally": (False, False)}


def test_the_command_page_offers_retry_on_a_dead_delivery(client, components, ic, responder):
    inc = incident(services=("api-gateway",))
    now = clock.now()
    dead = OutboxMessage.objects.create(
        key=f"test-dead-{inc.pk}", target="slack.post", incident=inc, attempts=10,
        state=OutboxMessage.State.DEAD, last_error="channel_not_found", next_attempt_at=now,
        created_at=now,
    )  # fmt: skip
    retry = reverse("status-delivery-retry", args=[dead.pk])
    page = reverse("incident-detail", args=[inc.number])

    client.force_login(ic)
    html = client.get(page).content.decode()
    assert "channel_not_found" in html and f'action="{retry}"' in html
    client.force_login(responder)
    html = client.get(page).content.decode()
    assert "channel_not_found" in html and retry not in html  # may look, not retry
