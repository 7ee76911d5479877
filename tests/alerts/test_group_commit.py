"""Group commit of the webhook INSERTs (alerts/services/group_commit.py), with real concurrent
requests: one writer thread per process writes every waiting request's rows in one statement,
and a request answers 202 only once its rows are committed.

On PostgreSQL a second connection holds a lock on the events table, so requests pile up behind
the writer's INSERT for real; on SQLite (the embedded smoke run) the concurrent requests still
all land.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import django.db
import psycopg
import pytest
from django.db import connection, connections
from django.test import Client

from alerts.models import AlertEvent, AlertSource
from alerts.services.group_commit import GroupCommit
from alerts.services.ingest import writer
from tests.support.worker import table_locked

from .conftest import T0, post
from .payloads import alertmanager, am_alert

pytestmark = [pytest.mark.django_db(transaction=True)]
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="table locks and backends are PostgreSQL's"
)


def _body(n: int) -> dict:
    return {"dedup_key": f"gc-{n}", "id": f"gc-{n}", "title": "group commit", "value": 1}


def _send_all(token: str, count: int, *, first: int = 0) -> tuple[list, list[threading.Thread]]:
    """Start ``count`` webhook requests at once, each from its own thread and client."""
    answers: list = [None] * count
    start = threading.Barrier(count)

    def one(i: int) -> None:
        start.wait()
        try:
            answers[i] = post(Client(), "generic", _body(first + i), token)
        finally:
            connections.close_all()  # a thread's own connection (if it made one) ends with it

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    return answers, threads


def _join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a webhook request never answered"


def _dsn(dbname: str | None = None) -> str:
    s = connection.settings_dict
    name = dbname or s["NAME"]
    return f"host={s['HOST']} port={s['PORT'] or 5432} user={s['USER']} dbname={name}"


@contextmanager
def _events_locked():
    """Another session holds the events table: the writer's INSERT waits until it is let go."""
    with table_locked(AlertEvent._meta.db_table, "EXCLUSIVE") as blocker:
        yield blocker


def _wait_until(condition, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _writer_waiting_on_lock(admin: psycopg.Connection) -> bool:
    row = admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO alerts_alertevent%%'"
    ).fetchone()
    return row[0] > 0


def test_concurrent_webhooks_all_answer_202_and_every_row_is_there(tokens):
    answers, threads = _send_all(tokens["generic"], 24)
    _join(threads)
    assert [a.status_code for a in answers] == [202] * 24
    assert AlertEvent.objects.count() == 24
    assert AlertEvent.objects.values("fingerprint").distinct().count() == 24


@postgres_only
def test_waiting_requests_share_one_insert_and_none_answers_before_the_commit(tokens):
    batches_before = writer.batches
    with psycopg.connect(_dsn(), autocommit=True) as admin, _events_locked() as blocker:
        answers, threads = _send_all(tokens["generic"], 12)
        _wait_until(lambda: _writer_waiting_on_lock(admin), "the writer to wait on the lock")
        time.sleep(0.3)  # the other requests queue behind the blocked INSERT
        assert answers == [None] * 12, "a request answered before its row was committed"
        assert admin.execute("SELECT count(*) FROM alerts_alertevent").fetchone()[0] == 0
        blocker.commit()  # let the writer go
        _join(threads)
    assert [a.status_code for a in answers] == [202] * 12
    assert AlertEvent.objects.count() == 12
    # The first INSERT held one request; all the others waited and went in together.
    assert writer.batches - batches_before <= 3


@postgres_only
def test_the_database_going_away_mid_batch_answers_503_to_every_waiter(tokens):
    name = connection.settings_dict["NAME"]
    # ALLOW_CONNECTIONS cannot be changed from inside the database itself.
    with (
        psycopg.connect(_dsn(), autocommit=True) as admin,
        psycopg.connect(_dsn("postgres"), autocommit=True) as server,
    ):
        try:
            with _events_locked() as blocker:
                answers, threads = _send_all(tokens["generic"], 10)
                _wait_until(lambda: _writer_waiting_on_lock(admin), "the writer to wait")
                time.sleep(0.3)
                # The database refuses new connections and the writer's session is killed
                # while its INSERT waits: the batch dies, and the retry cannot reconnect.
                server.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock' "
                    "AND query LIKE 'INSERT INTO alerts_alertevent%%'"
                )
                _join(threads)
                blocker.rollback()
        finally:
            server.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert [a.status_code for a in answers] == [503] * 10
    assert all(a["Retry-After"] == "5" for a in answers)
    assert "not recorded" in answers[0].json()["error"]["message"]
    assert AlertEvent.objects.count() == 0  # no 202, and no row either
    # The writer comes back on its own once the database does.
    assert post(Client(), "generic", _body(99), tokens["generic"]).status_code == 202
    assert AlertEvent.objects.count() == 1


@postgres_only
def test_a_request_the_database_refuses_fails_alone_and_its_batch_mates_commit(tokens):
    """A source deleted after it was authenticated (still cached): its rows break the foreign
    key, so the shared INSERT fails; each request is then written alone and gets its own
    answer."""
    doomed = AlertSource.objects.get(kind="generic")
    for kind in ("generic", "alertmanager"):  # both sources are now cached by the process
        assert post(Client(), kind, b"{", tokens[kind]).status_code == 400
    AlertSource.objects.filter(pk=doomed.pk).delete()
    answers: dict[str, list] = {"generic": [], "alertmanager": []}
    start = threading.Barrier(8)

    def one(kind: str, n: int) -> None:
        body = (
            _body(n)
            if kind == "generic"
            else alertmanager(am_alert(fingerprint=f"fp{n}", starts=T0))
        )
        start.wait()
        try:
            answers[kind].append(post(Client(), kind, body, tokens[kind]).status_code)
        finally:
            connections.close_all()

    with psycopg.connect(_dsn(), autocommit=True) as admin, _events_locked() as blocker:
        threads = [
            threading.Thread(target=one, args=(kind, n))
            for n in range(4)
            for kind in ("generic", "alertmanager")
        ]
        for thread in threads:
            thread.start()
        _wait_until(lambda: _writer_waiting_on_lock(admin), "the writer to wait")
        time.sleep(0.3)
        blocker.commit()
        _join(threads)
    assert sorted(answers["generic"]) == [503] * 4
    assert sorted(answers["alertmanager"]) == [202] * 4
    assert AlertEvent.objects.count() == 4
    assert not AlertEvent.objects.filter(source_id=doomed.pk).exists()


@postgres_only
def test_a_statement_the_server_cancelled_is_not_written_again():
    """A stale connection is retried once on a fresh one; a statement cancelled by its limit
    (the web server's --statement-timeout behind a lock) is not: it would only wait again."""
    tries = []

    def write(requests, db):
        tries.append(requests)
        with db.cursor() as cursor:
            if requests == [["fine"]]:
                cursor.execute("SELECT 1")
                return
            cursor.execute("SET statement_timeout = 50")
            cursor.execute("SELECT pg_sleep(1)")

    committer = GroupCommit(write)
    try:
        committer.submit(["fine"])  # connects; the connection is now a reused one
        with pytest.raises(django.db.OperationalError) as cancelled:
            committer.submit(["stuck"])
    finally:
        committer.stop()
    assert "statement timeout" in str(cancelled.value)
    assert tries == [[["fine"]], [["stuck"]]]  # written once, not again on a fresh connection
