"""/metrics: what it shows, how it adds up, what it costs, and who may read it."""

from __future__ import annotations

import datetime as dt
import ipaddress

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import AlertEvent, AlertSource
from alerts.services import alert_source_create
from incidents.models import Incident
from nexusops.common import clock
from nexusops.engine.models import OutboxMessage, Timer
from tests import factories
from tests.factories import UserFactory

from .scrape import Scrape, scrape

T0 = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.django_db


def _message(key: str, state: str, age: float) -> OutboxMessage:
    at = T0 - dt.timedelta(seconds=age)
    return OutboxMessage.objects.create(
        key=key,
        target="slack.post",
        state=state,
        next_attempt_at=at,
        created_at=at,
        sent_at=at if state == "sent" else None,
    )


def _timer(kind: str, due_in: float, **fields) -> Timer:
    return Timer.objects.create(kind=kind, due_at=T0 + dt.timedelta(seconds=due_in), **fields)


def _alert_event(source: AlertSource, n: int, age: float, processed: bool = False) -> AlertEvent:
    at = T0 - dt.timedelta(seconds=age)
    return AlertEvent.objects.create(
        source=source,
        event_key=f"event-{n}",
        fingerprint=f"fp-{n}",
        status="firing",
        at=at,
        data={},
        received_at=at,
        processed_at=at if processed else None,
    )


@pytest.fixture
def console_state():
    """Open work of every kind, at known ages, beside history that must not count."""
    with clock.frozen(T0):
        for n, code in enumerate(["P1", "P1", "P0", "P2"]):
            factories.incident(title=f"Incident {n}", severity_code=code)
        closed = factories.incident(title="Old one", severity_code="P2")
        Incident.objects.filter(pk=closed.pk).update(status="resolved")
        # Declaring wrote its own timers (due later) and messages: start the engine from clean.
        OutboxMessage.objects.all().delete()
        Timer.objects.all().delete()
        _message("m-pending-old", "pending", 300)
        _message("m-pending-new", "pending", 5)
        _message("m-retrying", "retrying", 90)
        _message("m-waiting", "waiting", 30)
        _message("m-dead", "dead", 4000)
        _message("m-sent", "sent", 9000)  # history: neither counted nor oldest
        _timer("ack_deadline", -45)
        _timer("first_update", -10, next_attempt_at=T0 + dt.timedelta(seconds=20), attempts=1)
        _timer("escalation", -600, dead_at=T0, attempts=8)
        _timer("escalation", -900, fired_at=T0)  # fired: not late
        _timer("escalation", -900, cancelled_at=T0)  # cancelled: not late
        _timer("monitoring_end", 60)  # not due yet
        source, _ = alert_source_create(name="prom", kind="alertmanager", actor=None)
        _alert_event(source, 1, 40)
        _alert_event(source, 2, 10)
        _alert_event(source, 3, 500, processed=True)
        yield


def test_the_gauges_show_the_console_state(client, console_state):
    with clock.frozen(T0):
        s = scrape(client)
    states = {"waiting": 1, "pending": 2, "sending": 0, "retrying": 1, "dead": 1}
    for state, count in states.items():
        assert s.value("nexusops_outbox_messages", state=state) == count, state
    assert s.matching("nexusops_outbox_messages", state="sent") == []
    assert s.value("nexusops_outbox_oldest_pending_age_seconds") == 300
    assert s.value("nexusops_timers_due") == 2  # the late one and the one backing off
    assert s.value("nexusops_timers_oldest_lateness_seconds") == 45
    assert s.value("nexusops_timers_dead") == 1
    assert s.value("nexusops_alert_events_pending") == 2
    assert s.value("nexusops_alert_events_oldest_pending_age_seconds") == 40
    open_by_severity = {"P0": 1, "P1": 2, "P2": 1, "P3": 0}
    for code, count in open_by_severity.items():
        assert s.value("nexusops_incidents_open", severity=code) == count, code
    assert s.value("nexusops_up", part="database") == 1
    assert s.value("nexusops_up", part="broker") == 1
    assert {q.labels["queue"] for q in s.matching("nexusops_celery_queue_length")} == {
        "default",
        "notifications",
        "remediation",
    }


def test_nothing_open_reads_zero_not_absent(client):
    factories.severities()
    s = scrape(client)
    assert s.value("nexusops_outbox_oldest_pending_age_seconds") == 0
    assert s.value("nexusops_timers_oldest_lateness_seconds") == 0
    assert s.value("nexusops_outbox_messages", state="dead") == 0
    assert s.value("nexusops_incidents_open", severity="P0") == 0


def test_a_scrape_costs_four_queries_however_many_rows(client, console_state):
    with CaptureQueriesContext(connection) as few:
        scrape(client)
    with clock.frozen(T0):
        for n in range(40):
            factories.incident(title=f"More {n}", severity_code="P3")
            _message(f"more-{n}", "retrying", n)
            _timer("ack_deadline", -n)
    with CaptureQueriesContext(connection) as many:
        scrape(client)
    assert len(few.captured_queries) == 4, [q["sql"] for q in few.captured_queries]
    assert len(many.captured_queries) == 4


@pytest.mark.postgres
def test_the_outbox_gauge_reads_an_index_not_the_history(console_state):
    from monitoring.gauges import OUTBOX_EXPORTED

    queryset = OutboxMessage.objects.filter(state__in=OUTBOX_EXPORTED).values("state").order_by()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "outbox_unsettled" in plan, plan


def test_requests_are_counted_by_view_method_and_status(client):
    before = scrape(client)

    def count(s: Scrape, view: str, status: str) -> float:
        return s.value("nexusops_http_requests_total", view=view, method="GET", status=status) or 0

    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert client.get("/no-such-page/at-all").status_code == 404
    after = scrape(client)
    assert count(after, "healthz", "200") - count(before, "healthz", "200") == 3
    assert count(after, "unmatched", "404") - count(before, "unmatched", "404") == 1
    buckets = "nexusops_http_request_duration_seconds_count"
    assert (after.value(buckets, view="healthz", method="GET") or 0) - (
        before.value(buckets, view="healthz", method="GET") or 0
    ) == 3


@pytest.mark.urls("tests.monitoring.failing_urls")
def test_a_server_error_is_counted_as_a_5xx_of_its_view(client):
    client.raise_request_exception = False
    before = scrape(client).value(
        "nexusops_http_requests_total", view="boom", method="GET", status="500"
    )
    assert client.get("/boom").status_code == 500
    after = scrape(client).value(
        "nexusops_http_requests_total", view="boom", method="GET", status="500"
    )
    assert (after or 0) - (before or 0) == 1


def test_alert_intake_is_counted_by_source_kind(client):
    from tests.alerts.payloads import alertmanager, am_alert

    factories.severities()
    _, token = alert_source_create(name="prom", kind="alertmanager", actor=None)
    before = scrape(client).value(
        "nexusops_alert_events_received_total", source_kind="alertmanager"
    )
    body = alertmanager(am_alert(starts=T0), am_alert("DiskFull", starts=T0))
    response = client.post(
        "/api/alerts/alertmanager/",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 202, response.content
    after = scrape(client).value("nexusops_alert_events_received_total", source_kind="alertmanager")
    assert (after or 0) - (before or 0) == 2


def test_an_unreachable_broker_reports_up_0_and_the_rest_still_answers(client, settings):
    factories.severities()
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    s = scrape(client)
    assert s.value("nexusops_up", part="broker") == 0
    assert s.matching("nexusops_celery_queue_length") == []
    assert s.value("nexusops_up", part="database") == 1
    assert s.value("nexusops_incidents_open", severity="P1") == 0


# --- who may read it ------------------------------------------------------------------------


@pytest.fixture
def locked(settings):
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.20.0.0/16")]
    settings.METRICS_TOKENS = ["metrics-secret-1", "metrics-secret-2"]
    factories.severities()
    return settings


def test_a_client_outside_the_networks_needs_the_bearer_token(client, locked):
    outside = {"REMOTE_ADDR": "192.0.2.7"}
    refused = client.get("/metrics", **outside)
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == 'Bearer realm="nexusops-metrics"'
    assert b"nexusops_" not in refused.content
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope", **outside)
    assert wrong.status_code == 401
    for token in locked.METRICS_TOKENS:  # both, while rotating
        ok = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}", **outside)
        assert ok.status_code == 200
        assert b"nexusops_incidents_open" in ok.content


def test_a_client_on_an_allowed_network_needs_no_token(client, locked):
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200


def test_a_forwarded_address_does_not_open_it(client, locked):
    response = client.get("/metrics", REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_FOR="10.20.3.4")
    assert response.status_code == 401


def test_a_signed_in_manager_is_not_a_scraper(client, locked):
    client.force_login(UserFactory(role="Manager"))
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 401


def test_without_a_token_only_the_networks_may_read(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = []
    settings.METRICS_TOKENS = []
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything")
    assert response.status_code == 403
    assert "METRICS_ALLOWED_NETWORKS" in response.json()["error"]["message"]


def test_only_get(client):
    assert client.post("/metrics").status_code == 405


@pytest.mark.smoke
def test_queue_lengths_count_the_messages_waiting_in_the_broker(client):
    """On Redis (make test) the queue lists; on the filesystem broker (smoke) the files."""
    from monitoring.queues import QUEUES
    from nexusops.celery import app

    def purge() -> None:
        with app.connection_for_write() as conn:
            for queue in QUEUES:
                conn.default_channel.queue_purge(queue)

    factories.severities()
    purge()
    try:
        for queue, n in (("remediation", 3), ("notifications", 1)):
            for _ in range(n):
                app.send_task(
                    "nexusops.common.tasks.heartbeat_record",
                    kwargs={"token": "queued-not-run"},
                    queue=queue,
                )
        s = scrape(client)
    finally:
        purge()
    assert s.value("nexusops_celery_queue_length", queue="remediation") == 3
    assert s.value("nexusops_celery_queue_length", queue="notifications") == 1
    assert s.value("nexusops_celery_queue_length", queue="default") == 0


def test_production_opens_metrics_to_no_network_by_default_and_refuses_a_bad_one():
    from tests.nexusops.test_settings import PRODUCTION
    from tests.support.subproc import run_django

    shown = run_django(
        "from django.conf import settings as s\n"
        "print(s.METRICS_ALLOWED_NETWORKS, s.METRICS_TOKENS)",
        {**PRODUCTION, "METRICS_TOKEN": "t1, t2"},
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "[] ['t1', 't2']"
    bad = run_django("print('started')", {**PRODUCTION, "METRICS_ALLOWED_NETWORKS": "10.0.0.0/33"})
    assert bad.returncode == 1
    [line] = bad.stderr.strip().splitlines()
    assert line.startswith("NexusOps configuration error: METRICS_ALLOWED_NETWORKS is malformed")
