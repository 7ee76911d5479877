"""A request publishes a bounded amount of work: fan-out rows, one broker attempt per commit."""

import socket
import threading

import pytest
from django.core import mail

from nexusops.common import roles
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import outbox_deliver
from statuspage import senders as status_senders
from statuspage.models import Subscriber
from statuspage.services import public_update_publish
from tests.factories import ServiceFactory, UserFactory, incident
from tests.support.subproc import run_django
from tests.support.worker import worker_database_url


class CountingListener:
    """A port that accepts TCP connections, counts them and hangs up: a broken broker."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


ENQUEUE = (
    "from django.db import transaction\n"
    "from nexusops.engine.outbox import outbox_enqueue\n"
    "with transaction.atomic():\n"
    "    for i in range({n}):\n"
    "        outbox_enqueue(target='slack.post', key='bulk-{n}:%d' % i,\n"
    "                       payload={{'channel': 'C0BULK', 'text': 'm%d' % i}})\n"
    "print('done')\n"
)


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_broken_a_commit_of_many_messages_tries_it_once(settings, slack):
    listener = CountingListener()
    env = {
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{listener.port}/0",
        "NEXUSOPS_VAR_DIR": str(settings.VAR_DIR),
        **slack.env,
    }
    try:
        one = run_django(ENQUEUE.format(n=1), env, timeout=120)
        assert one.returncode == 0, one.stderr[-2000:]
        for_one = listener.accepted
        assert for_one >= 1
        many = run_django(ENQUEUE.format(n=40), env, timeout=300)
        assert many.returncode == 0, many.stderr[-2000:]
        for_many = listener.accepted - for_one
    finally:
        listener.close()
    # 40 messages cost the broker what one does; the relay sends them all later.
    assert for_many == for_one
    assert OutboxMessage.objects.filter(state="pending").count() == 41


@pytest.fixture
def _status_senders():
    status_senders.register()


@pytest.mark.django_db
def test_a_public_update_to_200_subscribers_writes_one_row_a_worker_expands(_status_senders):
    ic = UserFactory(username="iris", role=roles.INCIDENT_COMMANDER)
    ServiceFactory(slug="api-gateway")
    Subscriber.objects.bulk_create(
        Subscriber(email=f"s{n}@example.com", token=f"t{n}", confirmed_at="2026-01-01T00:00Z")
        for n in range(200)
    )
    inc = incident(actor=ic)
    before = OutboxMessage.objects.count()
    update = public_update_publish(
        incident=inc, actor=ic, stage="investigating", message="We are looking into it."
    )
    [fanout] = OutboxMessage.objects.all()[before:]  # Statuspage is not configured here
    assert fanout.target == status_senders.UPDATE_EMAIL_ALL

    assert outbox_deliver(message_id=fanout.pk) == "sent"  # what the worker does
    emails = OutboxMessage.objects.filter(target=status_senders.UPDATE_EMAIL)
    assert emails.count() == 200
    assert {m.payload["update"] for m in emails} == {update.pk}
    # Expanding again (a worker died after writing the rows) adds nothing.
    OutboxMessage.objects.filter(pk=fanout.pk).update(state="pending")
    assert outbox_deliver(message_id=fanout.pk) == "sent"
    assert emails.count() == 200
    first = emails.order_by("pk").first()
    assert outbox_deliver(message_id=first.pk) == "sent"
    assert mail.outbox[0].to == [Subscriber.objects.get(pk=first.payload["subscriber"]).email]
