"""The timer sweep's locking and bookkeeping helpers (``timers`` explains the lock order)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

from django.conf import settings
from django.db import connection, models
from django.db.models import Q

from nexusops.common.errors import has_sqlstate

from .models import Timer

logger = logging.getLogger("nexusops.engine.timers")
# SQLSTATEs that mean "someone else holds it", not "this handler is broken": lock_not_available
# (our lock timeout), deadlock_detected, serialization_failure. They cost no attempt.
CONTENTION = {"55P03", "40P01", "40001"}
_unknown_logged: set[str] = set()  # kinds this process has said it cannot handle


def due(now: dt.datetime) -> Q:
    return Q(
        due_at__lte=now,
        fired_at__isnull=True,
        cancelled_at__isnull=True,
        dead_at__isnull=True,
    ) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


def batches(
    picked: list[tuple[int, int | None]], size: int
) -> Iterator[list[tuple[int, int | None]]]:
    """``picked`` in due order, cut into batches of at most ``size`` with one timer per
    subject; a subject's next timer waits for the next batch, a timer with no subject goes
    alone."""
    waiting = list(picked)
    while waiting:
        batch: list[tuple[int, int | None]] = []
        later: list[tuple[int, int | None]] = []
        subjects: set[int] = set()
        for pk, subject_id in waiting:
            if subject_id is None and not batch:
                batch.append((pk, subject_id))
                break
            if subject_id is None or subject_id in subjects or len(batch) >= size:
                later.append((pk, subject_id))
                continue
            batch.append((pk, subject_id))
            subjects.add(subject_id)
        rest = waiting[len(batch) + len(later) :]
        waiting = later + rest
        yield batch


def subject_model() -> type[models.Model]:
    # The engine knows no domain: the subject is whatever the timer's foreign key points at.
    return Timer._meta.get_field("incident").related_model


def lock_subject_if_free(pk: int) -> models.Model | None:
    """The subject, locked, or ``None`` if someone holds it (``SKIP LOCKED``) or it is gone."""
    return (
        # of=self: the joined severity row is shared by every incident of its level;
        # locking it too would serialise all firings.
        subject_model()
        .objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("severity")
        .filter(pk=pk)
        .first()
    )


def lock_subjects_if_free(pks: list[int]) -> list[models.Model]:
    """Those of the subjects no one holds, locked (``SKIP LOCKED``), in one statement."""
    return list(
        subject_model()
        .objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("severity")
        .filter(pk__in=pks)
        .order_by("pk")
    )


def bound_lock_waits() -> None:
    """A sweep waits at most this long for any lock, then gives way (module docstring)."""
    if connection.vendor == "postgresql":
        ms = int(getattr(settings, "TIMERS_LOCK_TIMEOUT_MS", 500))
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = {ms}")


def contention(exc: BaseException) -> bool:
    return has_sqlstate(exc, CONTENTION)


def log_unknown_kinds(now: dt.datetime, kinds: set[str]) -> None:
    unknown = set(
        Timer.objects.filter(due(now))
        .exclude(kind__in=kinds)
        .order_by()  # the model's ordering would make every due row distinct
        .values_list("kind", flat=True)
        .distinct()
    )
    for kind in sorted(unknown - _unknown_logged):
        _unknown_logged.add(kind)
        logger.warning(
            "due timers of kind %r have no handler in this process; left due for a process "
            "that has one (an older or newer worker?)",
            kind,
        )
