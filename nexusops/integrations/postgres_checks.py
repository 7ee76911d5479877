"""The runbook's PostgreSQL checks (2.3, Appendix A) through psycopg, not ``psql``.

Every session is opened read-only (``default_transaction_read_only=on``) with short connect
and statement timeouts, whatever role the DSN names; the one write-like call,
:meth:`PostgresChecks.terminate_backend`, is a function call a read-only session may make
(it needs ``pg_signal_backend`` or superuser on the server).

Setting (``getattr(settings, NAME, "")``, then the environment): ``REMEDIATION_POSTGRES_URL``,
``postgres://user:pass@host:5432/db``.

To add a check: one method that calls ``self._rows(what, sql, params)`` and returns plain data.
"""

from __future__ import annotations

import os
from typing import Any

import psycopg
from django.conf import settings
from psycopg.rows import dict_row

from nexusops.integrations.errors import NotConfigured, VendorRejected, VendorUnavailable

VENDOR = "postgres"
SETTING = "REMEDIATION_POSTGRES_URL"


class InvalidArgument(VendorRejected):
    def __init__(self, message: str) -> None:
        super().__init__(message, vendor=VENDOR, code="invalid")


def _setting(name: str) -> str:
    return str(getattr(settings, name, "") or os.environ.get(name, "") or "")


class PostgresChecks:
    """One database server, read-only. Build it with :meth:`from_settings`."""

    def __init__(self, dsn: str, *, connect_timeout: int = 3, statement_timeout_ms: int = 10_000):
        if not dsn:
            raise NotConfigured(f"set {SETTING} (a read-only postgres:// URL)", vendor=VENDOR)
        self._dsn = dsn
        self._kwargs: dict[str, Any] = {
            "connect_timeout": connect_timeout,
            "options": f"-c default_transaction_read_only=on "
            f"-c statement_timeout={int(statement_timeout_ms)}",
            "application_name": "nexusops-remediation",
            "autocommit": True,
        }

    @classmethod
    def from_settings(cls) -> PostgresChecks:
        return cls(_setting(SETTING))

    def _rows(self, what: str, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        try:
            with psycopg.connect(self._dsn, row_factory=dict_row, **self._kwargs) as conn:
                return list(conn.execute(sql, params).fetchall())
        except psycopg.OperationalError as exc:
            raise VendorUnavailable(f"{what}: {exc}".strip(), vendor=VENDOR) from exc
        except psycopg.Error as exc:
            raise VendorRejected(f"{what}: {exc}".strip(), vendor=VENDOR) from exc

    def connections(self) -> dict[str, Any]:
        """``SELECT count(*) FROM pg_stat_activity`` against ``max_connections``, by state."""
        rows = self._rows(
            "counting connections",
            "SELECT coalesce(state, 'background') AS state, count(*) AS n "
            "FROM pg_stat_activity GROUP BY 1 ORDER BY 2 DESC",
        )
        limit = int(
            self._rows("reading max_connections", "SHOW max_connections")[0]["max_connections"]
        )
        total = sum(r["n"] for r in rows)
        return {
            "total": total,
            "max_connections": limit,
            "percent": round(100.0 * total / limit, 1) if limit else None,
            "by_state": {r["state"]: r["n"] for r in rows},
        }

    def long_running_queries(self, limit: int = 10, min_seconds: float = 0.0) -> list[dict]:
        """Active queries, longest first (Appendix A, "check active queries")."""
        if not isinstance(limit, int) or not 1 <= limit <= 100:
            raise InvalidArgument("limit must be between 1 and 100")
        rows = self._rows(
            "listing active queries",
            "SELECT pid, usename AS user, datname AS database, state, "
            "extract(epoch FROM now() - query_start)::float AS seconds, "
            "left(query, 500) AS query FROM pg_stat_activity "
            "WHERE state <> 'idle' AND pid <> pg_backend_pid() AND query_start IS NOT NULL "
            "AND now() - query_start >= make_interval(secs => %s) "
            "ORDER BY query_start LIMIT %s",
            (float(min_seconds), limit),
        )
        return [{**r, "seconds": round(r["seconds"] or 0.0, 1)} for r in rows]

    def top_statements(self, limit: int = 10) -> dict[str, Any]:
        """Top of ``pg_stat_statements`` by mean time, when the extension is installed."""
        if not isinstance(limit, int) or not 1 <= limit <= 100:
            raise InvalidArgument("limit must be between 1 and 100")
        installed = self._rows(
            "looking for pg_stat_statements",
            "SELECT 1 AS present FROM pg_extension WHERE extname = 'pg_stat_statements'",
        )
        if not installed:
            return {"available": False, "statements": []}
        rows = self._rows(
            "reading pg_stat_statements",
            "SELECT calls, round(mean_exec_time::numeric, 2)::float AS mean_ms, "
            "round(total_exec_time::numeric, 2)::float AS total_ms, rows, "
            "left(query, 500) AS query FROM pg_stat_statements "
            "ORDER BY mean_exec_time DESC LIMIT %s",
            (limit,),
        )
        return {"available": True, "statements": rows}

    def backend(self, pid: int) -> dict[str, Any] | None:
        """One backend as ``pg_stat_activity`` shows it, or None."""
        _pid(pid)
        rows = self._rows(
            f"reading backend {pid}",
            "SELECT pid, usename AS user, datname AS database, state, "
            "extract(epoch FROM now() - query_start)::float AS seconds, "
            "left(query, 500) AS query FROM pg_stat_activity WHERE pid = %s",
            (pid,),
        )
        return rows[0] if rows else None

    def terminate_backend(self, pid: int) -> dict[str, Any]:
        """``SELECT pg_terminate_backend(pid)`` (dangerous: its transaction is rolled back)."""
        _pid(pid)
        if self.backend(pid) is None:
            raise VendorRejected(f"no backend with pid {pid}", vendor=VENDOR, code="not_found")
        done = self._rows(
            f"terminating backend {pid}", "SELECT pg_terminate_backend(%s) AS done", (pid,)
        )
        return {"pid": pid, "terminated": bool(done and done[0]["done"])}


def _pid(pid: int) -> int:
    if not isinstance(pid, int) or isinstance(pid, bool) or not 1 <= pid <= 2**31 - 1:
        raise InvalidArgument("pid must be a positive whole number")
    return pid
