"""The production web server (``python -m nexusops.serve``: granian) serving the console for
real, over HTTP: the alert webhooks (202 only once the rows are committed, refusals as the
view gives them), a Django page, metrics in multiprocess mode, and a clean stop on SIGTERM."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from alerts.models import AlertEvent
from nexusops.common import roles
from tests.factories import UserFactory
from tests.support.subproc import free_port
from tests.support.worker import ROOT, table_locked, wait_for, worker_database_url

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def served(tmp_path):
    """The launcher on a free port, 2 workers of 4 threads, a 2 s statement limit, on the test
    database."""
    port, metrics = free_port(), tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "counter_1.db").write_bytes(b"a previous run's counts")
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_BROKER_FOLDER": str(settings.CELERY_BROKER_FOLDER),
        "NEXUSOPS_VAR_DIR": str(settings.VAR_DIR),
        "DEBUG": "false",  # Django's error handlers, not its debug pages
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        "DJANGO_SETTINGS_MODULE": "nexusops.settings",
    }
    env.pop("NEXUSOPS_MODE", None)
    log = tmp_path / "web.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nexusops.serve", "--bind", f"127.0.0.1:{port}"]
            + ["--workers", "2", "--threads", "4", "--kill-timeout", "10"]
            + ["--statement-timeout", "2"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(lambda: _get(port, "/healthz")[0] == 200, timeout=60, message="the server")
        yield port, metrics, proc, log
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _request(port: int, method: str, path: str, body: bytes | None = None, **headers: str):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request(method, path, body=body, headers={"Host": "localhost", **headers})
        response = conn.getresponse()
        # Header names as sent are lower-case (granian), so look them up case-blind.
        return response.status, response.headers, response.read()
    except OSError:
        return 0, http.client.HTTPMessage(), b""
    finally:
        conn.close()


def _get(port: int, path: str):
    return _request(port, "GET", path)


def _alert(port: int, token: str, n: int):
    body = json.dumps({"dedup_key": f"served-{n % 3}", "id": f"served-{n}", "title": "t"})
    return _request(
        port,
        "POST",
        "/api/alerts/generic/",
        body.encode(),
        **{"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


def test_alerts_are_committed_before_the_202_and_refusals_match_the_view(served, tokens):
    port, metrics, proc, _ = served
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda n: _alert(port, tokens["generic"], n), range(40)))
    assert [status for status, _, _ in answers] == [202] * 40
    assert all(json.loads(body) == {"status": "accepted", "alerts": 1} for _, _, body in answers)
    assert all(headers.get("X-Request-ID") for _, headers, _ in answers)
    # Every 202 was answered after its row committed: all 40 are there the moment the last
    # answer is in, each once.
    assert len(set(AlertEvent.objects.values_list("event_key", flat=True))) == 40

    status, headers, body = _request(port, "POST", "/api/alerts/generic/", b"{}")
    assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
    assert json.loads(body)["error"]["code"] == "not_authenticated"
    status, _, _ = _request(
        port,
        "POST",
        "/api/alerts/generic/",
        b"x" * (2 * 1024 * 1024),
        **{"Authorization": f"Bearer {tokens['generic']}", "Content-Type": "application/json"},
    )
    assert status == 413
    assert AlertEvent.objects.count() == 40


def test_pages_metrics_and_a_clean_stop(served, tokens):
    port, metrics, proc, log = served
    status, headers, body = _get(port, "/accounts/login/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"<form" in body
    # HEAD answers without a body: the next answer on the same connection is intact.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request("HEAD", "/accounts/login/", headers={"Host": "localhost"})
    head = conn.getresponse()
    assert head.status == 200 and int(head.headers["Content-Length"]) > 0
    assert head.read() == b""
    conn.request("GET", "/healthz", headers={"Host": "localhost"})
    assert conn.getresponse().read() == b'{"status": "ok"}'
    conn.close()
    for _ in range(20):
        assert _get(port, "/healthz")[0] == 200
    # The previous run's file went before the workers started; this run's are there.
    files = sorted(p.name for p in metrics.glob("*.db"))
    assert "counter_1.db" not in files and any(f.startswith("counter_") for f in files)
    # /metrics from loopback (the connection's address is a plain IP, as the allow-list
    # needs), every worker's counts added up: the old run's file counted nothing.
    status, _, body = _get(port, "/metrics")
    assert status == 200
    served_probes = sum(
        float(line.rsplit(" ", 1)[1])
        for line in body.decode().splitlines()
        if line.startswith("nexusops_http_requests_total{") and 'view="healthz"' in line
    )
    assert served_probes >= 22  # the fixture's wait, the keep-alive probe and these 20

    os.killpg(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    text = Path(log).read_text()
    assert "Traceback" not in text


def test_a_request_stuck_behind_a_lock_gives_its_thread_back(served, tokens):
    """granian has no per-request timeout: the statement limit the launcher passes to its
    workers cancels a write stuck behind a lock, so the request answers 503 with Retry-After
    (the sender retries) and its thread serves the next request once the lock is gone."""
    if connection.vendor != "postgresql":
        pytest.skip("the statement limit is PostgreSQL's statement_timeout")
    port = served[0]
    with table_locked("alerts_alertevent"):
        # Without the limit the write waits for the lock: the client gives up after 20 s
        # and _request answers 0.
        status, headers, body = _alert(port, tokens["generic"], 1)
        assert status == 503, body
        assert headers["Retry-After"]
    # The lock gone (the locker's transaction ended), every thread answers and writes again.
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda n: _alert(port, tokens["generic"], n), range(2, 18)))
    assert [status for status, _, _ in answers] == [202] * 16
    assert AlertEvent.objects.count() == 16  # the refused alert was not written


def test_a_page_stuck_behind_a_lock_answers_a_503_page_and_then_works(served):
    """What a person sees when the database does not answer in time: a 503 page that says
    nothing was changed and when to retry, not Django's bare "Server Error (500)"."""
    if connection.vendor != "postgresql":
        pytest.skip("the statement limit is PostgreSQL's statement_timeout")
    port = served[0]
    browser = Client()
    browser.force_login(UserFactory(username="iris", role=roles.INCIDENT_COMMANDER))
    cookie = f"sessionid={browser.cookies['sessionid'].value}"
    with table_locked("incidents_incident"):
        status, headers, body = _request(port, "GET", "/incidents/", Cookie=cookie)
        assert status == 503, body[:300]
        assert headers["Retry-After"] == "5"
        assert b"did not answer in time" in body and b"Nothing was changed" in body
    status, _, body = _request(port, "GET", "/incidents/", Cookie=cookie)
    assert status == 200 and b"iris" in body
