"""The outbox's batch helpers for the timer sweep (issue 15): dispatches handed to the broker
together, and the messages a firing wrote, without reading them back."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.db import transaction

from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import (
    dispatch_together,
    outbox_enqueue,
    register_sender,
    registry,
    remembering_writes,
    written_here,
)
from tests import factories

QUEUE = "test-outbox-together"


@pytest.fixture
def target():
    register_sender("test.together", send=lambda m: {}, enabled=lambda: True, queue=QUEUE)
    yield "test.together"
    registry._senders.pop("test.together")


@pytest.fixture
def broker():
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("counts the messages in a Redis queue")
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(QUEUE)
    yield client
    client.delete(QUEUE)


@pytest.mark.django_db(transaction=True)
def test_dispatches_wait_for_the_end_and_only_committed_ones_go(target, broker):
    incident = factories.incident(title="Together")
    with dispatch_together():
        for n in (1, 2):
            with transaction.atomic():
                outbox_enqueue(target=target, key=f"together-{n}", incident=incident)
        with transaction.atomic():
            outbox_enqueue(target=target, key="together-rolled-back", incident=incident)
            transaction.set_rollback(True)
        assert broker.llen(QUEUE) == 0  # committed, not yet handed over
    assert broker.llen(QUEUE) == 2
    assert not OutboxMessage.objects.filter(key="together-rolled-back").exists()


@pytest.mark.django_db(transaction=True)
def test_outside_dispatch_together_each_goes_at_its_commit(target, broker):
    incident = factories.incident(title="Alone")
    with transaction.atomic():
        outbox_enqueue(target=target, key="alone-1", incident=incident)
        assert broker.llen(QUEUE) == 0
    assert broker.llen(QUEUE) == 1


@pytest.mark.django_db
def test_written_here_lists_what_still_exists(target):
    incident, other = factories.incident(title="Mine"), factories.incident(title="Other")
    assert written_here(incident) == []
    with transaction.atomic(), remembering_writes():
        first = outbox_enqueue(target=target, key="mine-1", incident=incident).message
        outbox_enqueue(target=target, key="other-1", incident=other)
        try:
            with transaction.atomic():
                outbox_enqueue(target=target, key="mine-undone", incident=incident)
                raise RuntimeError("roll the savepoint back")
        except RuntimeError:
            pass
        with transaction.atomic():
            kept = outbox_enqueue(target=target, key="mine-kept", incident=incident).message
            assert written_here(incident) == [first, kept]
        # Its savepoint ended: released or rolled back, it is no longer trusted.
        assert written_here(incident) == [first]
        assert OutboxMessage.objects.filter(key="mine-kept").exists()
        assert not OutboxMessage.objects.filter(key="mine-undone").exists()
    assert written_here(incident) == []
