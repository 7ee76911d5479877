"""Structured logs: JSON lines with the request id and the incident, in web and in workers."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from nexusops.common import logs
from tests import factories
from tests.factories import UserFactory
from tests.support.subproc import run_django
from tests.support.worker import WorkerProcess, wait_for

from .test_settings import PRODUCTION


@pytest.fixture
def json_lines():
    """The root logger also writes JSON (as production does) into a buffer; returns a reader."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(logs.ContextFilter())
    handler.setFormatter(logs.JsonFormatter())
    root, requests = logging.getLogger(), logging.getLogger("nexusops.request")
    root.addHandler(handler)
    levels = root.level, requests.level
    root.setLevel(logging.INFO)
    requests.setLevel(logging.INFO)  # embedded mode leaves request lines to runserver
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        requests.setLevel(levels[1])


def test_a_json_line_carries_time_level_context_extras_and_the_traceback():
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(logs.ContextFilter())
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("tests.logs.formatter")
    logger.addHandler(handler)
    logger.propagate = False
    fresh = logs.start()  # whatever earlier tests bound in this thread is not this test's
    try:
        with logs.bound(request_id="req-1", incident="INC-20261127-004"):
            try:
                raise ValueError("vendor said no")
            except ValueError:
                logger.exception("delivery %s failed", 42, extra={"target": "slack.post"})
        logger.warning("outside any context")
    finally:
        logs.end(fresh)
        logger.removeHandler(handler)
        logger.propagate = True
    lines = [json.loads(x) for x in re.split(r"\n(?=\{)", buffer.getvalue().strip())]
    first, second = lines
    assert first["message"] == "delivery 42 failed"
    assert first["level"] == "ERROR" and first["logger"] == "tests.logs.formatter"
    assert first["request_id"] == "req-1" and first["incident"] == "INC-20261127-004"
    assert first["target"] == "slack.post"
    assert "ValueError: vendor said no" in first["exc"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$", first["time"])
    assert "request_id" not in second and "incident" not in second


@pytest.mark.django_db
def test_the_request_id_is_taken_from_the_caller_or_made_and_echoed(client):
    given = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a-0001")
    assert given["X-Request-ID"] == "lb-7f3a-0001"
    made = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", made["X-Request-ID"])
    assert made["X-Request-ID"] != client.get("/healthz")["X-Request-ID"]
    # A header that could smuggle text into logs or responses is replaced, not echoed.
    for bad in ("a b", "x" * 200, "id\r\nSet-Cookie: x=1"):
        response = client.get("/healthz", HTTP_X_REQUEST_ID=bad)
        assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"]), bad


@pytest.mark.django_db
def test_web_lines_name_the_request_and_the_incident(client, json_lines):
    factories.severities()
    factories.ServiceFactory(slug="api-gateway")
    client.force_login(UserFactory(role="Incident Commander"))
    response = client.post(
        "/api/incidents/",
        {"title": "Checkout 5xx", "severity": "P1", "services": ["api-gateway"]},
        content_type="application/json",
        HTTP_X_REQUEST_ID="req-declare-1",
    )
    assert response.status_code == 201, response.content
    number = response.json()["number"]
    client.get(f"/api/incidents/{number}/", HTTP_X_REQUEST_ID="req-read-1")

    lines = json_lines()
    declared = [line for line in lines if line["logger"] == "incidents.services.declare"]
    assert [(d["request_id"], d["incident"]) for d in declared] == [("req-declare-1", number)]
    requests = {line["request_id"]: line for line in lines if line["logger"] == "nexusops.request"}
    assert requests["req-declare-1"]["incident"] == number
    assert requests["req-declare-1"]["status"] == 201
    assert requests["req-declare-1"]["view"] == "api-incident-list"
    assert requests["req-read-1"]["incident"] == number  # from the URL
    assert requests["req-read-1"]["path"] == f"/api/incidents/{number}/"
    assert isinstance(requests["req-read-1"]["duration_ms"], float)


@pytest.mark.django_db(transaction=True)
def test_worker_lines_carry_the_request_id_and_incident_of_the_request(client, pagerduty):
    """A real worker, JSON logs on: the PagerDuty delivery of a declared P1 logs the request
    id the web request was given and the incident's number."""
    from nexusops.celery import app

    factories.severities()
    factories.ServiceFactory(slug="api-gateway")
    # Earlier tests' tasks (their rows long gone) must not queue ahead of this one's.
    with app.connection_for_write() as conn:
        for queue in ("default", "notifications", "remediation"):
            conn.default_channel.queue_purge(queue)
    worker = WorkerProcess(extra_env={**pagerduty.env, "NEXUSOPS_LOG_FORMAT": "json"}).start()
    try:
        worker.await_ready()
        client.force_login(UserFactory(role="Incident Commander"))
        response = client.post(
            "/api/incidents/",
            {"title": "Login failures", "severity": "P1", "services": ["api-gateway"]},
            content_type="application/json",
            HTTP_X_REQUEST_ID="req-worker-1",
        )
        assert response.status_code == 201, response.content
        number = response.json()["number"]
        wait_for(
            lambda: pagerduty.received("/v2/enqueue"), timeout=60, message="the PagerDuty event"
        )
    finally:
        worker.stop()
    lines = []
    for raw in worker.log_path.read_text().splitlines():
        try:
            lines.append(json.loads(raw))
        except ValueError:
            continue  # Celery's start-up banner is not a log line
    ours = [line for line in lines if line.get("request_id") == "req-worker-1"]
    assert ours, worker.log_path.read_text()[-3000:]
    assert {line["incident"] for line in ours} == {number}
    assert any(line["task"] == "nexusops.engine.tasks.outbox_deliver_task" for line in ours)
    assert all(line["task_id"] for line in ours)


def test_production_mode_logs_json_and_embedded_mode_plain_lines():
    code = (
        "import logging\n"
        "from nexusops.common import logs\n"
        "with logs.bound(request_id='r-9', incident='INC-20261127-009'):\n"
        "    logging.getLogger('nexusops.check').warning('hello')\n"
    )
    production = run_django(code, PRODUCTION)
    assert production.returncode == 0, production.stderr
    line = json.loads(production.stderr.strip().splitlines()[-1])
    assert line["message"] == "hello" and line["level"] == "WARNING"
    assert line["request_id"] == "r-9" and line["incident"] == "INC-20261127-009"

    embedded = run_django(code, {"NEXUSOPS_VAR_DIR": "/tmp/nexusops-test-logs"})
    assert embedded.returncode == 0, embedded.stderr
    assert embedded.stderr.strip().endswith(
        "WARNING nexusops.check hello [request_id=r-9 incident=INC-20261127-009]"
    )


def test_a_wrong_log_format_stops_start_up_naming_it():
    result = run_django("print('started')", {**PRODUCTION, "NEXUSOPS_LOG_FORMAT": "xml"})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "NexusOps configuration error: NEXUSOPS_LOG_FORMAT must be 'json' or 'plain', not 'xml'"
    )


def test_production_mode_logs_one_json_line_per_request():
    code = (
        "from django.test import Client\n"
        "response = Client().get('/incidents/', HTTP_X_REQUEST_ID='r-10')\n"
        "print(response.status_code, response['X-Request-ID'])\n"
    )
    result = run_django(code, {**PRODUCTION, "ALLOWED_HOSTS": "testserver"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["301", "r-10"]  # plain HTTP goes to HTTPS, id echoed
    lines = [json.loads(line) for line in result.stderr.strip().splitlines()]
    request_line = next(line for line in lines if line["logger"] == "nexusops.request")
    assert request_line["request_id"] == "r-10"
    assert request_line["status"] == 301 and request_line["path"] == "/incidents/"
    # Redirected before URL resolution, it is still named (and counted) by its view.
    assert request_line["view"] == "incident-list"
    assert request_line["level"] == "INFO"


@pytest.mark.django_db
def test_a_delivery_with_no_carried_context_still_names_its_incident(json_lines):
    """The relay re-sends a message with no request behind it: the delivery looks the
    incident's number up, so the sender's lines still name it."""
    from nexusops.engine import outbox
    from nexusops.engine.models import OutboxMessage
    from nexusops.engine.outbox import registry

    declared = factories.incident(title="Relayed")

    def probe(message):
        logging.getLogger("tests.logs.probe").info("sending %s", message.key)
        return {}

    outbox.register_sender("test.log-probe", send=probe, enabled=lambda: True)
    now = declared.detected_at
    message = OutboxMessage.objects.create(
        key="log-probe-1",
        target="test.log-probe",
        incident=declared,
        next_attempt_at=now,
        created_at=now,
    )
    relay_task = logs.start(request_id="relay-task-1")  # as a task with no carried context
    try:
        assert outbox.outbox_deliver(message_id=message.pk) == "sent"
    finally:
        logs.end(relay_task)
        registry._senders.pop("test.log-probe")
    [line] = [x for x in json_lines() if x["logger"] == "tests.logs.probe"]
    assert line["incident"] == declared.number
    assert line["request_id"] == "relay-task-1"
