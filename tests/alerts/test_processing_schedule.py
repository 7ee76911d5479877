"""One processing task per window for every web process together (issue 15): the first
process to queue one leaves a short-lived flag in the broker's Redis; the others see it and
leave their committed rows to that task, until just before it starts."""

from __future__ import annotations

import time

import pytest
import redis
from django.conf import settings

from alerts.services import ingest

pytestmark = pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("redis://"), reason="the flag lives in Redis"
)


def _another_process() -> None:
    """What a second web process looks like from here: no local memory of a queued task."""
    ingest._scheduled.until = 0.0


@pytest.fixture
def broker():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("default", ingest.WINDOW_KEY)
    _another_process()
    yield client
    client.delete("default", ingest.WINDOW_KEY)
    _another_process()


def test_web_processes_share_one_task_per_window(broker):
    assert ingest.processing_schedule()
    assert broker.llen("default") == 1
    assert broker.pttl(ingest.WINDOW_KEY) > 0
    _another_process()
    assert ingest.processing_schedule()  # the first process's task will see these rows
    assert broker.llen("default") == 1
    # ...and this process does not ask again until just before that task starts.
    assert ingest._scheduled.until <= time.time() + ingest.COALESCE_SECONDS - ingest._MARGIN


def test_a_row_committed_after_the_window_gets_a_task_of_its_own(broker):
    assert ingest.processing_schedule()
    time.sleep(ingest.COALESCE_SECONDS)  # the first task has started (or is about to)
    _another_process()
    assert ingest.processing_schedule()
    assert broker.llen("default") == 2
