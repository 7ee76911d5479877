"""The processing task asks whether events are still pending only when it ran out of batches:
otherwise its last batch was not full, and what arrived after it has a task of its own."""

from __future__ import annotations

import pytest

from alerts.models import AlertEvent
from alerts.services.processing import alerts_process_run

pytestmark = pytest.mark.django_db


def _send(send, n: int, first: int = 0) -> None:
    for i in range(first, first + n):
        body = {"dedup_key": f"run-{i}", "title": "t", "service": "user-service", "value": i}
        send("generic", body, process=False)


def test_a_run_that_ran_out_of_batches_says_so(send, now):
    _send(send, 5)
    assert alerts_process_run(batch_size=2, max_batches=2) == (4, True)
    assert AlertEvent.objects.filter(processed_at__isnull=True).count() == 1
    assert alerts_process_run(batch_size=2, max_batches=2) == (1, False)


def test_a_run_whose_last_batch_was_not_full_has_drained(send, now):
    _send(send, 3)
    assert alerts_process_run(batch_size=3, max_batches=1) == (3, True)  # full: may be more
    _send(send, 2, first=3)
    assert alerts_process_run(batch_size=10, max_batches=3) == (2, False)
    assert not AlertEvent.objects.filter(processed_at__isnull=True).exists()
