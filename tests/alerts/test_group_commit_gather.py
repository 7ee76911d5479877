"""The group commit without a writer thread (alerts/services/group_commit.py): a request alone
writes its own rows on its own thread; the request about to write waits briefly for the
requests of its process that are on their way, so they share one commit; a request that
answers without submitting (a refusal) does not hold the others up."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connections

from alerts.models import AlertEvent, AlertSource
from alerts.services import group_commit
from alerts.services.ingest import alert_events_record, writer
from alerts.services.parsers import parse_generic
from nexusops.common import clock

pytestmark = [pytest.mark.django_db(transaction=True)]


def _record(source: AlertSource, n: int) -> None:
    body = {"dedup_key": f"gather-{n}", "id": f"gather-{n}", "title": "gather", "value": 1}
    alert_events_record(source=source, alerts=parse_generic(body, clock.now()))


class _Request(threading.Thread):
    """A webhook request in this process: on its way (``arrive``) until ``go`` is set, then it
    records its alert (or, with ``refused``, answers without) and leaves."""

    def __init__(self, source: AlertSource, n: int, *, refused: bool = False) -> None:
        super().__init__()
        self.source, self.n, self.refused = source, n, refused
        self.arrived, self.go = threading.Event(), threading.Event()
        self.error: BaseException | None = None
        self.finished_at = 0.0

    def run(self) -> None:
        writer.arrive()
        self.arrived.set()
        try:
            self.go.wait(30)
            if not self.refused:
                _record(self.source, self.n)
        except BaseException as exc:  # noqa: BLE001 - the test reads it
            self.error = exc
        finally:
            self.finished_at = time.monotonic()
            writer.leave()
            connections.close_all()


@pytest.fixture
def source(tokens) -> AlertSource:
    return AlertSource.objects.get(kind="generic")


def test_a_request_alone_writes_on_its_own_thread_without_waiting(source):
    writes: list[str] = []
    original = writer._write

    def spy(rows, db):  # noqa: ANN001, ANN202 - our own write, to see which thread runs it
        writes.append(threading.current_thread().name)
        original(rows, db)

    writer._write = spy
    try:
        started = time.monotonic()
        writer.arrive()
        try:
            _record(source, 1)
        finally:
            writer.leave()
    finally:
        writer._write = original
    assert writes == [threading.current_thread().name]
    assert time.monotonic() - started < group_commit.WAIT_SECONDS
    assert AlertEvent.objects.count() == 1


def test_requests_on_their_way_join_the_write_in_one_commit(source, monkeypatch):
    # A long window, so the machine's load cannot split the batch; it ends when all joined.
    monkeypatch.setattr(group_commit, "GATHER_SECONDS", 20.0)
    batches = writer.batches
    others = [_Request(source, n) for n in (2, 3, 4)]
    for request in others:
        request.start()
        assert request.arrived.wait(10)
    first = _Request(source, 1)
    first.start()
    first.go.set()  # it would write alone, but three more are on their way: it waits
    time.sleep(0.3)
    assert first.is_alive() and not AlertEvent.objects.exists()
    started = time.monotonic()
    for request in others:
        request.go.set()
    for request in [first, *others]:
        request.join(30)
        assert not request.is_alive() and request.error is None
    assert writer.batches - batches == 1
    assert AlertEvent.objects.count() == 4
    assert first.finished_at - started < 10  # the window ended when the last joined


def test_a_refused_request_does_not_hold_the_write_up(source, monkeypatch):
    monkeypatch.setattr(group_commit, "GATHER_SECONDS", 20.0)
    refused = _Request(source, 0, refused=True)
    refused.start()
    assert refused.arrived.wait(10)
    first = _Request(source, 1)
    first.start()
    first.go.set()
    time.sleep(0.3)
    assert first.is_alive()  # waiting for the other request of this process
    started = time.monotonic()
    refused.go.set()  # it answers without rows (a 401, say) and leaves
    first.join(30)
    assert not first.is_alive() and first.error is None
    assert first.finished_at - started < 10
    assert AlertEvent.objects.count() == 1
