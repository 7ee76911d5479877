"""A small fixed-window counter in the cache, for public forms that DRF's throttles don't see."""

from __future__ import annotations

import time

from axes.helpers import get_client_ip_address
from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The caller's address, read the way the sign-in lockout reads it (proxy-aware)."""
    return get_client_ip_address(request) or request.META.get("REMOTE_ADDR", "") or "unknown"


def allow(scope: str, who: str, *, limit: int, window_seconds: int) -> bool:
    """Count one hit for ``who`` in ``scope``; False once more than ``limit`` in the window."""
    bucket = int(time.time() // window_seconds)
    key = f"ratelimit:{scope}:{who}:{bucket}"
    cache.add(key, 0, timeout=window_seconds + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_seconds + 1)
        count = 1
    return count <= limit
