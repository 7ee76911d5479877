"""The runbook's Redis checks (2.3, 5.1, 5.3, Appendix A) through redis-py, not ``redis-cli``.

Setting (``getattr(settings, NAME, "")``, then the environment): ``REMEDIATION_REDIS_URL``,
``redis://host:6379/0`` (the database number in the URL is the one FLUSHDB empties).

To add a check: one method that calls ``self._call(what, fn, ...)`` and returns plain data.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings

from nexusops.integrations.errors import NotConfigured, VendorRejected, VendorUnavailable

VENDOR = "redis"
SETTING = "REMEDIATION_REDIS_URL"
INFO_SECTIONS = ("stats", "memory", "clients", "server", "keyspace", "replication")
_KEY = re.compile(r"[A-Za-z0-9_:.\-]{1,200}")
_MEMORY_FIELDS = (
    "used_memory_human",
    "used_memory_peak_human",
    "maxmemory_human",
    "maxmemory_policy",
    "mem_fragmentation_ratio",
)
_STATS_FIELDS = (
    "total_connections_received",
    "total_commands_processed",
    "instantaneous_ops_per_sec",
    "rejected_connections",
    "expired_keys",
    "evicted_keys",
    "keyspace_hits",
    "keyspace_misses",
)


class InvalidArgument(VendorRejected):
    def __init__(self, message: str) -> None:
        super().__init__(message, vendor=VENDOR, code="invalid")


def _setting(name: str) -> str:
    return str(getattr(settings, name, "") or os.environ.get(name, "") or "")


class RedisChecks:
    """One Redis database. Build it with :meth:`from_settings`."""

    def __init__(self, url: str, *, timeout: float = 3.0) -> None:
        if not url:
            raise NotConfigured(f"set {SETTING} (redis://host:6379/N)", vendor=VENDOR)
        import redis  # here, not at start-up: registering the actions must not load it

        try:
            self._redis = redis.Redis.from_url(
                url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=None
            )
        except ValueError as exc:
            raise NotConfigured(f"{SETTING} is not a Redis URL: {exc}", vendor=VENDOR) from exc
        kwargs = self._redis.connection_pool.connection_kwargs
        self.where = f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"

    @classmethod
    def from_settings(cls) -> RedisChecks:
        return cls(_setting(SETTING))

    def _call(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        import redis

        try:
            return fn(*args)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise VendorUnavailable(
                f"cannot reach Redis at {self.where} while {what}: {exc}", vendor=VENDOR
            ) from exc
        except redis.RedisError as exc:
            raise VendorRejected(f"{what}: {exc}", vendor=VENDOR) from exc

    def ping(self) -> dict[str, Any]:
        return {"where": self.where, "pong": bool(self._call("sending PING", self._redis.ping))}

    def info(self, section: str = "stats") -> dict[str, Any]:
        """``INFO <section>``; for stats and memory, the fields the runbook looks at first."""
        if section not in INFO_SECTIONS:
            raise InvalidArgument(f"section must be one of {', '.join(INFO_SECTIONS)}")
        found = self._call(f"reading INFO {section}", self._redis.info, section)
        picked = {"stats": _STATS_FIELDS, "memory": _MEMORY_FIELDS}.get(section)
        highlights = {k: found[k] for k in picked or () if k in found}
        return {"section": section, "highlights": highlights, "info": found}

    def queue_length(self, queue: str) -> dict[str, Any]:
        """``LLEN <queue>`` (runbook 5.3: ``email_queue``)."""
        _key(queue)
        kind = self._call(f"reading the type of {queue}", self._redis.type, queue)
        kind = kind.decode() if isinstance(kind, bytes) else str(kind)
        if kind not in ("list", "none"):
            raise InvalidArgument(f"{queue} is a {kind}, not a list")
        return {"queue": queue, "length": int(self._call(f"LLEN {queue}", self._redis.llen, queue))}

    def dbsize(self) -> int:
        return int(self._call("counting keys", self._redis.dbsize))

    def flushdb(self) -> dict[str, Any]:
        """``FLUSHDB`` of the configured database only (dangerous)."""
        before = self.dbsize()
        self._call("flushing the database", self._redis.flushdb)
        return {"where": self.where, "keys_removed": before}


def _key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InvalidArgument(f"queue name {key!r} is not valid: 1-200 letters, digits and _ : . -")
    return key
