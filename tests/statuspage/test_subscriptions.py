"""Subscribe, confirm by the emailed link, get updates, unsubscribe (through the outbox)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.urls import reverse

from nexusops.common import clock
from nexusops.common.errors import ApplicationError, Conflict, NotFoundError
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import outbox_deliver
from statuspage.models import Subscriber
from statuspage.services import (
    public_update_publish,
    subscriber_confirm,
    subscriber_subscribe,
)
from tests.factories import incident
from tests.support.outbox import expand_fanouts

pytestmark = pytest.mark.django_db


def _deliver_all() -> None:
    expand_fanouts()
    for pk in OutboxMessage.objects.filter(state="pending").values_list("pk", flat=True):
        assert outbox_deliver(message_id=pk) == "sent"


def _link(body: str, name: str) -> str:
    prefix = reverse(name, args=["TOKEN"]).split("TOKEN")[0]
    match = re.search(re.escape(prefix) + r"[A-Za-z0-9_-]+/", body)
    assert match, body
    return match.group(0)


def test_subscribe_confirm_receive_and_unsubscribe(client, components, ic):
    response = client.post(reverse("status-subscribe"), {"email": "  Pat@Example.COM "})
    assert response.status_code == 200
    assert "sent a confirmation link" in response.content.decode()
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "Pat@example.com" and not subscriber.active

    _deliver_all()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["Pat@example.com"]
    confirm = _link(mail.outbox[0].body, "status-subscribe-confirm")

    # Following the link shows a button; only the POST confirms (mail scanners follow links).
    assert client.get(confirm).status_code == 200
    subscriber.refresh_from_db()
    assert not subscriber.active
    response = client.post(confirm)
    assert response.status_code == 200 and "Subscribed" in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.active

    public_update_publish(incident=incident(), actor=ic, stage="investigating", message="Hello.")
    _deliver_all()
    assert len(mail.outbox) == 2 and "Hello." in mail.outbox[1].body
    unsubscribe = _link(mail.outbox[1].body, "status-unsubscribe")

    assert client.get(unsubscribe).status_code == 200
    response = client.post(unsubscribe)
    assert (
        response.status_code == 200 and "will not get status updates" in response.content.decode()
    )
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at is not None

    public_update_publish(incident=incident(), actor=ic, stage="investigating", message="Again.")
    _deliver_all()
    assert len(mail.outbox) == 2  # nothing more for an unsubscribed address


def test_subscribing_again_resends_while_pending_and_not_once_active():
    with clock.frozen(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)) as frozen:
        first = subscriber_subscribe(email="dana@example.com")
        soon = subscriber_subscribe(email="DANA@example.com")
        assert (first.outcome, soon.outcome) == ("pending", "already_pending")
        assert first.subscriber.pk == soon.subscriber.pk and not soon.emailed
        frozen.advance(minutes=16)
        again = subscriber_subscribe(email="dana@example.com")
        assert again.outcome == "pending"
    assert OutboxMessage.objects.filter(target="email.subscription_confirm").count() == 2

    subscriber_confirm(token=first.subscriber.token)
    active = subscriber_subscribe(email="dana@example.com")
    assert active.outcome == "active" and not active.emailed
    assert OutboxMessage.objects.filter(target="email.subscription_confirm").count() == 2


def test_coming_back_after_unsubscribing_needs_a_new_confirmation(client):
    result = subscriber_subscribe(email="lee@example.com")
    old_token = result.subscriber.token
    subscriber_confirm(token=old_token)
    client.post(reverse("status-unsubscribe", args=[old_token]))
    again = subscriber_subscribe(email="lee@example.com")
    assert again.outcome == "pending" and again.subscriber.token != old_token
    assert not again.subscriber.active
    with pytest.raises(NotFoundError):
        subscriber_confirm(token=old_token)


def test_a_bad_address_is_refused_and_nothing_is_saved(client):
    response = client.post(reverse("status-subscribe"), {"email": "not-an-address"})
    assert response.status_code == 400
    assert "Enter a valid email address" in response.content.decode()
    assert not Subscriber.objects.exists() and not OutboxMessage.objects.exists()
    with pytest.raises(ApplicationError):
        subscriber_subscribe(email="")


def test_unknown_and_stale_tokens(client):
    assert client.get(reverse("status-subscribe-confirm", args=["nope"])).status_code == 404
    assert client.post(reverse("status-unsubscribe", args=["nope"])).status_code == 404
    sub = Subscriber.objects.create(email="x@example.com")
    client.post(reverse("status-unsubscribe", args=[sub.token]))
    with pytest.raises(Conflict):
        subscriber_confirm(token=sub.token)
