"""A sliding-window rate limiter for stand-ins, so they answer 429 where the vendor would.

Each bucket (a method, or a method and a channel) allows ``limit`` calls per ``window``
seconds; beyond that :meth:`RateLimiter.take` returns the whole seconds to wait, which a
stand-in sends as ``Retry-After``. ``window=None`` switches limiting off.
"""

from __future__ import annotations

import math
import time
from collections import deque


class RateLimiter:
    def __init__(self, window: float | None) -> None:
        self.window = window
        self._calls: dict[str, deque[float]] = {}

    def clear(self) -> None:
        self._calls = {}

    def take(self, bucket: str, limit: int) -> int | None:
        """Count one call in ``bucket``; None if allowed, else seconds until it would be."""
        if self.window is None:
            return None
        now = time.monotonic()
        calls = self._calls.setdefault(bucket, deque())
        while calls and calls[0] <= now - self.window:
            calls.popleft()
        if len(calls) >= limit:
            return max(1, math.ceil(calls[0] + self.window - now))
        calls.append(now)
        return None
