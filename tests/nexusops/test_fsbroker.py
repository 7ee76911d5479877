"""The embedded broker never hands a consumer a message that is still being written."""

from __future__ import annotations

import threading

import pytest
from kombu import Connection
from kombu.transport.virtual import Empty

from nexusops import fsbroker

pytestmark = pytest.mark.smoke

MESSAGES = 150
BODY = "x" * 400_000  # large, so that a write takes long enough to be caught half-way


def _channel(folder, transport):
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(exist_ok=True)
    conn = Connection(
        transport=transport,
        transport_options={
            "control_folder": str(folder / "control"),
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "store_processed": False,
        },
    )
    return conn, conn.channel()


def test_a_consumer_polling_while_messages_are_written_reads_each_whole(tmp_path):
    conn, producer = _channel(tmp_path, fsbroker.Transport)
    consumer = conn.channel()
    errors: list[BaseException] = []

    def produce():
        try:
            for n in range(MESSAGES):
                producer._put("tasks", {"n": n, "body": BODY})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    writer = threading.Thread(target=produce)
    writer.start()
    seen = []
    while len(seen) < MESSAGES:
        try:
            message = consumer._get("tasks")
        except Empty:
            if not writer.is_alive() and not errors:
                try:
                    message = consumer._get("tasks")
                except Empty:
                    break
            else:
                continue
        assert message["body"] == BODY
        seen.append(message["n"])
    writer.join()
    conn.release()
    assert not errors
    assert sorted(seen) == list(range(MESSAGES))
    assert list((tmp_path / "queue").iterdir()) == []


def test_the_embedded_settings_use_it(settings):
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        pytest.skip("the suite runs on Redis here; the embedded run checks this")
    from nexusops.celery import app

    with app.connection_for_write() as conn:
        assert isinstance(conn.default_channel, fsbroker.Channel)
