"""No message lost, none sent twice: a real worker, a real broker, stopped and killed."""

import shutil
import socket
import subprocess
import uuid

import pytest

from incidents.models import Incident
from incidents.services import incident_note_add
from nexusops.engine.models import OutboxMessage
from nexusops.integrations.slack.client import SlackClient
from tests.conftest import _await_ready
from tests.factories import incident, severities
from tests.support.outbox import redeliver_after_the_lease
from tests.support.subproc import free_port, run_django
from tests.support.worker import WorkerProcess, wait_for, worker_database_url


def _posts(slack) -> list[dict]:
    """The posts Slack took: one it answered 429 (rate limited) posted nothing and is retried."""
    return [
        r
        for r in slack.received()
        if r["path"] == "/api/chat.postMessage" and r.get("status") != 429
    ]


def _channel_messages(slack, channel_id: str) -> list[dict]:
    return list(slack.state()["messages"].get(channel_id, {}).values())


def _quiet_incidents(settings, n: int, **kwargs) -> list[Incident]:
    """Incidents declared while Slack is switched off, so they enqueue nothing."""
    url = settings.SLACK_API_URL
    settings.SLACK_API_URL = ""
    try:
        return [incident(title=f"bulk {i}", severity_code="P2", **kwargs) for i in range(n)]
    finally:
        settings.SLACK_API_URL = url


@pytest.mark.django_db(transaction=True)
def test_declare_reaches_slack_and_pagerduty_through_a_real_worker(slack, pagerduty):
    worker = WorkerProcess(extra_env={**slack.env, **pagerduty.env}).start()
    try:
        _await_ready(worker)
        inc = incident(title="Platform down", severity_code="P0")
        wait_for(
            lambda: OutboxMessage.objects.filter(incident=inc, state="sent").count() == 2,
            timeout=60,
            message="both deliveries",
        )
    finally:
        worker.stop()
    inc.refresh_from_db()
    assert inc.slack_channel_name == inc.number.lower().replace("inc-", "incident-")
    assert len(_posts(slack)) == 1
    [page] = [r for r in pagerduty.received() if r["path"] == "/v2/enqueue"]
    assert page["body"]["dedup_key"] == inc.number
    assert page["body"]["payload"]["severity"] == "critical"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_broker_stopped_while_200_incidents_change_then_restarted_delivers_each_once(
    settings, slack, tmp_path
):
    if not shutil.which("redis-server"):
        pytest.skip("needs the redis-server binary to run a broker of its own")
    severities()
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    channel = SlackClient.default().channel_create("incident-bulk").id
    incidents = _quiet_incidents(settings, 200)
    Incident.objects.update(slack_channel_id=channel)

    # The broker is down (nothing listens on its port) while 200 incidents are updated.
    env = {
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": broker,
        "NEXUSOPS_VAR_DIR": str(settings.VAR_DIR),
        **slack.env,
    }
    produce = run_django(
        "from incidents.models import Incident\n"
        "from incidents.services import incident_note_add\n"
        "for inc in Incident.objects.order_by('id'):\n"
        "    incident_note_add(incident=inc, actor=None, message='note for ' + inc.number,\n"
        "                      internal=True)\n"
        "print('done')\n",
        env,
        timeout=300,
    )
    assert produce.returncode == 0, produce.stderr[-2000:]
    assert "not dispatched" in produce.stderr  # every dispatch failed, none was lost
    assert OutboxMessage.objects.filter(target="slack.post", state="pending").count() == 200
    assert _posts(slack) == []

    redis = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = WorkerProcess(extra_env={"CELERY_BROKER_URL": broker, **slack.env})
    try:
        wait_for(lambda: _answers(port), timeout=10, message="the broker to come back")
        worker.start()
        relay = "from nexusops.engine.outbox import outbox_relay\nprint(outbox_relay(limit=1000))\n"
        relay_env = {**env, "OUTBOX_RELAY_GRACE_SECONDS": "0"}
        # Two relays at once: the same message may be queued twice, and is still sent once.
        first, second = run_django(relay, relay_env), run_django(relay, relay_env)
        assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
        wait_for(
            lambda: OutboxMessage.objects.filter(state="sent").count() == 200,
            timeout=180,
            interval=0.5,
            message="all 200 deliveries",
        )
    finally:
        worker.stop()
        redis.terminate()
        redis.wait(timeout=10)

    messages = _channel_messages(slack, channel)
    keys = [m["metadata"]["event_payload"]["key"] for m in messages]
    assert len(keys) == 200 and len(set(keys)) == 200
    assert len(_posts(slack)) == 200
    assert set(keys) == set(OutboxMessage.objects.values_list("key", flat=True))
    assert {i.number for i in incidents} == {k.split(":")[0] for k in keys}


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_is_redelivered_not_duplicated(settings, slack):
    severities()
    settings.OUTBOX_LEASE_SECONDS = 2
    settings.OUTBOX_RELAY_GRACE_SECONDS = 0
    lease = {"OUTBOX_LEASE_SECONDS": "2"}
    channel = SlackClient.default().channel_create("incident-killed").id
    [inc] = _quiet_incidents(settings, 1)
    Incident.objects.filter(pk=inc.pk).update(slack_channel_id=channel)

    first = WorkerProcess(extra_env={**slack.env, **lease}).start()
    try:
        _await_ready(first)
        slack.inject(latency_ms=3000)  # Slack is slow: the worker is killed while it waits
        marker = uuid.uuid4().hex
        incident_note_add(incident=inc, actor=None, message=f"note {marker}", internal=True)
        wait_for(lambda: _posts(slack), timeout=90, message="the worker to call Slack")
        first.kill()
    finally:
        first.stop()
    message = OutboxMessage.objects.get(target="slack.post")
    assert message.state == "sending"  # claimed; nobody knows whether Slack has it
    # Slack finishes storing the post although nobody is listening any more.
    wait_for(lambda: _channel_messages(slack, channel), timeout=10, message="Slack to store it")
    message = redeliver_after_the_lease(message, {**slack.env, **lease})
    assert message.attempts == 2
    assert message.result.get("reconciled") is True
    assert len(_posts(slack)) == 1
    [stored] = _channel_messages(slack, channel)
    assert marker in stored["text"]
