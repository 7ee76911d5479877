"""Stand-ins, a throwaway PostgreSQL database and Redis db, and one worker per module.

The stand-in fixtures are those of ``tests/remediation_integrations`` (imported, not copied).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
import redis

from tests.remediation_integrations.conftest import (  # noqa: F401 - fixtures
    ARGOCD_TOKEN,
    K8S_TOKEN,
    Standin,
    argocd_standin,
    closed_port,
    k8s_standin,
    moto_url,
)
from tests.support.worker import WorkerProcess, test_database_url

PG_SERVER = os.environ.get("REMEDIATION_TEST_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
REDIS_DB = int(os.environ.get("REMEDIATION_TEST_REDIS_DB", "12"))


def _redis_url() -> str:
    return f"redis://127.0.0.1:6379/{REDIS_DB}"


@pytest.fixture(scope="session")
def checks_db() -> Iterator[str]:
    """A database of its own, never the suite's: what the checks and the backup look at."""
    name = f"nexusops_rem_checks_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_SERVER}/{name}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE widgets (id serial PRIMARY KEY, label text NOT NULL)")
        conn.execute("INSERT INTO widgets (label) VALUES ('sprocket'), ('gear')")
    yield url
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_db() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(_redis_url())
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def remediation_settings(settings, k8s_standin, argocd_standin, moto_url, checks_db):  # noqa: F811
    """Point this process (the web side) at the stand-ins, as the worker is."""
    values = _env(k8s_standin, argocd_standin, moto_url, checks_db)
    for name, value in values.items():
        if not name.startswith("AWS_ACCESS") and not name.startswith("AWS_SECRET"):
            setattr(settings, name, value)
    k8s_standin.reset()
    argocd_standin.reset()
    import requests

    requests.post(f"{moto_url}/moto-api/reset", timeout=5).raise_for_status()
    return settings


def _env(k8s_standin, argocd_standin, moto_url, checks_db) -> dict[str, str]:  # noqa: F811
    return {
        "KUBERNETES_API_URL": k8s_standin.url,
        "KUBERNETES_TOKEN": K8S_TOKEN,
        "KUBERNETES_NAMESPACE": "nexus-production",
        "ARGOCD_URL": argocd_standin.url,
        "ARGOCD_TOKEN": ARGOCD_TOKEN,
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "REMEDIATION_POSTGRES_URL": checks_db,
        "REMEDIATION_REDIS_URL": _redis_url(),
        "BACKUP_BUCKET": "nexus-backups",
    }


@pytest.fixture(scope="module")
def remediation_worker(
    django_db_setup,
    django_db_blocker,
    k8s_standin,  # noqa: F811
    argocd_standin,  # noqa: F811
    moto_url,  # noqa: F811
    checks_db,
) -> Iterator[WorkerProcess]:
    """One real worker for a module's tests, on the remediation queue, pointed at the stand-ins."""
    env = _env(k8s_standin, argocd_standin, moto_url, checks_db)
    with django_db_blocker.unblock():
        assert test_database_url()
    worker = WorkerProcess(queues="default,remediation", extra_env=env).start()
    try:
        with django_db_blocker.unblock():
            _await(worker)
        yield worker
    finally:
        worker.stop()


def _await(worker: WorkerProcess) -> None:
    worker.await_ready(timeout=60)
