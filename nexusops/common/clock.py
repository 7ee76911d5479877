"""The one place the code asks what time it is, so tests can move time deliberately.

Services call ``clock.now()``; a test freezes or advances it with :func:`frozen`. Outside a
test it is ``django.utils.timezone.now()`` (UTC).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

from django.utils import timezone

_override: list[dt.datetime] = []


def now() -> dt.datetime:
    return _override[-1] if _override else timezone.now()


@contextlib.contextmanager
def frozen(at: dt.datetime) -> Iterator[_Handle]:
    if timezone.is_naive(at):
        raise ValueError("frozen() needs an aware datetime")
    _override.append(at)
    try:
        yield _Handle()
    finally:
        _override.pop()


class _Handle:
    def advance(self, **delta: float) -> dt.datetime:
        _override[-1] = _override[-1] + dt.timedelta(**delta)
        return _override[-1]

    def set(self, at: dt.datetime) -> dt.datetime:
        _override[-1] = at
        return at
