"""How times and durations read in timeline messages, notices and e-mails: one wording."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def fmt(at: dt.datetime) -> str:
    """A moment as people read it on the timeline: ``2026-01-31 14:05 UTC``."""
    return timezone.localtime(at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def duration_words(delta: dt.timedelta | None) -> str:
    """``1 hour``, ``2 hours``, ``15 minutes``, ``1 minute``; whole hours read as hours.

    ``None`` (no such duration configured) reads as ``-``.
    """
    if delta is None:
        return "-"
    minutes = int(delta.total_seconds() // 60)
    if minutes and minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour" + ("s" if hours != 1 else "")
    return f"{minutes} minute" + ("s" if minutes != 1 else "")
