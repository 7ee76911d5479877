"""Add a handler to the engine's tables for the length of a test (our own code, not a vendor's)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from nexusops.engine import events


@contextmanager
def extra_handler(
    kind: type | None = None, fn: Callable | None = None, *, timer: str | None = None
) -> Iterator[None]:
    """``extra_handler(SlaBreached, fn)`` for an event; ``extra_handler(fn=f, timer="k")`` for a
    timer kind. Undone when the block ends."""
    table = events.Table(
        app="tests",
        handlers={kind: (fn,)} if kind is not None else {},
        timers={timer: fn} if timer is not None else {},
    )
    original = events.tables
    events.tables = lambda: (*original(), table)
    try:
        yield
    finally:
        events.tables = original
