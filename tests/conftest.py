from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings
from django.db import connection

from nexusops.common.roles import roles_sync
from tests.support.worker import WorkerProcess

CHROMIUM = "/usr/bin/chromium"
# Fixtures shared across folders: vendor stand-ins, Playwright driving Chromium, NEXUS SSO.
pytest_plugins = [
    "tests.support.standin_fixtures",
    "tests.support.standins_process",
    "tests.support.browser_fixtures",
    "tests.support.idp_fixtures",
]


def _is_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(config, items):
    require_pg = os.environ.get("NEXUSOPS_REQUIRE_POSTGRES") == "1"
    require_browser = os.environ.get("NEXUSOPS_REQUIRE_BROWSER") == "1"
    if require_pg and not _is_postgres():
        raise pytest.UsageError("NEXUSOPS_REQUIRE_POSTGRES=1 but DATABASE_URL is not PostgreSQL")
    if require_browser and not os.path.exists(CHROMIUM):
        raise pytest.UsageError(f"NEXUSOPS_REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL or start it on :5432")
    skip_browser = pytest.mark.skip(reason=f"needs Debian's chromium at {CHROMIUM}")
    for item in items:
        if "postgres" in item.keywords and not _is_postgres():
            item.add_marker(skip_pg)
        if "browser" in item.keywords and not os.path.exists(CHROMIUM):
            item.add_marker(skip_browser)


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    # PBKDF2 costs ~100 ms a user; the suite creates hundreds. Production keeps the default.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Throttle and rate-limit counters live in the (local-memory) cache: start each test with
    none, so one test's requests never count against the next one's."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _fresh_log_context():
    """Each test starts with no request id or incident in its log lines (a service called
    outside a request binds the incident it declared for the rest of the thread)."""
    from nexusops.common import logs

    token = logs.start()
    yield
    logs.end(token)


@pytest.fixture(autouse=True)
def _alert_writer_stopped():
    """A webhook outside a test transaction starts the process's alert writer thread, with a
    connection of its own: end it after the test, so no session outlives the test database."""
    yield
    from alerts.services.ingest import writer

    writer.stop()


@pytest.fixture(scope="session", autouse=True)
def _clean_broker():
    """Start every run with an empty test broker, so no stale message runs against new rows."""
    url = settings.CELERY_BROKER_URL
    if url.startswith("redis://"):
        import redis

        redis.Redis.from_url(url).flushdb()
    elif url.startswith("filesystem://"):
        shutil.rmtree(settings.CELERY_BROKER_FOLDER, ignore_errors=True)
        for sub in ("queue", "processed"):
            (settings.CELERY_BROKER_FOLDER / sub).mkdir(parents=True, exist_ok=True)
    yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # Role groups are created by post_migrate; make sure they hold the current grants.
    with django_db_blocker.unblock():
        roles_sync()
    yield


@pytest.fixture
def celery_worker(transactional_db):
    """A real worker process on the test broker and the test database.

    Tests that use it write with committed transactions (``transactional_db``) so the worker
    sees their rows.
    """
    worker = WorkerProcess().start()
    try:
        _await_ready(worker)
        yield worker
    finally:
        worker.stop()


def _await_ready(worker: WorkerProcess) -> None:
    worker.await_ready()


@pytest.fixture
def db_vendor() -> str:
    return connection.vendor
