"""The bot's answer survives a broker outage: a person presses Acknowledge in Teams while the
broker is down; the incident is acknowledged at once, and the answer reaches the thread once
the broker is back (through the relay and a real worker), exactly once."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from chat.inbound.senders import TEAMS_REPLY
from incidents.models import Status
from nexusops.celery import app as celery_app
from nexusops.engine.models import OutboxMessage
from nexusops.engine.outbox import outbox_relay
from nexusops.standins import teams as standin
from tests.support.subproc import free_port
from tests.support.worker import WorkerProcess, wait_for

from .test_inbound import URL, _replies


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@contextmanager
def broker_of_our_own(url: str) -> Iterator[None]:
    """Point this process's Celery app (the console under test) at ``url``: the same as
    starting it with ``CELERY_BROKER_URL=url``."""
    names = ("broker_url", "broker_read_url", "broker_write_url")
    before = {name: celery_app.conf[name] for name in names}

    def use(urls: dict[str, str]) -> None:
        celery_app.conf.update(urls)
        celery_app._pool = None  # its connection pool is keyed by the URL: a new one
        celery_app.amqp._producer_pool = None

    use(dict.fromkeys(names, url))
    assert celery_app.connection_for_write().as_uri().endswith(f":{url.split(':')[-1]}")
    try:
        yield
    finally:
        use(before)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_broker_down_at_the_press_the_answer_arrives_once_it_is_back(
    settings, teams, live_server, secrets, iris, channel_with_card, tmp_path, caplog
):
    if not shutil.which("redis-server"):
        pytest.skip("needs the redis-server binary to run a broker of its own")
    settings.OUTBOX_RELAY_GRACE_SECONDS = 0
    found, _, card = channel_with_card
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    teams.command("bot", {"endpoint": f"{live_server.url}{URL}"})
    with broker_of_our_own(broker):
        # Nothing listens on the broker's port: the press needs no broker to act.
        press = {
            "activity_id": card,
            "user": standin.aad_id("ic"),
            "data": {"action": "acknowledge", "incident": found.number},
        }
        assert teams.command("press", press)["status"] == 200
        found.refresh_from_db()
        assert found.status == Status.ACKNOWLEDGED
        answer = OutboxMessage.objects.get(target=TEAMS_REPLY)
        assert (answer.state, answer.attempts) == ("pending", 0)  # written, never dispatched
        assert "not dispatched" in caplog.text
        assert _replies(teams, card) == []

        redis = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(tmp_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        worker = WorkerProcess(extra_env={"CELERY_BROKER_URL": broker, **teams.env})
        try:
            wait_for(lambda: _answers(port), timeout=10, message="the broker to come back")
            worker.start().await_ready()
            # Two relays at once may queue it twice; it is still said once.
            assert outbox_relay() == 1
            outbox_relay()
            wait_for(
                lambda: OutboxMessage.objects.get(pk=answer.pk).state == "sent",
                timeout=60,
                message="the answer to be delivered",
            )
            assert outbox_relay() == 0  # nothing left for the relay
        finally:
            worker.stop()
            redis.terminate()
            redis.wait(timeout=10)

    [reply] = _replies(teams, card)
    assert "acknowledged by you" in reply
    answer.refresh_from_db()
    assert answer.attempts == 1
