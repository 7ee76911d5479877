"""PostgreSQL and Redis checks (runbook 2.3, 5.1, 5.3, Appendix A)."""

from __future__ import annotations

import json

from nexusops.integrations.postgres_checks import PostgresChecks
from nexusops.integrations.redis_checks import INFO_SECTIONS, RedisChecks

from . import REMEDIATION, ActionSpec, Outcome, Param, Progress, register, text_table
from .config import missing


def _pg_missing() -> str:
    return missing("REMEDIATION_POSTGRES_URL")


def _redis_missing() -> str:
    return missing("REMEDIATION_REDIS_URL")


def _connections(params: dict, progress: Progress) -> Outcome:
    found = PostgresChecks.from_settings().connections()
    rows = [{"state": k, "count": v} for k, v in found["by_state"].items()]
    return Outcome(
        f"{found['total']} of {found['max_connections']} connections in use ({found['percent']}%)",
        text_table(rows, ["state", "count"]),
        found,
    )


def _long_queries(params: dict, progress: Progress) -> Outcome:
    rows = PostgresChecks.from_settings().long_running_queries(limit=params["limit"])
    longest = f", longest {rows[0]['seconds']} s" if rows else ""
    return Outcome(
        f"{len(rows)} active queries{longest}",
        text_table(rows, ["pid", "user", "database", "state", "seconds", "query"]),
        {"queries": rows},
    )


def _top_statements(params: dict, progress: Progress) -> Outcome:
    found = PostgresChecks.from_settings().top_statements(limit=params["limit"])
    if not found["available"]:
        return Outcome(
            "pg_stat_statements is not installed in this database: no statement statistics",
            data=found,
        )
    rows = found["statements"]
    return Outcome(
        f"top {len(rows)} statements by mean time",
        text_table(rows, ["mean_ms", "calls", "total_ms", "rows", "query"]),
        found,
    )


PID = Param("pid", "Backend pid", "int", min=1, max=2**31 - 1)


def _terminate_preview(params: dict) -> str:
    backend = PostgresChecks.from_settings().backend(params["pid"])
    if backend is None:
        return f"No backend with pid {params['pid']}: nothing would be terminated."
    return (
        f"Terminate backend {backend['pid']} ({backend['user']}@{backend['database']}, "
        f"{backend['state']}, {round(backend['seconds'] or 0, 1)} s): {backend['query']}\n"
        "Its open transaction is rolled back."
    )


def _terminate(params: dict, progress: Progress) -> Outcome:
    done = PostgresChecks.from_settings().terminate_backend(params["pid"])
    verb = "terminated" if done["terminated"] else "could not terminate"
    return Outcome(f"{verb} backend {done['pid']}", data=done)


def _ping(params: dict, progress: Progress) -> Outcome:
    done = RedisChecks.from_settings().ping()
    return Outcome(f"PONG from {done['where']}" if done["pong"] else "no PONG", data=done)


def _info(params: dict, progress: Progress) -> Outcome:
    found = RedisChecks.from_settings().info(params["section"])
    words = ", ".join(f"{k}={v}" for k, v in found["highlights"].items())
    return Outcome(
        f"INFO {found['section']}: {words or 'see output'}"[:480],
        json.dumps(found["info"], indent=2, default=str),
        {"section": found["section"], "highlights": found["highlights"]},
    )


def _llen(params: dict, progress: Progress) -> Outcome:
    found = RedisChecks.from_settings().queue_length(params["queue"])
    return Outcome(f"{found['queue']} holds {found['length']} items", data=found)


def _flush_preview(params: dict) -> str:
    checks = RedisChecks.from_settings()
    return f"FLUSHDB on {checks.where}: remove all {checks.dbsize()} keys of that database."


def _flush(params: dict, progress: Progress) -> Outcome:
    done = RedisChecks.from_settings().flushdb()
    return Outcome(f"flushed {done['where']}: {done['keys_removed']} keys removed", data=done)


LIMIT = Param("limit", "How many", "int", default=10, min=1, max=100)
for spec in (
    ActionSpec(
        "pg.connections", "Active connections", "postgres", _connections, _pg_missing,
        description="SELECT count(*) FROM pg_stat_activity, against max_connections",
    ),
    ActionSpec(
        "pg.long_queries", "Longest-running queries", "postgres", _long_queries, _pg_missing,
        params=(LIMIT,), description="active queries in pg_stat_activity, longest first",
    ),
    ActionSpec(
        "pg.top_statements", "Slowest statements", "postgres", _top_statements, _pg_missing,
        params=(LIMIT,), description="pg_stat_statements by mean time, when installed",
    ),
    ActionSpec(
        "pg.terminate_backend", "Terminate a backend", "postgres", _terminate, _pg_missing,
        params=(PID,), permission=REMEDIATION, dangerous=True, preview=_terminate_preview,
        description="SELECT pg_terminate_backend(pid)",
    ),
    ActionSpec(
        "redis.ping", "Redis PING", "redis", _ping, _redis_missing, description="redis-cli PING"
    ),
    ActionSpec(
        "redis.info", "Redis INFO", "redis", _info, _redis_missing,
        params=(Param("section", "Section", "choice", default="stats", choices=INFO_SECTIONS),),
        description="redis-cli INFO stats / memory",
    ),
    ActionSpec(
        "redis.llen", "Queue length", "redis", _llen, _redis_missing,
        params=(Param("queue", "Queue", default="email_queue"),),
        description="redis-cli LLEN email_queue",
    ),
    ActionSpec(
        "redis.flushdb", "FLUSHDB", "redis", _flush, _redis_missing,
        permission=REMEDIATION, dangerous=True, preview=_flush_preview,
        description="empty the configured Redis database (use with caution)",
    ),
):  # fmt: skip
    register(spec)
