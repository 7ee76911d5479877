"""The PostgreSQL and Redis check adapters against the real servers (throwaway db / db number)."""

from __future__ import annotations

import pytest

from nexusops.integrations.errors import NotConfigured, VendorRejected, VendorUnavailable
from nexusops.integrations.postgres_checks import PostgresChecks
from nexusops.integrations.redis_checks import RedisChecks

pytestmark = pytest.mark.postgres


def test_postgres_checks(checks_db):
    checks = PostgresChecks(checks_db)
    found = checks.connections()
    assert found["total"] >= 1 and found["max_connections"] > 0
    assert checks.top_statements() == {"available": False, "statements": []}
    assert checks.backend(2**31 - 1) is None
    with pytest.raises(VendorRejected, match="no backend"):
        checks.terminate_backend(2**31 - 1)
    with pytest.raises(VendorRejected, match="pid"):
        checks.terminate_backend(0)


def test_postgres_sessions_are_read_only(checks_db):
    checks = PostgresChecks(checks_db)
    with pytest.raises(VendorRejected, match="read-only"):
        checks._rows("writing", "INSERT INTO widgets (label) VALUES ('nope')")


def test_postgres_unconfigured_and_unreachable(closed_port, settings):
    settings.REMEDIATION_POSTGRES_URL = ""
    with pytest.raises(NotConfigured, match="REMEDIATION_POSTGRES_URL"):
        PostgresChecks.from_settings()
    with pytest.raises(VendorUnavailable):
        PostgresChecks(f"postgres://postgres@127.0.0.1:{closed_port}/x").connections()


def test_redis_checks(redis_db):
    checks = RedisChecks(redis_db.connection_pool.connection_kwargs and "redis://127.0.0.1:6379/"
                         + str(redis_db.connection_pool.connection_kwargs["db"]))  # fmt: skip
    redis_db.rpush("email_queue", "x", "y")
    redis_db.set("plain", "1")
    assert checks.ping()["pong"] is True
    assert checks.queue_length("email_queue") == {"queue": "email_queue", "length": 2}
    with pytest.raises(VendorRejected, match="not a list"):
        checks.queue_length("plain")
    with pytest.raises(VendorRejected, match="not valid"):
        checks.queue_length("bad key with spaces")
    assert "keyspace_hits" in checks.info("stats")["highlights"]
    assert checks.flushdb()["keys_removed"] == 2 and redis_db.dbsize() == 0


def test_redis_unconfigured_and_unreachable(closed_port, settings):
    settings.REMEDIATION_REDIS_URL = ""
    with pytest.raises(NotConfigured, match="REMEDIATION_REDIS_URL"):
        RedisChecks.from_settings()
    with pytest.raises(VendorUnavailable, match="cannot reach Redis"):
        RedisChecks(f"redis://127.0.0.1:{closed_port}/0", timeout=1).ping()
