"""Issue 14 item 3: the subscribe form cannot be used to flood an inbox."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import outbox_deliver

pytestmark = pytest.mark.django_db


def _deliver_all() -> None:
    for pk in OutboxMessage.objects.filter(state="pending").values_list("pk", flat=True):
        assert outbox_deliver(message_id=pk) == "sent"


def test_thirty_posts_for_one_address_send_one_email(client):
    url = reverse("status-subscribe")
    # From thirty different addresses, so only the per-address rule can stop them.
    codes = [
        client.post(url, {"email": "victim@example.com"}, REMOTE_ADDR=f"10.1.0.{n}").status_code
        for n in range(30)
    ]
    assert set(codes) == {200}
    _deliver_all()
    assert [m.to for m in mail.outbox] == [["victim@example.com"]]
    page = client.post(url, {"email": "victim@example.com"}, REMOTE_ADDR="10.1.1.1")
    assert "already sent a confirmation link" in page.content.decode()


def test_one_client_is_throttled_across_addresses(client, settings):
    settings.STATUS_SUBSCRIBE_PER_CLIENT = 10
    url = reverse("status-subscribe")
    codes = [
        client.post(url, {"email": f"user{n}@example.com"}, REMOTE_ADDR="10.2.0.1").status_code
        for n in range(30)
    ]
    assert codes[:10] == [200] * 10 and set(codes[10:]) == {429}
    _deliver_all()
    assert len(mail.outbox) == 10
    # Another client is not affected.
    ok = client.post(url, {"email": "someone@example.com"}, REMOTE_ADDR="10.2.0.2")
    assert ok.status_code == 200
